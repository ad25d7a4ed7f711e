//! Hand-written core of the Tencent Cloud IM (Chat) server API client.
//!
//! Everything that signs, sends, throttles, retries and decodes lives here
//! and sees an endpoint only through the traits and tables of [`endpoint`].
//! The endpoints themselves are generated from the YAML specs: the shipped
//! ones in `tim-api`, a crate's own with `tim_codegen_macros::generate!`.
//! Most users depend on `tim-runtime`, which re-exports this crate and the
//! shipped API.

#![warn(missing_docs)]
pub mod batch;
#[cfg(feature = "test-util")]
pub mod bench_support;
pub mod callback;
pub mod client;
pub mod dynamic;
pub mod endpoint;
pub mod error;
pub mod lenient;
pub mod paginate;
pub mod query;
pub mod rate_limit;
// Generated from `specs/shared/regions.yaml` and formatted by prettyplease;
// rustfmt must not reformat it, or the staleness check would fail.
#[rustfmt::skip]
mod region;
mod reply;
mod retry;
mod setting;
pub mod settings;
pub mod transport;
pub mod usersig;

#[cfg(test)]
mod test_support;

pub use batch::{BatchReport, Batched, FailedItem};
pub use callback::{CallbackAuthError, CallbackReceiver, CallbackVerifier};
pub use client::{Client, ClientBuilder};
pub use dynamic::{DynApiError, EndpointEntry, FieldInfo, RequestError};
pub use endpoint::{
    ApiErrorKind, ApiRequest, AppliedLimit, BatchMeta, EndpointMeta, ErrorMeta, ErrorRole, GroupTypeSupport,
    LimitMeta, PaginationMeta, RateLimit, RateLimitMeta, RateUnits, UnknownCode, Validate, ValidationError,
};
pub use error::{ConfigError, Error, TransportError};
pub use paginate::{Paginated, Paginator};
pub use rate_limit::{LocalRateLimiter, RateLimiter};
#[cfg(feature = "redis")]
pub use rate_limit::{RedisLimiterError, RedisRateLimiter};
pub use region::Region;
pub use settings::{Setting, Settings};
pub use transport::{HttpRequest, HttpResponse, HyperTransport, Transport};
pub use usersig::{UserSigError, UserSigKey, VerifiedSig};

/// Re-exports used by generated code; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;

    pub use crate::lenient;
}

/// Checks, in code from `tim_codegen_macros::generate!`, that serde's derive
/// macros are on (the core's `derive` feature), with a message saying how to
/// turn them on instead of a wall of "cannot find derive macro" errors.
#[cfg(feature = "derive")]
#[doc(hidden)]
#[macro_export]
macro_rules! __require_derive {
    () => {};
}

/// See the `derive` variant above.
#[cfg(not(feature = "derive"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __require_derive {
    () => {
        ::core::compile_error!(
            "code from tim_codegen_macros::generate! needs serde's derive macros: \
             depend on tim-core with `features = [\"derive\"]`"
        );
    };
}
