//! The Tencent Cloud IM (Chat) server REST API, generated from the YAML specs
//! in `specs/` by `cargo xtask codegen`: one module per service, one per
//! endpoint (`specs/<service>/<command>.yaml` becomes `<service>::<command>`,
//! in `src/generated/<service>/<command>.rs`), plus the shared `types` and
//! `errors`.
//!
//! Features: one per service (all on through the default `all-services`),
//! and `server` for the server side and calls by path: the `ENDPOINTS`
//! table, `Deserialize` for requests and `Serialize` for responses (without
//! it, requests only serialize and responses only deserialize).
//!
//! Nothing under `src/generated/` is edited by hand; change the specs or the
//! generator (`tim-codegen`) and regenerate. The code runs on `tim-core`;
//! most users depend on `tim-runtime`, which re-exports both.

#![warn(missing_docs)]

// Formatted by prettyplease; rustfmt must not reformat it, or the staleness
// check would fail.
#[rustfmt::skip]
mod generated;

pub use generated::*;
/// Regions live in the core (the client needs their hosts); re-exported here
/// so `tim_runtime::api::Region` keeps working.
pub use tim_core::Region;
