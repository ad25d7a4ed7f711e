//! Error codes: variant names, roles, catch-all marks, shared tables.

use std::collections::{BTreeMap, HashSet};

use super::check::Checker;
use crate::error::SpecError;
use crate::model::spec::{ErrorSpec, ErrorTableSpec};
use crate::model::{ErrorCode, ErrorTable};
use crate::names::{camel, error_role, is_camel_ident, ERROR_ROLES};

/// `fields` entry marking the catch-all code for an invalid request.
const CATCH_ALL: &str = "*";

impl Checker<'_> {
    /// An endpoint's own codes; `context` is their dotted path (`errors`).
    pub(super) fn error_codes(&mut self, errors: &[ErrorSpec], context: &str) -> Vec<ErrorCode> {
        let (mut codes, mut names) = (HashSet::new(), HashSet::new());
        let mut out = Vec::new();
        for e in errors {
            let pos = self.loc.next("code", &e.code.to_string());
            let field = format!("{context}.{}", e.code);
            if !codes.insert(e.code) {
                self.err(pos, field.clone(), "duplicate error code".into());
            }
            if e.code == 0 {
                self.err(pos, field.clone(), "0 means success, not an error".into());
            }
            let role = e.role.as_deref().and_then(|r| {
                let role = error_role(r);
                if role.is_none() {
                    self.err(
                        pos,
                        format!("{context}.{}.role", e.code),
                        format!("unknown error role `{r}` (known: {})", known_roles()),
                    );
                }
                role
            });
            let code = error_code(e, role);
            if !is_camel_ident(&code.name) || code.name == "Unknown" {
                self.err(pos, field.clone(), format!("`{}` is not a usable variant name", code.name));
            } else if !names.insert(code.name.clone()) {
                self.err(pos, field, format!("duplicate error name `{}`", code.name));
            }
            out.push(code);
        }
        out
    }
}

fn error_code(e: &ErrorSpec, role: Option<crate::model::ErrorRole>) -> ErrorCode {
    ErrorCode {
        code: e.code,
        name: e.name.clone().unwrap_or_else(|| format!("Code{}", e.code)),
        meaning: e.meaning.clone(),
        retryable: e.retryable,
        fields: e.fields.iter().filter(|f| *f != CATCH_ALL).cloned().collect(),
        catch_all: e.fields.iter().any(|f| f == CATCH_ALL),
        role,
    }
}

/// The tables of `shared/errors.yaml`.
pub(super) fn shared_tables(
    tables: &BTreeMap<String, ErrorTableSpec>,
    errors: &mut Vec<SpecError>,
) -> BTreeMap<String, ErrorTable> {
    let problem = |field: String, message: String| SpecError {
        file: "shared/errors.yaml".into(),
        line: 0,
        column: 0,
        field: Some(field),
        message,
    };
    let mut out = BTreeMap::new();
    for (name, table) in tables {
        if !is_camel_ident(&camel(name)) {
            errors.push(problem(name.clone(), "table names must be snake_case words".into()));
        }
        let mut codes = Vec::new();
        for e in &table.codes {
            let role = e.role.as_deref().and_then(|r| {
                let role = error_role(r);
                if role.is_none() {
                    errors.push(problem(
                        format!("{name}.{}.role", e.code),
                        format!("unknown error role (known: {})", known_roles()),
                    ));
                }
                role
            });
            codes.push(error_code(e, role));
        }
        out.insert(name.clone(), ErrorTable { doc: table.doc.clone(), codes });
    }
    out
}

fn known_roles() -> String {
    ERROR_ROLES.iter().map(|(r, _)| *r).collect::<Vec<_>>().join(", ")
}
