//! A hand-written [`CallbackSet`] of two commands, standing in for the
//! generated one in unit tests.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{CallbackKind, CallbackMeta, CallbackParseError, CallbackPayload, CallbackSet};
use super::testing::meta;

pub(crate) const APP: u64 = 1_400_000_000;
pub(crate) const TOKEN: &str = "xxxxyyyy";
pub(crate) const BEFORE: &str = "C2C.CallbackBeforeSendMsg";
pub(crate) const AFTER: &str = "C2C.CallbackAfterSendMsg";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BeforeSendMsg {
    #[serde(rename = "From_Account")]
    pub from: String,
    #[serde(rename = "To_Account")]
    pub to: String,
    #[serde(rename = "MsgBody")]
    pub body: Vec<Value>,
}

impl CallbackPayload for BeforeSendMsg {
    const META: &'static CallbackMeta = &meta(BEFORE, CallbackKind::Before);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AfterSendMsg {
    #[serde(rename = "From_Account")]
    pub from: String,
    #[serde(rename = "MsgTime")]
    pub time: u64,
}

impl CallbackPayload for AfterSendMsg {
    const META: &'static CallbackMeta = &meta(AFTER, CallbackKind::After);
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TestCallback {
    Before(Box<BeforeSendMsg>),
    After(Box<AfterSendMsg>),
    Unknown { command: String, body: Value },
}

impl CallbackSet for TestCallback {
    fn parse(command: &str, body: &[u8]) -> Result<Self, CallbackParseError> {
        Ok(match command {
            BEFORE => Self::Before(Box::new(CallbackParseError::parse(command, body)?)),
            AFTER => Self::After(Box::new(CallbackParseError::parse(command, body)?)),
            _ => {
                Self::Unknown { command: command.to_owned(), body: CallbackParseError::parse(command, body)? }
            }
        })
    }

    fn command(&self) -> &str {
        match self {
            Self::Before(_) => BEFORE,
            Self::After(_) => AFTER,
            Self::Unknown { command, .. } => command,
        }
    }

    fn meta(&self) -> Option<&'static CallbackMeta> {
        match self {
            Self::Before(_) => Some(BeforeSendMsg::META),
            Self::After(_) => Some(AfterSendMsg::META),
            Self::Unknown { .. } => None,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Before(p) => serde_json::to_value(p).unwrap_or_default(),
            Self::After(p) => serde_json::to_value(p).unwrap_or_default(),
            Self::Unknown { body, .. } => body.clone(),
        }
    }
}

pub(crate) fn before() -> BeforeSendMsg {
    BeforeSendMsg {
        from: "alice".into(),
        to: "bob".into(),
        body: vec![serde_json::json!({"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}})],
    }
}

pub(crate) fn after() -> AfterSendMsg {
    AfterSendMsg { from: "alice".into(), time: 1_669_872_112 }
}
