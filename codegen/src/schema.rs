//! The JSON Schema of the spec file formats, generated from the loader's own
//! types (`model::spec`), so editors complete keys and flag mistakes as a
//! maintainer types: each spec file names its schema on its first line
//! (`# yaml-language-server: $schema=../endpoint.schema.json`).
//! `cargo xtask codegen` writes the files into `specs/`; a test keeps them
//! fresh.

use crate::model::spec::{CallbackSpec, EndpointSpec};

/// File name of the endpoint spec schema, in `specs/`.
pub const ENDPOINT_SCHEMA: &str = "endpoint.schema.json";

/// File name of the callback spec schema, in `specs/`.
pub const CALLBACK_SCHEMA: &str = "callback.schema.json";

/// Each schema file (name in `specs/`) and its content.
pub fn files() -> Vec<(&'static str, String)> {
    let endpoint = schemars::schema_for!(EndpointSpec);
    let callback = schemars::schema_for!(CallbackSpec);
    let text = |s: &schemars::Schema| format!("{}\n", serde_json::to_string_pretty(s).unwrap_or_default());
    vec![(ENDPOINT_SCHEMA, text(&endpoint)), (CALLBACK_SCHEMA, text(&callback))]
}

/// The first line a spec file at `depth` directories below `specs/` starts
/// with to name its schema.
pub fn header(schema: &str, depth: usize) -> String {
    format!("# yaml-language-server: $schema={}{schema}", "../".repeat(depth))
}
