//! Callbacks (webhooks): Tencent's servers POST to the app's URL before and
//! after events.
//!
//! - [`verify`]: is the request from Tencent, for this app (`SdkAppid`,
//!   `Sign`, time window)? Checked on the raw query before the body is read.
//! - [`event`]: the contract with the generated code (`tim_api::callbacks`):
//!   parsed callbacks, typed payloads, replies and their decisions.
//! - [`receive`]: [`CallbackReceiver`], from an `http::Request` to the reply
//!   Tencent expects, for any framework (`tim_runtime::callback_axum` wraps
//!   it for axum); its pieces let other adapters stream the body.
//! - [`testing`]: signed requests as Tencent sends them, to test handlers
//!   without Tencent.
//!
//! Tencent waits 2 s for a reply and, for before-callbacks, goes ahead as if
//! allowed when none comes; the receiver answers in time on its own (the
//! fallback reply) rather than let a slow handler decide by silence.

pub mod event;
pub mod receive;
pub mod testing;
pub mod verify;

#[cfg(test)]
mod test_set;

/// The body type of the receiver's requests and responses, re-exported so
/// adapters and tests need not name `bytes` themselves.
pub use bytes::Bytes;
/// The request and response types the receiver takes and returns
/// (`http::Request<Bytes>`), re-exported for the same reason.
pub use http;

pub use event::{
    fail_body, CallbackKind, CallbackMeta, CallbackParseError, CallbackPayload, CallbackReply, CallbackSet,
    DecisionEffect, DecisionError, DecisionMeta,
};
pub use receive::{
    CallbackEvent, CallbackReceiver, CallbackReceiverBuilder, CallbackRejection, DEFAULT_DEADLINE,
    DEFAULT_MAX_BODY, TENCENT_TIMEOUT,
};
pub use verify::{
    compute_sign, CallbackAuthError, CallbackQuery, CallbackVerifier, Clock, DEFAULT_TOLERANCE,
};
