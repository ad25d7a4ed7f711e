//! Hand-written endpoints and scripted replies shared by unit tests.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::{Client, ClientBuilder};

use crate::endpoint::{
    ApiErrorKind, ApiRequest, EndpointMeta, ErrorMeta, ErrorRole, RateLimit, Validate, ValidationError,
};
use crate::transport::{HttpResponse, ScriptedTransport};

pub(crate) const APPID: u64 = 1_400_000_001;
pub(crate) const SECRET: &str = "s3cr3t-key-for-tests-0123456789abcdef";

pub(crate) const ERRORS: &[ErrorMeta] = &[
    ErrorMeta {
        code: 60007,
        name: "Busy",
        meaning: "Rate limited, try again later",
        retryable: true,
        fields: &[],
        role: Some(ErrorRole::RateLimited),
    },
    ErrorMeta {
        code: 90001,
        name: "BadJson",
        meaning: "JSON parsing failed",
        retryable: false,
        fields: &["*"],
        role: Some(ErrorRole::InvalidJson),
    },
    ErrorMeta {
        code: 70001,
        name: "SigExpired",
        meaning: "UserSig expired",
        retryable: false,
        fields: &[],
        role: Some(ErrorRole::UserSigExpired),
    },
    ErrorMeta {
        code: 70009,
        name: "SigWrongKey",
        meaning: "UserSig signed with another key",
        retryable: false,
        fields: &[],
        role: Some(ErrorRole::UserSigWrongKey),
    },
];

pub(crate) const META_IDEM: EndpointMeta = EndpointMeta::new(
    "v4/test/echo",
    "Echo",
    RateLimit::per_second(10_000),
    true,
    ERRORS,
    &[],
    &[],
    "{}",
    "{}",
);
pub(crate) const META_ONCE: EndpointMeta = EndpointMeta::new(
    "v4/test/send",
    "Send",
    RateLimit::per_second(10_000),
    false,
    ERRORS,
    &[],
    &[],
    "{}",
    "{}",
);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Item {
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
}

impl Validate for Item {
    fn validate_at(&self, path: &str) -> Result<(), ValidationError> {
        if self.msg_key.is_empty() {
            return Err(ValidationError::new(format!("{path}.MsgKey"), "must not be empty"));
        }
        Ok(())
    }
}

/// `IDEM` selects the idempotent or the non-idempotent endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EchoReq<const IDEM: bool> {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Items", default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

impl<const IDEM: bool> EchoReq<IDEM> {
    pub(crate) fn new(name: &str) -> Self {
        Self { name: name.into(), items: vec![] }
    }
}

impl<const IDEM: bool> Validate for EchoReq<IDEM> {
    fn validate_at(&self, _path: &str) -> Result<(), ValidationError> {
        if self.name.is_empty() {
            return Err(ValidationError::new("Name", "must not be empty"));
        }
        self.items.validate_at("Items")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EchoResp {
    #[serde(rename = "Value")]
    pub value: u32,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct EchoError {
    pub code: i64,
    pub info: String,
}

impl fmt::Display for EchoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.info)
    }
}

impl ApiErrorKind for EchoError {
    fn from_reply(code: i64, info: String) -> Self {
        Self { code, info }
    }
    fn code(&self) -> i64 {
        self.code
    }
    fn info(&self) -> &str {
        &self.info
    }
    fn meta(&self) -> Option<&'static ErrorMeta> {
        ERRORS.iter().find(|e| e.code == self.code)
    }
}

impl<const IDEM: bool> ApiRequest for EchoReq<IDEM> {
    type Response = EchoResp;
    type Error = EchoError;
    const META: &'static EndpointMeta = if IDEM { &META_IDEM } else { &META_ONCE };
}

pub(crate) type Echo = EchoReq<true>;
pub(crate) type Send = EchoReq<false>;

pub(crate) fn reply(status: u16, body: impl Into<String>) -> HttpResponse {
    HttpResponse::new(status, body.into())
}

pub(crate) fn ok_body(value: u32) -> HttpResponse {
    reply(200, format!(r#"{{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","Value":{value}}}"#))
}

pub(crate) fn err_body(code: i64) -> HttpResponse {
    reply(200, format!(r#"{{"ActionStatus":"FAIL","ErrorCode":{code},"ErrorInfo":"err {code}"}}"#))
}

/// A transport answering with `replies` (the last repeats) and a client on it.
pub(crate) fn scripted(replies: Vec<HttpResponse>) -> (ScriptedTransport, ClientBuilder) {
    let t = ScriptedTransport::new(replies);
    let builder = Client::builder(APPID, "admin user", SECRET)
        .transport(t.clone())
        .backoff(Duration::from_millis(1), Duration::from_millis(5));
    (t, builder)
}
