//! Typed client for the Tencent Cloud IM (Chat) server REST API.
//!
//! This is the crate applications depend on. It puts together the
//! hand-written core (`tim-core`: [`Client`], UserSig, transport, retries,
//! rate limiting, errors) and the API generated from the YAML specs
//! (`tim-api`, re-exported as [`api`]), so both are reached from one place:
//! `tim_runtime::Client`, `tim_runtime::api::openim::admin_set_msg_read::Request`.
//!
//! # Quick start
//!
//! ```no_run
//! use tim_runtime::api::openim::sendmsg;
//! use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};
//! use tim_runtime::{Client, Region};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder(1_400_000_000, "administrator", std::env::var("TIM_SECRET_KEY")?)
//!     .region(Region::Singapore)
//!     .build()?;
//! // Required fields are `new`'s arguments, optional ones setters; the
//! // request is checked against its spec before anything is sent.
//! let hello = [MsgBodyElem::Text(TIMTextElem::new().text("hello"))];
//! let sent = client.call(&sendmsg::Request::new("bob", 1, hello).from_account("alice")).await?;
//! println!("sent as {}", sent.msg_key.unwrap_or_default());
//! # Ok(())
//! # }
//! ```
//!
//! Each endpoint module (`api::<service>::<command>`) has `Request`,
//! `Response`, `Error` (its documented codes) and `META`; callbacks are in
//! [`api::callbacks`] (feature `callbacks`), their verification in
//! [`callback`]. Features: one per service (all on by default), `server`
//! (requests also deserialize, responses also serialize, and the
//! `api::ENDPOINTS` table for calls by path), `axum` (a callback router),
//! `reqwest` and `native-roots` (transports), `test-util` (benchmark entry
//! points).

#![warn(missing_docs)]

#[doc(inline)]
pub use tim_api as api;

#[cfg(feature = "axum")]
pub mod callback_axum;
#[doc(inline)]
pub use tim_core::*;
