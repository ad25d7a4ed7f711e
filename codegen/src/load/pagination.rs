//! The `pagination:` block: every field it names exists, with a type it can page by.

use std::collections::BTreeMap;

use super::check::{resolve, Checker};
use crate::model::spec::{PaginationSpec, SeqSpec};
use crate::model::{Endpoint, Field, Pagination, SharedType, Type};

/// What a named field must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Int,
    /// A string or an integer.
    Cursor,
    Array,
}

impl Want {
    fn describe(self) -> &'static str {
        match self {
            Want::Int => "an integer",
            Want::Cursor => "a string or an integer",
            Want::Array => "an array",
        }
    }
}

fn fits(ty: &Type, want: Want) -> bool {
    matches!(
        (ty, want),
        (Type::Int { .. }, Want::Int | Want::Cursor)
            | (Type::String { .. }, Want::Cursor)
            | (Type::Array { .. }, Want::Array)
    )
}

impl Checker<'_> {
    /// Resolves the block against the endpoint's fields.
    pub(super) fn pagination(
        &mut self,
        spec: &PaginationSpec,
        endpoint: &Endpoint,
        types: &BTreeMap<String, SharedType>,
    ) -> Pagination {
        let pos = self.loc.key("pagination");
        let find = |c: &mut Self, fields: &[Field], side: &str, name: &str, at: &str, want: Want| {
            let Some(f) = fields.iter().find(|f| f.wire == name) else {
                c.err(
                    pos,
                    format!("pagination.{at}"),
                    format!("`{name}` is not a {side} field of this endpoint"),
                );
                return None;
            };
            if !fits(resolve(&f.ty, types), want) {
                c.err(pos, format!("pagination.{at}"), format!("`{name}` is not {}", want.describe()));
                return None;
            }
            Some(f.clone())
        };
        let mut items = Vec::new();
        let names = spec.items.names();
        if names.is_empty() {
            self.err(pos, "pagination.items".to_owned(), "names no field".into());
        }
        for name in names {
            if let Some(f) = find(self, &endpoint.response, "reply", name, "items", Want::Array) {
                let item = match resolve(&f.ty, types) {
                    Type::Array { items, .. } => (**items).clone(),
                    _ => Type::Json,
                };
                items.push((f, item));
            }
        }
        let req = &endpoint.request;
        let resp = &endpoint.response;
        let page_size =
            spec.page_size.as_ref().and_then(|n| find(self, req, "request", n, "page_size", Want::Int));
        let offset = spec.offset.as_ref().and_then(|n| find(self, req, "request", n, "offset", Want::Int));
        let total = spec.total.as_ref().and_then(|n| find(self, resp, "reply", n, "total", Want::Int));
        let mut cursors = Vec::new();
        for (i, c) in spec.cursors.iter().enumerate() {
            let at = format!("cursors[{i}]");
            let r = find(self, req, "request", &c.request, &format!("{at}.request"), Want::Cursor);
            let p = find(self, resp, "reply", &c.reply, &format!("{at}.reply"), Want::Cursor);
            if let (Some(r), Some(p)) = (r, p) {
                let string = |f: &Field| matches!(resolve(&f.ty, types), Type::String { .. });
                if string(&r) != string(&p) {
                    self.err(
                        pos,
                        format!("pagination.{at}"),
                        format!("`{}` and `{}` must both be strings or both integers", c.request, c.reply),
                    );
                } else {
                    cursors.push((r, p));
                }
            }
        }
        let item_fields = match items.as_slice() {
            [(_, item)] => match resolve(item, types) {
                Type::Object(o) => o.fields.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let seq = |c: &mut Self, spec: &Option<SeqSpec>, key: &str| {
            let b = spec.as_ref()?;
            let r = find(c, req, "request", &b.request, &format!("{key}.request"), Want::Int)?;
            let f = find(c, &item_fields, "single item list's", &b.item, &format!("{key}.item"), Want::Int)?;
            Some((r, f))
        };
        let before = seq(self, &spec.before, "before");
        let after = seq(self, &spec.after, "after");
        let done = spec.done.as_ref().and_then(|d| {
            let f = find(self, resp, "reply", &d.field, "done.field", Want::Int)?;
            Some((f, d.value))
        });
        if offset.is_none() && cursors.is_empty() && before.is_none() && after.is_none() {
            self.err(
                pos,
                "pagination".to_owned(),
                "names no `offset`, `cursors`, `before` or `after`: nothing tells the next page from this one"
                    .into(),
            );
        }
        if total.is_some() && offset.is_none() {
            self.err(pos, "pagination.total".to_owned(), "`total` counts items against an `offset`".into());
        }
        Pagination { items, page_size, offset, total, cursors, before, after, done }
    }
}
