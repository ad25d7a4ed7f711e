//! Conformance suite, mock server and emulator for the Tencent IM client.
//!
//! [`MockServer`] is a local stand-in for the REST service that downstream
//! crates (and backends in any language, through `tim mock`) can test
//! against. By default it is an emulator: the endpoints of
//! [`emulator::stateful_paths`] answer from a state the calls change
//! (accounts, one-to-one and group messages with their unread counts,
//! conversations, groups, friends; see [`emulator::World`]), and the
//! documented rate limits apply. Every other endpoint, and every endpoint in
//! [`MockConfig::replay`] mode, checks the request against its spec and
//! replies with a queued fixture or the spec's sample; the tests of this
//! crate replay the recorded [`fixtures`] that way. Given a callback URL
//! ([`MockConfig::callbacks`]), the emulator also sends the callbacks
//! (webhooks) its state changes fire, signed, and obeys the
//! before-callbacks' replies; see [`MockServer::callbacks`]. [`load`] is a
//! many-client workload. With the `strategies` feature, `strategies` gives
//! proptest strategies derived from the specs.

pub mod emulator;
pub mod fixtures;
pub mod load;
mod mock;
#[cfg(feature = "strategies")]
pub mod strategies;

pub use fixtures::Fixture;
pub use mock::{
    AppliedDecision, CallbackResponse, CallbackUrlError, EmittedCallback, Fault, MockConfig, MockServer,
    Outcome, RecordedRequest, DEFAULT_CALLBACK_TIMEOUT, DEFAULT_LOG_LIMIT,
};
