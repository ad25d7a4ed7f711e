//! Conformance suite and spec-driven mock server for the Tencent IM client.
//!
//! [`MockServer`] is a local stand-in for the REST service that downstream
//! crates can use in their own tests; the tests of this crate replay the
//! recorded [`fixtures`] against it. Given a callback URL
//! ([`MockConfig::callbacks`]), it also sends the callbacks (webhooks) the
//! REST calls trigger, signed, and obeys the before-callbacks' replies; see
//! [`MockServer::callbacks`]. With the `strategies` feature,
//! `strategies` gives proptest strategies derived from the specs.

pub mod emulator;
pub mod fixtures;
pub mod load;
mod mock;
#[cfg(feature = "strategies")]
pub mod strategies;

pub use fixtures::Fixture;
pub use mock::{
    AppliedDecision, CallbackResponse, CallbackUrlError, EmittedCallback, Fault, MockConfig, MockServer,
    Outcome, RecordedRequest, DEFAULT_CALLBACK_TIMEOUT,
};
