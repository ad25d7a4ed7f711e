//! YAML text to the parsing layer ([`crate::model::spec`]), with positions.

use std::path::Path;

use crate::error::SpecError;

/// Parses `text`; a problem names the file, line, column and (when
/// `serde_yaml` knows it) the dotted path of the node.
pub(super) fn parse<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, SpecError> {
    serde_yaml::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        // serde_yaml's message starts with the dotted path of the node when it
        // has one ("request[0]: missing field `type` at line 3 column 5").
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        let (field, mut message) = match msg.split_once(": ") {
            Some((path, rest)) if !path.contains(' ') => (Some(path.to_owned()), rest.to_owned()),
            _ => (None, msg),
        };
        if split_flow_text(&message) {
            message.push_str(
                " (a comma inside `{...}` ends the value: quote text that has one, e.g. doc: \"a, b\")",
            );
        }
        SpecError { file: file.to_owned(), line, column, field, message }
    })
}

/// A problem with a whole file.
pub(super) fn file_error(file: &Path, message: String) -> SpecError {
    SpecError { file: file.to_owned(), line: 0, column: 0, field: None, message }
}

/// Whether an unknown-field message names a "key" that is really the rest of
/// an unquoted text cut at a comma in a flow mapping (`{doc: a, b.}`).
fn split_flow_text(message: &str) -> bool {
    let Some(rest) = message.strip_prefix("unknown field `") else { return false };
    let key = rest.split('`').next().unwrap_or_default();
    key.contains(' ') || key.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comma_in_unquoted_flow_text_gets_a_hint() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct F {
            doc: String,
        }
        let e = parse::<Vec<F>>(Path::new("x.yaml"), "- {doc: When, in milliseconds.}").unwrap_err();
        assert!(e.message.contains("quote text"), "{}", e.message);
        let e = parse::<Vec<F>>(Path::new("x.yaml"), "- {doc: ok, typo: 1}").unwrap_err();
        assert!(!e.message.contains("quote text"), "{}", e.message);
    }
}
