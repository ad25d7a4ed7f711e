//! Recorded exchanges under `conformance/fixtures/<service>/<command>/*.json`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One recorded exchange: the request an endpoint got and the reply it gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// File it was read from.
    pub file: PathBuf,
    /// Endpoint path, e.g. `v4/openim/admin_set_msg_read`.
    pub endpoint: String,
    /// Where the exchange comes from (a documented sample, a documented code, a capture).
    pub source: String,
    /// Request query parameters as recorded.
    pub query: Value,
    /// Request body.
    pub body: Value,
    /// HTTP status of the reply.
    pub status: u16,
    /// Reply body (for non-200 replies, a JSON string holding the raw text).
    pub response: Value,
}

impl Fixture {
    /// The `ErrorCode` the reply carries (0 for success).
    pub fn error_code(&self) -> i64 {
        self.response.get("ErrorCode").and_then(Value::as_i64).unwrap_or(0)
    }
}

/// One documented callback: the request Tencent sends and, when documented,
/// a reply to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackFixture {
    /// File it was read from.
    pub file: PathBuf,
    /// The `CallbackCommand`.
    pub command: String,
    /// Where it comes from.
    pub source: String,
    /// Query parameters without `RequestTime` and `Sign`, which are added
    /// when it is sent.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Value,
    /// A documented reply, if any.
    pub reply: Option<Value>,
}

impl CallbackFixture {
    /// The query as a string (`SdkAppid=..&CallbackCommand=..`).
    pub fn query_string(&self) -> String {
        let pairs: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", tim_core::query::encode(k), tim_core::query::encode(v)))
            .collect();
        pairs.join("&")
    }
}

/// Reads every callback fixture under `dir/callbacks`.
pub fn load_callbacks(dir: &Path) -> Result<Vec<CallbackFixture>, String> {
    let dir = dir.join("callbacks");
    let mut files = Vec::new();
    collect(&dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    files.iter().map(|f| load_callback(f)).collect()
}

fn load_callback(file: &Path) -> Result<CallbackFixture, String> {
    let err = |m: &str| format!("{}: {m}", file.display());
    let text = fs::read_to_string(file).map_err(|e| err(&e.to_string()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(&e.to_string()))?;
    let s = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
    let query = match v.pointer("/request/query") {
        Some(Value::Object(map)) => {
            map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
        }
        _ => return Err(err("missing `request.query`")),
    };
    Ok(CallbackFixture {
        file: file.to_owned(),
        command: s("/callback").ok_or_else(|| err("missing `callback`"))?,
        source: s("/source").unwrap_or_default(),
        query,
        body: v.pointer("/request/body").cloned().ok_or_else(|| err("missing `request.body`"))?,
        reply: v.get("reply").filter(|r| !r.is_null()).cloned(),
    })
}

/// Directory of the shipped fixtures.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Reads every fixture under `dir`; an unreadable or malformed file is an
/// error naming the file.
pub fn load_all(dir: &Path) -> Result<Vec<Fixture>, String> {
    let mut files = Vec::new();
    collect(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    files.iter().map(|f| load(f)).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        // Callback fixtures have their own format (see `load_callbacks`).
        if path.is_dir() && path.file_name().is_some_and(|n| n == "callbacks") {
            continue;
        }
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn load(file: &Path) -> Result<Fixture, String> {
    let err = |m: &str| format!("{}: {m}", file.display());
    let text = fs::read_to_string(file).map_err(|e| err(&e.to_string()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(&e.to_string()))?;
    let s = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
    Ok(Fixture {
        file: file.to_owned(),
        endpoint: s("/endpoint").ok_or_else(|| err("missing `endpoint`"))?,
        source: s("/source").unwrap_or_default(),
        query: v.pointer("/request/query").cloned().unwrap_or(Value::Null),
        body: v.pointer("/request/body").cloned().ok_or_else(|| err("missing `request.body`"))?,
        status: v
            .pointer("/response/status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| err("missing `response.status`"))?,
        response: v.pointer("/response/body").cloned().ok_or_else(|| err("missing `response.body`"))?,
    })
}
