//! Hand-written endpoint and loopback HTTP server shared by unit tests.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::endpoint::{
    ApiErrorKind, ApiRequest, EndpointMeta, ErrorMeta, ErrorRole, RateLimit, Validate, ValidationError,
};

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

pub(crate) fn ok_body(value: u32) -> (u16, String) {
    (200, format!(r#"{{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","Value":{value}}}"#))
}

pub(crate) fn err_body(code: i64) -> (u16, String) {
    (200, format!(r#"{{"ActionStatus":"FAIL","ErrorCode":{code},"ErrorInfo":"err {code}"}}"#))
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub request_line: String,
    pub head: String,
    pub body: Vec<u8>,
}

impl Recorded {
    /// Decoded query parameters.
    pub(crate) fn query(&self) -> Vec<(String, String)> {
        let target = self.request_line.split(' ').nth(1).unwrap_or("");
        let query = target.split_once('?').map_or("", |(_, q)| q);
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }

    pub(crate) fn param(&self, name: &str) -> Option<String> {
        self.query().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub(crate) fn path(&self) -> String {
        let target = self.request_line.split(' ').nth(1).unwrap_or("");
        target.split('?').next().unwrap_or("").to_owned()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Loopback HTTP/1.1 server answering from a script (the last reply repeats).
pub(crate) struct MockServer {
    pub base: String,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockServer {
    pub(crate) async fn start(script: Vec<(u16, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let counter = Arc::new(AtomicUsize::new(0));
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, task_log.clone(), script.clone(), counter.clone()));
            }
        });
        Self { base, log, task }
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    log: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Vec<(u16, String)>>,
    counter: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let request_line = head.lines().next().unwrap_or("").to_owned();
        log.lock().unwrap().push(Recorded { request_line, head: head.clone(), body });
        let i = counter.fetch_add(1, Ordering::SeqCst).min(script.len() - 1);
        let (status, reply) = &script[i];
        let resp = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if stream.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}
