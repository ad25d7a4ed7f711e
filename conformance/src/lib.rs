//! Conformance suite and spec-driven mock server for the Tencent IM client.
//!
//! [`MockServer`] is a local stand-in for the REST service that downstream
//! crates can use in their own tests; the tests of this crate replay the
//! recorded [`fixtures`] against it.

pub mod fixtures;
mod mock;

pub use fixtures::Fixture;
pub use mock::{Fault, MockConfig, MockServer, Outcome, RecordedRequest};
