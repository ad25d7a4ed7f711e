//! Typed client for the Tencent Cloud IM (Chat) server REST API.
//!
//! This is the crate applications depend on. It puts together the
//! hand-written core (`tim-core`: [`Client`], UserSig, transport, retries,
//! rate limiting, errors) and the API generated from the YAML specs
//! (`tim-api`, re-exported as [`api`]), so both are reached from one place:
//! `tim_runtime::Client`, `tim_runtime::api::openim::admin_set_msg_read::Request`.

#![warn(missing_docs)]
pub use tim_api as api;

#[cfg(feature = "axum")]
pub mod callback_axum;
pub use tim_core::*;
