//! Callbacks (webhooks): Tencent's servers POST to the app's URL before and
//! after events.
//!
//! - [`verify`]: is the request from Tencent (sign, time window, app)?
//!   Checked on the raw query before the body is parsed.
//! - [`event`]: the contract with the generated code (`tim_api::callbacks`):
//!   parsed callbacks, typed payloads, replies and their decisions.

pub mod event;
pub mod verify;

pub use event::{
    fail_body, CallbackKind, CallbackMeta, CallbackParseError, CallbackPayload, CallbackReply, CallbackSet,
    DecisionEffect, DecisionError, DecisionMeta,
};
pub use verify::{CallbackAuthError, CallbackVerifier, DEFAULT_TOLERANCE};
