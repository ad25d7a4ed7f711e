//! One callback (webhook) and its reply decisions.

use std::path::PathBuf;

use serde_json::Value;

use super::ty::Field;

/// One callback: `specs/callbacks/<Area>/<Name>.yaml`, resolved.
#[derive(Debug, Clone)]
pub struct Callback {
    /// File it came from (as displayed in errors).
    pub file: PathBuf,
    /// First part of the command (`C2C`).
    pub area: String,
    /// Second part of the command (`CallbackBeforeSendMsg`).
    pub name: String,
    /// The `CallbackCommand` (`C2C.CallbackBeforeSendMsg`).
    pub command: String,
    /// One-line title.
    pub title: String,
    /// When Tencent sends it and what it is for.
    pub description: String,
    /// Before or after the event.
    pub kind: CallbackKind,
    /// Where the facts come from.
    pub source: String,
    /// Remarks about choices made where the docs are unclear.
    pub note: Option<String>,
    /// What the documentation lacks, when its page is incomplete.
    pub partial: Option<String>,
    /// Documented thresholds (no codes).
    pub limits: Vec<super::Limit>,
    /// Body fields besides `CallbackCommand`.
    pub payload: Vec<Field>,
    /// Reply fields besides the envelope.
    pub reply: Vec<Field>,
    /// Documented reply decisions, in spec order (before-callbacks).
    pub decisions: Vec<Decision>,
    /// Documented bodies and replies; the first is the canonical sample.
    pub samples: Vec<CallbackSample>,
}

impl Callback {
    /// Rust module name within its area module (`before_send_msg`).
    pub fn module_name(&self) -> String {
        crate::names::snake(self.short_name())
    }

    /// Rust module name of its area (`c2c`).
    pub fn area_module(&self) -> String {
        crate::names::snake(&self.area)
    }

    /// Variant of the generated `Callback` enum (`C2cBeforeSendMsg`).
    pub fn variant_name(&self) -> String {
        format!("{}{}", crate::names::camel(&self.area), crate::names::camel(self.short_name()))
    }

    /// The name without the `Callback` prefix most commands carry.
    fn short_name(&self) -> &str {
        self.name.strip_prefix("Callback").filter(|s| !s.is_empty()).unwrap_or(&self.name)
    }
}

/// Whether Tencent waits for the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKind {
    /// The reply decides what happens.
    Before,
    /// The reply is only an acknowledgement.
    After,
}

/// What a decision does to the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Goes ahead, possibly modified.
    Allow,
    /// Refused; the user gets an error.
    Deny,
    /// Dropped; the sender is told it succeeded.
    Drop,
}

/// One documented reply decision: a constructor of the callback's `Reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Constructor name.
    pub name: String,
    /// What the decision does.
    pub doc: String,
    /// Its effect.
    pub effect: Effect,
    /// The `ErrorCode`, or the inclusive range the app picks from.
    pub codes: (i64, i64),
    /// Whether the app picks the code (`codes:` in the spec).
    pub ranged: bool,
    /// For a denial: the error the user who caused the event gets.
    pub caller_error: Option<i64>,
    /// Reply fields (wire names) the constructor takes, in spec order.
    pub fields: Vec<String>,
}

/// A documented callback body and, optionally, a reply to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackSample {
    /// What the sample shows.
    pub name: String,
    /// The body, including `CallbackCommand`.
    pub payload: Value,
    /// The body as compact JSON, keys in spec order.
    pub payload_json: String,
    /// The body as indented JSON, keys in spec order.
    pub payload_json_pretty: String,
    /// The reply, if documented.
    pub reply: Option<Value>,
}
