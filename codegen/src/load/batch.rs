//! The `batch:` block: a request list with a `max_len`, and the reply's per-item results.

use std::collections::BTreeMap;

use super::check::{resolve, Checker};
use crate::model::spec::BatchSpec;
use crate::model::{Batch, BatchResults, Endpoint, EnumValues, Field, SharedType, Type};

/// The fields of an object type (after shared names); empty for anything else.
fn object_fields(ty: &Type, types: &BTreeMap<String, SharedType>) -> Vec<Field> {
    match resolve(ty, types) {
        Type::Object(o) => o.fields.clone(),
        _ => Vec::new(),
    }
}

impl Checker<'_> {
    /// Resolves the block against the endpoint's fields.
    pub(super) fn batch(
        &mut self,
        spec: &BatchSpec,
        endpoint: &Endpoint,
        types: &BTreeMap<String, SharedType>,
    ) -> Batch {
        let pos = self.loc.key("batch");
        let bad = |c: &mut Self, at: &str, msg: String| c.err(pos, format!("batch.{at}"), msg);
        let field = endpoint.request.iter().find(|f| f.wire == spec.field).cloned();
        let (item, max) = match field.as_ref().map(|f| resolve(&f.ty, types)) {
            Some(Type::Array { items, len }) => match len.max {
                Some(max) if max > 0 => ((**items).clone(), max),
                _ => {
                    bad(
                        self,
                        "field",
                        format!("`{}` has no `max_len`: nothing says how to split it", spec.field),
                    );
                    ((**items).clone(), 1)
                }
            },
            Some(_) => {
                bad(self, "field", format!("`{}` is not an array", spec.field));
                (Type::Json, 1)
            }
            None => {
                bad(self, "field", format!("`{}` is not a top-level request field", spec.field));
                (Type::Json, 1)
            }
        };
        let item_is_string = matches!(resolve(&item, types), Type::String { .. });
        let string_field = |fields: &[Field], name: &str| {
            fields
                .iter()
                .find(|f| f.wire == name && matches!(resolve(&f.ty, types), Type::String { .. }))
                .cloned()
        };
        let key = match (&spec.key, item_is_string) {
            (None, true) => None,
            (Some(_), true) => {
                bad(self, "key", "the items are strings: they are their own key".into());
                None
            }
            (None, false) => {
                bad(
                    self,
                    "key",
                    format!(
                        "the items of `{}` are objects: name their string field that identifies them",
                        spec.field
                    ),
                );
                None
            }
            (Some(k), false) => {
                let found = string_field(&object_fields(&item, types), k);
                if found.is_none() {
                    bad(self, "key", format!("`{k}` is not a string field of the items"));
                }
                found
            }
        };
        let results = spec.results.as_ref().and_then(|r| {
            let list = endpoint.response.iter().find(|f| f.wire == r.list).cloned();
            let result_item = match list.as_ref().map(|f| resolve(&f.ty, types)) {
                Some(Type::Array { items, .. }) => (**items).clone(),
                _ => {
                    bad(self, "results.list", format!("`{}` is not an array field of the reply", r.list));
                    return None;
                }
            };
            let fields = object_fields(&result_item, types);
            let strings = matches!(resolve(&result_item, types), Type::String { .. });
            let key = match (&r.key, strings) {
                (None, true) => None,
                (Some(k), _) => {
                    let found = string_field(&fields, k);
                    if found.is_none() {
                        bad(self, "results.key", format!("`{k}` is not a string field of the results"));
                    }
                    found
                }
                (None, false) => {
                    bad(
                        self,
                        "results.key",
                        "the results are objects: name their field that identifies the item".into(),
                    );
                    None
                }
            };
            let code = r.code.as_ref().and_then(|c| {
                let f = fields.iter().find(|f| &f.wire == c).cloned();
                let integer = f.as_ref().is_some_and(|f| match resolve(&f.ty, types) {
                    Type::Int { .. } => true,
                    Type::Enum(e) => matches!(e.values, EnumValues::Integers(_)),
                    _ => false,
                });
                if !integer {
                    bad(self, "results.code", format!("`{c}` is not an integer field of the results"));
                    return None;
                }
                f
            });
            let info = r.info.as_ref().and_then(|i| {
                let found = string_field(&fields, i);
                if found.is_none() {
                    bad(self, "results.info", format!("`{i}` is not a string field of the results"));
                }
                found
            });
            if r.ok.is_some() && code.is_none() {
                bad(self, "results.ok", "`ok` lists values of `code`, which is not set".into());
            }
            Some(BatchResults { list: list?, key, code, info, ok: r.ok.clone().unwrap_or_else(|| vec![0]) })
        });
        let field = field.unwrap_or_else(|| Field {
            wire: spec.field.clone(),
            rust: String::new(),
            ty: Type::Json,
            required: false,
            doc: None,
            note: None,
            deprecated: None,
            lenient: false,
            aliases: Vec::new(),
        });
        Batch { field, item, max, key, results }
    }
}
