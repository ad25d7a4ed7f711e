//! Typed client for the Tencent Cloud IM (Chat) server REST API.
//!
//! The hand-written core (client, UserSig, regions, transport, retries, rate
//! limiting, errors) lives in the modules below; [`api`] is generated from the
//! YAML specs in `specs/` by `cargo xtask codegen` and must not be edited.

// Generated code names this crate by its absolute path so that the same code
// also compiles inside downstream crates that use the proc-macro front end.
extern crate self as tim_runtime;

// Generated and formatted by prettyplease; rustfmt must not reformat it, or
// the staleness check would fail.
#[rustfmt::skip]
pub mod api;
#[doc(hidden)]
pub mod bench_support;
pub mod client;
pub mod dynamic;
pub mod endpoint;
pub mod error;
mod rate_limit;
mod reply;
mod retry;
pub mod usersig;

#[cfg(test)]
mod test_support;

pub use api::Region;
pub use client::{Client, ClientBuilder, USERSIG_ERROR_CODES};
pub use dynamic::{DynApiError, EndpointEntry, RequestError};
pub use endpoint::{
    ApiErrorKind, ApiRequest, EndpointMeta, ErrorMeta, GroupTypeSupport, RateLimit, Validate, ValidationError,
};
pub use error::{ConfigError, Error, TransportError};
pub use usersig::{UserSigError, UserSigKey, VerifiedSig};

/// Re-exports used by generated code; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
