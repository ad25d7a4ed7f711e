//! The checked-in API matches the specs, and both front ends agree.

use std::path::{Path, PathBuf};

use tim_codegen::output::{files, inline_from_files, GeneratedFile};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn rendered() -> (tim_codegen::Rendered, Vec<GeneratedFile>) {
    let specs = root().join("specs");
    let set = tim_codegen::load_dir(&specs, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"));
    let rendered = tim_codegen::render_with(&set, tim_codegen::RenderOptions::SHIPPED);
    let files = files(&rendered).unwrap();
    (rendered, files)
}

/// Source-generation test in the rust-analyzer style: regenerate in memory and
/// compare with what is checked in (API modules, region enum, feature lists).
#[test]
fn checked_in_api_is_fresh() {
    let root = root();
    let layout = tim_codegen::output::Layout {
        api_dir: root.join("api/src/generated"),
        api_manifest: root.join("api/Cargo.toml"),
        facade_manifest: root.join("runtime/Cargo.toml"),
        region_file: root.join("core/src/region.rs"),
    };
    let report = tim_codegen::output::sync(&root.join("specs"), &layout, true).unwrap();
    assert!(
        report.stale.is_empty() && report.extra.is_empty(),
        "generated code is stale: {:?}, not produced by any spec: {:?}; run `cargo xtask codegen`",
        report.stale,
        report.extra
    );
}

#[test]
fn every_generated_file_has_the_header() {
    let (_, files) = rendered();
    for f in files {
        assert!(f.contents.starts_with("// @generated"), "{} lacks the @generated header", f.name);
    }
}

/// The proc-macro inlines `Rendered::inline()`; the xtask writes formatted files.
/// Parsing the files back must give the very same tokens.
#[test]
fn macro_and_file_front_ends_give_identical_tokens() {
    let (rendered, files) = rendered();
    let from_files = inline_from_files(&files).unwrap();
    let macro_tokens = rendered.inline();
    // Normalise both through one printer: formatting (trailing commas, raw vs
    // plain doc strings) is the only thing allowed to differ.
    let a = prettyplease::unparse(&syn::parse2(from_files).unwrap());
    let b = prettyplease::unparse(&syn::parse2(macro_tokens).unwrap());
    if a != b {
        let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
        panic!("front ends differ at line {line}: {:?} vs {:?}", a.lines().nth(line), b.lines().nth(line));
    }
}

#[test]
fn macro_expansion_tracks_every_spec_file() {
    let specs = root().join("specs");
    let tokens = tim_codegen::output::macro_expansion(&specs, Path::new("specs")).unwrap().to_string();
    assert!(tokens.contains("include_bytes"));
    assert!(tokens.contains("admin_set_msg_read.yaml"));
}

/// `sync` writes the nested layout, reports files no spec produces (in
/// subdirectories too) without touching them in check mode, and otherwise
/// removes them along with the directories they leave empty.
#[test]
fn sync_writes_nested_files_and_removes_extra_ones() {
    use std::fs;
    use tim_codegen::output::{sync, Layout, FEATURES_BEGIN, FEATURES_END};

    let specs = root().join("codegen/tests/golden/shared_type_across_files/specs");
    let dir = std::env::temp_dir().join(format!("tim-codegen-sync-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let manifest =
        format!("[package]\nname = \"x\"\n\n[features]\ndynamic = []\n{FEATURES_BEGIN}\n{FEATURES_END}\n");
    fs::write(dir.join("api.toml"), &manifest).unwrap();
    fs::write(dir.join("facade.toml"), &manifest).unwrap();
    let api = dir.join("generated");
    let layout = Layout {
        api_dir: api.clone(),
        api_manifest: dir.join("api.toml"),
        facade_manifest: dir.join("facade.toml"),
        region_file: dir.join("region.rs"),
    };

    let written = sync(&specs, &layout, false).unwrap();
    assert!(!written.stale.is_empty() && written.extra.is_empty(), "{written:?}");
    for file in
        ["mod.rs", "types.rs", "errors.rs", "group/mod.rs", "group/add_member.rs", "member/get_role.rs"]
    {
        assert!(api.join(file).is_file(), "{file} not written");
    }
    assert!(fs::read_to_string(dir.join("facade.toml")).unwrap().contains("dynamic = []\n"));
    let fresh = sync(&specs, &layout, true).unwrap();
    assert!(fresh.stale.is_empty() && fresh.extra.is_empty(), "{fresh:?}");

    fs::write(api.join("group/removed.rs"), "// gone\n").unwrap();
    fs::create_dir_all(api.join("gone")).unwrap();
    fs::write(api.join("gone/mod.rs"), "// gone\n").unwrap();
    let checked = sync(&specs, &layout, true).unwrap();
    assert_eq!(checked.extra, ["gone/mod.rs", "group/removed.rs"]);
    assert!(api.join("gone/mod.rs").is_file(), "check mode must not delete");

    let cleaned = sync(&specs, &layout, false).unwrap();
    assert_eq!(cleaned.extra, ["gone/mod.rs", "group/removed.rs"]);
    assert!(!api.join("group/removed.rs").exists() && !api.join("gone").exists());
    assert!(api.join("group/add_member.rs").is_file());
    fs::remove_dir_all(&dir).ok();
}

/// The JSON Schema of the spec formats is what the loader's types say, and
/// every endpoint and callback spec names it on its first line.
#[test]
fn spec_schemas_are_fresh_and_named_by_every_spec() {
    let specs = root().join("specs");
    for (name, content) in tim_codegen::schema::files() {
        let on_disk = std::fs::read_to_string(specs.join(name)).unwrap_or_default();
        assert!(on_disk == content, "specs/{name} is stale; run `cargo xtask codegen`");
    }
    let mut checked = 0;
    let mut dirs = vec![(specs.clone(), 0usize)];
    while let Some((dir, depth)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if path.is_dir() && name != "shared" {
                dirs.push((path, depth + 1));
            } else if depth > 0 && name.ends_with(".yaml") {
                let in_callbacks = path.starts_with(specs.join("callbacks"));
                let schema = if in_callbacks {
                    tim_codegen::schema::CALLBACK_SCHEMA
                } else {
                    tim_codegen::schema::ENDPOINT_SCHEMA
                };
                let first =
                    std::fs::read_to_string(&path).unwrap().lines().next().unwrap_or_default().to_owned();
                assert_eq!(first, tim_codegen::schema::header(schema, depth), "{}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "only {checked} spec files");
}

/// `specs/openapi.json` is what the specs say now.
#[test]
fn openapi_document_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let set = tim_codegen::load_dir(&root.join("specs"), Path::new("specs")).unwrap();
    let expected = tim_codegen::openapi::text(&set, env!("CARGO_PKG_VERSION"));
    let path = root.join("specs").join(tim_codegen::openapi::FILE);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(on_disk == expected, "{} is stale; run `cargo xtask codegen`", path.display());
    let doc: serde_json::Value = serde_json::from_str(&expected).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["paths"].as_object().unwrap().len(), set.endpoints.len());
    let sendmsg = &doc["paths"]["/v4/openim/sendmsg"]["post"];
    assert_eq!(sendmsg["x-rate-limit"], "200/s");
    let req = &doc["components"]["schemas"]["openim.sendmsg.Request"];
    assert!(req["required"].as_array().unwrap().contains(&serde_json::json!("To_Account")));
    assert_eq!(req["properties"]["MsgBody"]["$ref"], "#/components/schemas/MsgBody");
}

/// Set to `1` (CI does) to make a missing validator a failure instead of a skip.
const REQUIRE_VALIDATOR: &str = "TIM_REQUIRE_OPENAPI_VALIDATOR";

/// The document passes validators written by others (Python, from PyPI):
/// `openapi-spec-validator` for the document, `jsonschema` (Draft 2020-12)
/// for every sample request, reply and callback payload against its schema
/// in the document (`tests/openapi/check.py`).
#[test]
fn openapi_document_passes_independent_validators() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = root.join("../specs").join(tim_codegen::openapi::FILE);
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator, jsonschema, referencing"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let required = std::env::var(REQUIRE_VALIDATOR).is_ok_and(|v| v == "1");
        assert!(!required, "python3 with openapi-spec-validator is needed ({REQUIRE_VALIDATOR}=1)");
        eprintln!("openapi-spec-validator not installed (pip install openapi-spec-validator): skipping");
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(root.join("tests/openapi/check.py"))
        .arg(&doc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} fails the independent checks:\n{}{}",
        doc.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
