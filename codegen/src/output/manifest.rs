//! The generated part of a crate manifest: one cargo feature per service.

use crate::render::Rendered;

/// Marks the start of the generated feature lines in a manifest.
pub const FEATURES_BEGIN: &str = "# @generated service features: begin (cargo xtask codegen)";
/// Marks their end.
pub const FEATURES_END: &str = "# @generated service features: end";
/// The generated feature that turns every service on (service features are
/// snake_case, so this name never collides with one).
pub const ALL_SERVICES: &str = "all-services";

/// A manifest with the lines between [`FEATURES_BEGIN`] and [`FEATURES_END`]
/// rewritten for `rendered`: one feature per service module, and
/// [`ALL_SERVICES`] turning them all on. The `[features]` header and the
/// hand-written features (`default`, `server`, transport choices) sit
/// outside the markers, so regeneration leaves them alone. With `forward_to`,
/// each service feature turns on the feature of the same name in that
/// dependency (the facade crate forwards to the API crate).
pub fn manifest_with_features(
    manifest: &str,
    rendered: &Rendered,
    forward_to: Option<&str>,
) -> Result<String, String> {
    let (head, rest) =
        manifest.split_once(FEATURES_BEGIN).ok_or("manifest lacks the features begin marker")?;
    let (_, tail) = rest.split_once(FEATURES_END).ok_or("manifest lacks the features end marker")?;
    if !head.lines().any(|l| l.trim() == "[features]") {
        return Err("manifest lacks a `[features]` header above the features begin marker".into());
    }
    let quoted: Vec<String> = rendered.gated.iter().map(|g| format!("\"{g}\"")).collect();
    let mut block = format!("{FEATURES_BEGIN}\n{ALL_SERVICES} = [{}]\n", quoted.join(", "));
    for g in &rendered.gated {
        match forward_to {
            Some(dep) => block.push_str(&format!("{g} = [\"{dep}/{g}\"]\n")),
            None => block.push_str(&format!("{g} = []\n")),
        }
    }
    Ok(format!("{head}{block}{FEATURES_END}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(services: &[&str]) -> Rendered {
        Rendered {
            root: Default::default(),
            modules: Vec::new(),
            gated: services.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn hand_written_features_survive_regeneration() {
        let manifest = format!(
            "[package]\nname = \"x\"\n\n[features]\ndefault = [\"all-services\", \"reqwest\"]\n\
             server = [\"tim-api/server\"]\nreqwest = [\"tim-core/reqwest\"]\n\
             {FEATURES_BEGIN}\nall-services = [\"old\"]\nold = [\"tim-api/old\"]\n{FEATURES_END}\n\
             native-roots = []\n"
        );
        let new = manifest_with_features(&manifest, &rendered(&["openim", "sns"]), Some("tim-api")).unwrap();
        assert!(new.contains("default = [\"all-services\", \"reqwest\"]\n"), "{new}");
        assert!(
            new.contains("reqwest = [\"tim-core/reqwest\"]\n") && new.contains("native-roots = []\n"),
            "{new}"
        );
        assert!(
            new.contains("all-services = [\"openim\", \"sns\"]\nopenim = [\"tim-api/openim\"]\n"),
            "{new}"
        );
        assert!(!new.contains("old"), "{new}");
        assert_eq!(
            manifest_with_features(&new, &rendered(&["openim", "sns"]), Some("tim-api")).unwrap(),
            new
        );
    }

    #[test]
    fn features_header_must_sit_outside_the_markers() {
        let manifest = format!("[package]\n{FEATURES_BEGIN}\n[features]\n{FEATURES_END}\n");
        let err = manifest_with_features(&manifest, &rendered(&["openim"]), None).unwrap_err();
        assert!(err.contains("`[features]` header above"), "{err}");
    }
}
