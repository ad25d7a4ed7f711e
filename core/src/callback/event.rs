//! The contract between generated callback code and the hand-written
//! receiver: what a parsed callback, a typed payload and a reply are.
//!
//! `tim-api` implements [`CallbackSet`] for its generated `Callback` enum and
//! [`CallbackPayload`] for each payload struct; a before-callback's typed
//! `Reply` converts into the one reply type the receiver sends,
//! [`CallbackReply`].

use std::fmt;

use serde_json::{Map, Value};

/// Whether Tencent waits for the app's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    /// Sent before the event takes effect: the reply allows, denies or
    /// modifies it. Tencent waits up to 2 s, then goes ahead as if allowed.
    Before,
    /// Sent after the event (or about a state change): the reply is only an
    /// acknowledgement.
    After,
}

impl CallbackKind {
    /// `before` or `after`, as the specs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackKind::Before => "before",
            CallbackKind::After => "after",
        }
    }
}

/// What a documented reply decision does to the event (before-callbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionEffect {
    /// The event goes ahead, possibly with fields the reply replaced.
    Allow,
    /// The event is refused; the user who caused it gets an error.
    Deny,
    /// The event is dropped but its sender is told it succeeded.
    Drop,
}

/// One documented reply decision of a before-callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecisionMeta {
    /// Name of the reply constructor (`allow`, `deny`, `drop_silently`).
    pub name: &'static str,
    /// `ErrorCode` of the reply, or the inclusive range the app picks from.
    pub codes: (i64, i64),
    /// What the decision does.
    pub effect: DecisionEffect,
    /// The error the user who caused the event gets on a deny, when the docs name one.
    pub caller_error: Option<i64>,
    /// Reply fields (wire names) the decision fills in.
    pub fields: &'static [&'static str],
}

/// Static description of one callback, generated from its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackMeta {
    /// `CallbackCommand` value, e.g. `C2C.CallbackBeforeSendMsg`.
    pub command: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Before or after the event.
    pub kind: CallbackKind,
    /// Documented reply decisions (before-callbacks), in spec order.
    pub decisions: &'static [DecisionMeta],
    /// What the documentation lacks, when its page is incomplete.
    pub partial: Option<&'static str>,
    /// Documented thresholds (e.g. when the callback is sent).
    pub limits: &'static [crate::endpoint::LimitMeta],
}

impl DecisionMeta {
    /// A decision as the generated code describes it.
    pub const fn new(
        name: &'static str,
        codes: (i64, i64),
        effect: DecisionEffect,
        caller_error: Option<i64>,
        fields: &'static [&'static str],
    ) -> Self {
        Self { name, codes, effect, caller_error, fields }
    }
}

impl CallbackMeta {
    /// A callback as the generated code describes it.
    pub const fn new(
        command: &'static str,
        title: &'static str,
        kind: CallbackKind,
        decisions: &'static [DecisionMeta],
        partial: Option<&'static str>,
    ) -> Self {
        Self { command, title, kind, decisions, partial, limits: &[] }
    }

    /// Sets the documented thresholds; used by generated code.
    #[doc(hidden)]
    pub const fn limits(self, limits: &'static [crate::endpoint::LimitMeta]) -> Self {
        Self { limits, ..self }
    }

    /// The documented threshold named `name`.
    pub fn limit(&self, name: &str) -> Option<&'static crate::endpoint::LimitMeta> {
        self.limits.iter().find(|l| l.name == name)
    }

    /// The decision an `ErrorCode` in a reply stands for: an exact code
    /// first, then a range; `None` for a code the docs do not give.
    pub fn decision_for(&self, code: i64) -> Option<&'static DecisionMeta> {
        self.decisions
            .iter()
            .find(|d| d.codes.0 == code && d.codes.1 == code && d.fields.is_empty())
            .or_else(|| self.decisions.iter().find(|d| (d.codes.0..=d.codes.1).contains(&code)))
    }
}

/// A typed callback payload (the body without `CallbackCommand`).
pub trait CallbackPayload: serde::Serialize + serde::de::DeserializeOwned {
    /// The callback this payload belongs to.
    const META: &'static CallbackMeta;
}

/// Every callback a receiver understands: implemented by the generated
/// `Callback` enum, which keeps commands it does not know instead of
/// rejecting them.
pub trait CallbackSet: Sized + Send + 'static {
    /// Parses a body that has already been verified. `command` comes from
    /// the query (`CallbackCommand`); an unknown command is kept, not
    /// rejected, but a known command with a malformed body is an error.
    fn parse(command: &str, body: &[u8]) -> Result<Self, CallbackParseError>;
    /// The `CallbackCommand`.
    fn command(&self) -> &str;
    /// The static description, `None` for a command the specs do not type.
    fn meta(&self) -> Option<&'static CallbackMeta>;
    /// The payload as JSON (for an unknown command, the body as received).
    fn to_json(&self) -> Value;
    /// Whether the specs type this command.
    fn is_known(&self) -> bool {
        self.meta().is_some()
    }
    /// Whether Tencent waits for the reply to decide; an unknown command is
    /// treated as an after-callback, since nothing is known of its replies.
    fn kind(&self) -> CallbackKind {
        self.meta().map_or(CallbackKind::After, |m| m.kind)
    }
}

/// A callback body that does not fit its command's payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackParseError {
    /// The `CallbackCommand`.
    pub command: String,
    /// Dotted path of the offending field (`MsgBody[0].MsgType`), empty for the whole body.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CallbackParseError {
    /// Parses `body` as `T`, naming the field that fails.
    pub fn parse<T: serde::de::DeserializeOwned>(command: &str, body: &[u8]) -> Result<T, Self> {
        let err = |field: String, reason: String| Self { command: command.to_owned(), field, reason };
        let mut de = serde_json::Deserializer::from_slice(body);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            err(field, e.into_inner().to_string())
        })?;
        de.end().map_err(|e| err(String::new(), e.to_string()))?;
        Ok(value)
    }
}

impl fmt::Display for CallbackParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "bad `{}` body: {}", self.command, self.reason)
        } else {
            write!(f, "bad `{}` body at `{}`: {}", self.command, self.field, self.reason)
        }
    }
}

impl std::error::Error for CallbackParseError {}

/// An `ErrorCode` outside the range a decision allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionError {
    /// The decision (reply constructor) asked for.
    pub decision: &'static str,
    /// The code given.
    pub code: i64,
    /// The inclusive range the docs allow.
    pub range: (i64, i64),
}

impl fmt::Display for DecisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: ErrorCode {} is outside the documented range {}..={}",
            self.decision, self.code, self.range.0, self.range.1
        )
    }
}

impl std::error::Error for DecisionError {}

/// The reply an app sends to a callback: the envelope (`ActionStatus`,
/// `ErrorCode`, `ErrorInfo`) and, for before-callbacks, the fields a decision
/// fills in. Typed replies (`Reply` of each before-callback) convert into it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackReply {
    /// `ErrorCode`: 0 allows; other values are the callback's decisions.
    pub error_code: i64,
    /// `ErrorInfo`, shown to the user on some denials.
    pub error_info: String,
    /// Reply fields besides the envelope, by wire name.
    pub fields: Map<String, Value>,
}

impl Default for CallbackReply {
    fn default() -> Self {
        Self::ok()
    }
}

impl CallbackReply {
    /// `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`: acknowledges an
    /// after-callback, allows a before-callback unchanged.
    pub fn ok() -> Self {
        Self { error_code: 0, error_info: String::new(), fields: Map::new() }
    }

    /// A reply with `code` and `info` and no other field.
    pub fn with_code(code: i64, info: impl Into<String>) -> Self {
        Self { error_code: code, error_info: info.into(), fields: Map::new() }
    }

    /// Adds or replaces one reply field.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: Value) -> Self {
        self.fields.insert(name.into(), value);
        self
    }

    /// The reply body. `ActionStatus` is always `OK`: a decision travels in
    /// `ErrorCode`; `FAIL` is for requests the receiver refused.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("ActionStatus".into(), Value::from("OK"));
        map.insert("ErrorCode".into(), Value::from(self.error_code));
        map.insert("ErrorInfo".into(), Value::from(self.error_info.clone()));
        for (k, v) in &self.fields {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(map)
    }

    /// [`to_json`](Self::to_json) as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }

    /// Reads a reply as Tencent would: `ErrorCode` is the authority (absent
    /// means 0), the other fields are kept. `None` when the body is not a
    /// JSON object or `ErrorCode` is not an integer.
    pub fn from_bytes(body: &[u8]) -> Option<Self> {
        let Value::Object(mut map) = serde_json::from_slice::<Value>(body).ok()? else {
            return None;
        };
        let error_code = match map.remove("ErrorCode") {
            None => 0,
            Some(v) => v.as_i64()?,
        };
        let error_info = match map.remove("ErrorInfo") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        map.remove("ActionStatus");
        Some(Self { error_code, error_info, fields: map })
    }
}

/// The body of a `FAIL` reply, for a request the receiver refused.
pub fn fail_body(reason: &str) -> Vec<u8> {
    let body = serde_json::json!({"ActionStatus": "FAIL", "ErrorCode": 1, "ErrorInfo": reason});
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_round_trips_and_keeps_decision_fields() {
        let r = CallbackReply::with_code(120001, "no").field("MsgBody", serde_json::json!([]));
        let back = CallbackReply::from_bytes(&r.to_bytes()).unwrap();
        assert_eq!(back, r);
        assert_eq!(CallbackReply::from_bytes(b"{}").unwrap(), CallbackReply::ok());
        assert!(CallbackReply::from_bytes(b"[1]").is_none());
        assert!(CallbackReply::from_bytes(br#"{"ErrorCode":"x"}"#).is_none());
    }

    #[test]
    fn parse_error_names_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct P {
            #[serde(rename = "MsgTime")]
            msg_time: u32,
        }
        let e = CallbackParseError::parse::<P>("X.Y", br#"{"MsgTime":"soon"}"#).unwrap_err();
        assert_eq!(e.field, "MsgTime");
        assert!(e.to_string().contains("X.Y"), "{e}");
        let e = CallbackParseError::parse::<P>("X.Y", br#"{"MsgTime":1} trailing"#).unwrap_err();
        assert!(e.field.is_empty());
    }

    #[test]
    fn decisions_prefer_exact_codes() {
        static D: [DecisionMeta; 3] = [
            DecisionMeta {
                name: "allow",
                codes: (0, 0),
                effect: DecisionEffect::Allow,
                caller_error: None,
                fields: &[],
            },
            DecisionMeta {
                name: "modify",
                codes: (0, 0),
                effect: DecisionEffect::Allow,
                caller_error: None,
                fields: &["MsgBody"],
            },
            DecisionMeta {
                name: "deny_with_code",
                codes: (120001, 130000),
                effect: DecisionEffect::Deny,
                caller_error: None,
                fields: &[],
            },
        ];
        let meta = CallbackMeta {
            command: "C.D",
            title: "",
            kind: CallbackKind::Before,
            decisions: &D,
            partial: None,
            limits: &[],
        };
        assert_eq!(meta.decision_for(0).unwrap().name, "allow");
        assert_eq!(meta.decision_for(125000).unwrap().name, "deny_with_code");
        assert!(meta.decision_for(7).is_none());
    }
}
