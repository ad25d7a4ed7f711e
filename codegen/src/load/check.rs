//! The checker every resolving step runs in: it records problems with their
//! position and dotted field path, and keeps going after one, so that one run
//! reports every mistake in a file.
//!
//! Resolving steps always return a value; after a problem it is a stand-in
//! (e.g. [`Type::Json`](crate::model::Type::Json) for an unknown type), which
//! is never seen because a set with problems is not returned.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use super::locate::Locator;
use crate::error::SpecError;
use crate::model::spec::FieldSpec;
use crate::model::{SharedType, Type};
use crate::names::RESERVED_TYPE_NAMES;

/// Checks and resolves one spec file.
pub(super) struct Checker<'a> {
    pub file: &'a Path,
    /// Positions of nodes, found again in the file's text.
    pub loc: Locator<'a>,
    pub errors: &'a mut Vec<SpecError>,
    /// Names defined in `shared/types*.yaml`.
    pub shared_types: &'a BTreeSet<String>,
    /// Generated type names in the current module, to catch clashes.
    pub type_names: HashSet<String>,
    /// The shared types as written, so that an endpoint's error table may
    /// name the fields of the shared types its request uses.
    pub raw_shared: Option<&'a BTreeMap<String, FieldSpec>>,
}

impl<'a> Checker<'a> {
    pub fn new(
        file: &'a Path,
        text: &'a str,
        errors: &'a mut Vec<SpecError>,
        shared_types: &'a BTreeSet<String>,
    ) -> Self {
        Self {
            file,
            loc: Locator::new(text),
            errors,
            shared_types,
            type_names: HashSet::new(),
            raw_shared: None,
        }
    }

    pub fn err(&mut self, pos: (usize, usize), field: impl Into<Option<String>>, message: String) {
        self.errors.push(SpecError {
            file: self.file.to_owned(),
            line: pos.0,
            column: pos.1,
            field: field.into(),
            message,
        });
    }

    pub fn claim_type_name(&mut self, name: &str, pos: (usize, usize), field: &str) {
        if RESERVED_TYPE_NAMES.contains(&name) || !self.type_names.insert(name.to_owned()) {
            self.err(
                pos,
                field.to_owned(),
                format!("generated type name `{name}` is already used in this module; set `rust_name`"),
            );
        }
    }
}

/// `parent.name`, or `name` at the top.
pub(super) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// The last field name of a dotted path (`a.b[]` gives `b`).
pub(super) fn last_segment(path: &str) -> &str {
    let path = path.trim_end_matches("[]");
    path.rsplit('.').next().unwrap_or(path)
}

/// Follows shared-type names (resolved ones, in `types`) to the type they stand for.
pub(super) fn resolve<'t>(mut ty: &'t Type, types: &'t BTreeMap<String, SharedType>) -> &'t Type {
    for _ in 0..=types.len() {
        match ty {
            Type::Shared(name) => match types.get(name) {
                Some(t) => ty = &t.ty,
                None => return ty,
            },
            other => return other,
        }
    }
    ty
}
