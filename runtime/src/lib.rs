//! Typed client for the Tencent Cloud IM (Chat) server REST API.
//!
//! The hand-written core (client, UserSig, regions, transport, retries, rate
//! limiting, errors) lives in the modules below; [`api`] is generated from the
//! YAML specs in `specs/` by `cargo xtask codegen` and must not be edited.

// Generated code names this crate by its absolute path so that the same code
// also compiles inside downstream crates that use the proc-macro front end.
extern crate self as tim_runtime;

pub mod api;
pub mod endpoint;

pub use endpoint::{
    ApiErrorKind, ApiRequest, EndpointMeta, ErrorMeta, GroupTypeSupport, RateLimit, Validate,
    ValidationError,
};

/// Re-exports used by generated code; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
