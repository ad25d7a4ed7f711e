//! Callbacks (webhooks) the mock sends, as the real service does, when a
//! callback URL is configured: the REST calls that trigger callbacks POST a
//! signed body built from the request to the URL, and before-callbacks'
//! replies decide (allow, deny, drop, modify) with the meaning the specs give
//! their `ErrorCode`s (`CallbackMeta::decision_for`). A URL that is down,
//! slow, answers with an error status or an unreadable body lets the event go
//! ahead, as the docs say Tencent does.
//!
//! Callbacks are sent before the mock answers the REST call (after-callbacks
//! too, unlike the real service), so a test sees them as soon as its call
//! returns.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tim_core::callback::{compute_sign, CallbackKind, CallbackMeta, CallbackReply, DecisionEffect};
use tim_core::{HttpRequest, HyperTransport, Transport};

/// Default time the mock waits for a callback's answer (the documented 2 s).
pub const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(2);

/// Largest callback reply read, bytes.
const REPLY_LIMIT: usize = 64 * 1024;

/// Where callbacks go: the app's URL and, when callback authentication is on,
/// its token. `Debug` never shows the token.
#[derive(Clone)]
pub(crate) struct CallbackTarget {
    url: String,
    token: Option<String>,
}

impl fmt::Debug for CallbackTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackTarget")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A callback URL the mock cannot send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrlError {
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for CallbackUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad callback URL: {}", self.reason)
    }
}

impl std::error::Error for CallbackUrlError {}

impl CallbackTarget {
    /// Checks the URL: absolute, `https`, or `http` to a loopback host.
    pub(crate) fn new(url: &str, token: Option<&str>) -> Result<Self, CallbackUrlError> {
        let err = |reason: &str| CallbackUrlError { reason: reason.to_owned() };
        let uri: http::Uri = url.trim().parse().map_err(|_| err("not a valid URL"))?;
        let host = uri.host().ok_or_else(|| err("the URL has no host"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => {
                return Err(err(
                    "plain http is only for loopback hosts (127.0.0.0/8, ::1, localhost); use https",
                ))
            }
            _ => return Err(err("the scheme must be https (or http for a loopback host)")),
        }
        if uri.path_and_query().is_some_and(|p| p.as_str().contains('#')) {
            return Err(err("the URL must not have a fragment"));
        }
        Ok(Self { url: url.trim().to_owned(), token: token.filter(|t| !t.is_empty()).map(str::to_owned) })
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What came back from the callback URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackResponse {
    /// An HTTP answer: its status and raw body.
    Replied {
        /// HTTP status.
        status: u16,
        /// The body as received (at most 64 KiB).
        body: Vec<u8>,
    },
    /// No answer: connection refused, timeout, broken exchange.
    Failed(String),
}

/// What the mock did with a callback's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppliedDecision {
    /// An after-callback: the answer is only an acknowledgement.
    Acknowledged,
    /// A before-callback let the event go ahead (`decision` names the
    /// documented decision); `modified` lists the reply fields that replaced
    /// the event's.
    Allowed {
        /// Name of the documented decision (`allow`, `modify`).
        decision: &'static str,
        /// Reply fields (wire names) that replaced the event's.
        modified: Vec<String>,
    },
    /// A before-callback refused the event; the caller got this error.
    Denied {
        /// Name of the documented decision.
        decision: &'static str,
        /// The `ErrorCode` the REST caller got.
        caller_error: i64,
        /// The `ErrorInfo` the REST caller got.
        info: String,
    },
    /// A before-callback dropped the event; the caller was told it succeeded.
    Dropped {
        /// Name of the documented decision.
        decision: &'static str,
    },
    /// The answer could not decide (no answer, timeout, non-200 status,
    /// unreadable body, a code the docs do not give, or a callback the specs
    /// do not describe): the event went ahead, as the docs say.
    Default {
        /// Why the answer did not count.
        reason: String,
    },
}

/// One callback the mock sent.
#[derive(Debug, Clone, PartialEq)]
pub struct EmittedCallback {
    /// The `CallbackCommand`.
    pub command: String,
    /// Query parameters sent, in order (`SdkAppid`, `CallbackCommand`, ...,
    /// `RequestTime`, `Sign` when a token is set).
    pub query: Vec<(String, String)>,
    /// The body sent, `CallbackCommand` included.
    pub body: Value,
    /// What came back.
    pub response: CallbackResponse,
    /// The reply as the mock read it, when it could.
    pub reply: Option<CallbackReply>,
    /// What the mock did with it.
    pub applied: AppliedDecision,
}

impl EmittedCallback {
    /// The value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Sends callbacks and keeps what the mock knows about groups and unread
/// counts to fill payloads in.
pub(crate) struct Emitter {
    target: CallbackTarget,
    timeout: Duration,
    sdkappid: u64,
    transport: HyperTransport,
    sent: Mutex<Vec<EmittedCallback>>,
    world: Mutex<World>,
}

impl fmt::Debug for Emitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter").field("target", &self.target).finish_non_exhaustive()
    }
}

/// Groups seen through the REST calls, and unread one-to-one counts.
#[derive(Default)]
struct World {
    groups: HashMap<String, GroupInfo>,
    /// (reader, peer) → unread messages from peer.
    unread: HashMap<(String, String), i64>,
    next_group: u64,
    next_seq: u64,
}

#[derive(Default, Clone)]
struct GroupInfo {
    group_type: Option<String>,
    name: Option<String>,
    owner: Option<String>,
    members: Vec<String>,
}

/// Whether the REST call goes ahead after its callbacks.
pub(crate) enum Verdict {
    /// Answer as usual (allowed, or dropped: the caller is told it succeeded).
    Proceed,
    /// Refuse with this code and info.
    Deny(i64, String),
}

/// The REST call that may trigger callbacks, as the mock received it.
pub(crate) struct Call<'a> {
    /// Path without `v4/` (`openim/sendmsg`).
    pub path: &'a str,
    /// The caller (`identifier`).
    pub operator: &'a str,
    /// Address of the REST caller, sent as `ClientIP`.
    pub client_ip: String,
    /// The request body.
    pub body: &'a Value,
    /// The reply the mock is about to send (code 0).
    pub reply: &'a Value,
    /// Group types registered with `MockServer::register_group`.
    pub registered_type: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn unix_secs() -> u64 {
    now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn unix_millis() -> u64 {
    now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The spec's description of `command`, when the specs have it.
fn meta(command: &str) -> Option<&'static CallbackMeta> {
    tim_runtime::api::callbacks::CALLBACKS.iter().copied().find(|m| m.command == command)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// `[{"Member_Account": id}, ...]`.
fn member_list(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"Member_Account": id})).collect())
}

/// Member accounts out of `[{"Member_Account": ..}]` or `["id", ..]`.
fn accounts(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = v else { return Vec::new() };
    items
        .iter()
        .filter_map(|i| match i {
            Value::String(s) => Some(s.clone()),
            other => str_field(other, "Member_Account").map(str::to_owned),
        })
        .collect()
}

/// Inserts `value` under `name` unless it is null.
fn put(map: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(v) = value.filter(|v| !v.is_null()) {
        map.insert(name.to_owned(), v);
    }
}

fn forbidden(body: &Value, which: &str) -> bool {
    body.get("ForbidCallbackControl")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(which)))
}

impl Emitter {
    pub(crate) fn new(target: CallbackTarget, timeout: Duration, sdkappid: u64) -> std::io::Result<Self> {
        let transport = HyperTransport::new(timeout).map_err(std::io::Error::other)?;
        Ok(Self { target, timeout, sdkappid, transport, sent: Mutex::default(), world: Mutex::default() })
    }

    pub(crate) fn sent(&self) -> Vec<EmittedCallback> {
        lock(&self.sent).clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.sent).clear();
    }

    /// Sends the callbacks `call` triggers and says whether it goes ahead.
    pub(crate) async fn on_call(&self, call: &Call<'_>) -> Verdict {
        match call.path {
            "openim/sendmsg" => self.c2c_send(call).await,
            "openim/admin_set_msg_read" => self.c2c_read(call).await,
            "openim/admin_msgwithdraw" => self.c2c_withdraw(call).await,
            "group_open_http_svc/send_group_msg" => self.group_send(call).await,
            "group_open_http_svc/create_group" => self.group_create(call).await,
            "group_open_http_svc/add_group_member" => self.group_add(call).await,
            "group_open_http_svc/delete_group_member" => self.group_delete(call).await,
            "group_open_http_svc/destroy_group" => self.group_destroy(call).await,
            _ => Verdict::Proceed,
        }
    }

    async fn c2c_send(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let from = str_field(b, "From_Account").unwrap_or(call.operator).to_owned();
        let to = str_field(b, "To_Account").unwrap_or_default().to_owned();
        let random = b.get("MsgRandom").and_then(Value::as_u64).unwrap_or(0);
        let seq = b.get("MsgSeq").and_then(Value::as_u64).unwrap_or_else(|| self.next_seq());
        let time = call.reply.get("MsgTime").and_then(Value::as_u64).unwrap_or_else(unix_secs);
        let key =
            str_field(call.reply, "MsgKey").map_or_else(|| format!("{seq}_{random}_{time}"), str::to_owned);
        // MsgLifeTime 0 means online only.
        let online_only = u8::from(b.get("MsgLifeTime").and_then(Value::as_u64) == Some(0));
        let mut p = Map::new();
        p.insert("From_Account".into(), json!(from));
        p.insert("To_Account".into(), json!(to));
        p.insert("MsgSeq".into(), json!(seq));
        p.insert("MsgRandom".into(), json!(random));
        p.insert("MsgTime".into(), json!(time));
        p.insert("MsgKey".into(), json!(key));
        p.insert("OnlineOnlyFlag".into(), json!(online_only));
        put(&mut p, "MsgBody", b.get("MsgBody").cloned());
        put(&mut p, "CloudCustomData", b.get("CloudCustomData").cloned());
        let replaceable = ["MsgBody", "CloudCustomData"];
        if !forbidden(b, "ForbidBeforeSendMsgCallback") {
            let sent = self.emit("C2C.CallbackBeforeSendMsg", p.clone(), call).await;
            if let Some(v) = self.go_ahead(&sent, &mut p, &replaceable) {
                return v;
            }
        }
        let unread = {
            let mut world = lock(&self.world);
            let n = world.unread.entry((to.clone(), from.clone())).or_default();
            *n += 1;
            world.unread.iter().filter(|((reader, _), _)| *reader == to).map(|(_, n)| *n).sum::<i64>()
        };
        if !forbidden(b, "ForbidAfterSendMsgCallback") {
            p.insert("SendMsgResult".into(), json!(0));
            p.insert("ErrorInfo".into(), json!("send msg succeed"));
            p.insert("UnreadMsgNum".into(), json!(unread));
            self.emit("C2C.CallbackAfterSendMsg", p, call).await;
        }
        Verdict::Proceed
    }

    async fn c2c_read(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let reporter = str_field(b, "Report_Account").unwrap_or_default().to_owned();
        let peer = str_field(b, "Peer_Account").unwrap_or_default().to_owned();
        // Documented as a string of seconds; some clients send a number.
        let read_time = b
            .get("MsgReadTime")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok()))
            .unwrap_or_else(unix_secs);
        let unread = {
            let mut world = lock(&self.world);
            world.unread.remove(&(reporter.clone(), peer.clone()));
            world.unread.iter().filter(|((reader, _), _)| *reader == reporter).map(|(_, n)| *n).sum::<i64>()
        };
        let mut p = Map::new();
        p.insert("Report_Account".into(), json!(reporter));
        p.insert("Peer_Account".into(), json!(peer));
        p.insert("LastReadTime".into(), json!(read_time));
        p.insert("UnreadMsgNum".into(), json!(unread));
        self.emit("C2C.CallbackAfterMsgReport", p, call).await;
        Verdict::Proceed
    }

    async fn c2c_withdraw(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let to = str_field(b, "To_Account").unwrap_or_default().to_owned();
        let unread = {
            let world = lock(&self.world);
            world.unread.iter().filter(|((reader, _), _)| *reader == to).map(|(_, n)| *n).sum::<i64>()
        };
        let mut p = Map::new();
        put(&mut p, "From_Account", b.get("From_Account").cloned());
        p.insert("To_Account".into(), json!(to));
        put(&mut p, "MsgKey", b.get("MsgKey").cloned());
        p.insert("UnreadMsgNum".into(), json!(unread));
        self.emit("C2C.CallbackAfterMsgWithDraw", p, call).await;
        Verdict::Proceed
    }

    /// The group's type: what the mock saw created, or what was registered.
    fn group(&self, call: &Call<'_>, id: &str) -> GroupInfo {
        let mut info = lock(&self.world).groups.get(id).cloned().unwrap_or_default();
        if info.group_type.is_none() {
            info.group_type.clone_from(&call.registered_type);
        }
        info
    }

    async fn group_send(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let group_id = str_field(b, "GroupId").unwrap_or_default().to_owned();
        let info = self.group(call, &group_id);
        let mut p = Map::new();
        p.insert("GroupId".into(), json!(group_id));
        put(&mut p, "Type", info.group_type.map(Value::from));
        p.insert("From_Account".into(), json!(str_field(b, "From_Account").unwrap_or(call.operator)));
        p.insert("Operator_Account".into(), json!(call.operator));
        put(&mut p, "Random", b.get("Random").cloned());
        p.insert(
            "OnlineOnlyFlag".into(),
            json!(b.get("OnlineOnlyFlag").and_then(Value::as_u64).unwrap_or(0)),
        );
        put(&mut p, "MsgBody", b.get("MsgBody").cloned());
        put(&mut p, "CloudCustomData", b.get("CloudCustomData").cloned());
        put(&mut p, "TopicId", b.get("TopicId").cloned());
        p.insert("EventTime".into(), json!(unix_millis()));
        let replaceable = ["MsgBody", "CloudCustomData"];
        if !forbidden(b, "ForbidBeforeSendMsgCallback") {
            let sent = self.emit("Group.CallbackBeforeSendMsg", p.clone(), call).await;
            if let Some(v) = self.go_ahead(&sent, &mut p, &replaceable) {
                return v;
            }
        }
        if !forbidden(b, "ForbidAfterSendMsgCallback") {
            let seq = call.reply.get("MsgSeq").and_then(Value::as_u64).unwrap_or_else(|| self.next_seq());
            let time = call.reply.get("MsgTime").and_then(Value::as_u64).unwrap_or_else(unix_secs);
            p.insert("MsgSeq".into(), json!(seq));
            p.insert("MsgTime".into(), json!(time));
            p.insert("EventTime".into(), json!(unix_millis()));
            self.emit("Group.CallbackAfterSendMsg", p, call).await;
        }
        Verdict::Proceed
    }

    async fn group_create(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let owner = str_field(b, "Owner_Account").unwrap_or(call.operator).to_owned();
        let group_type = str_field(b, "Type").map(str::to_owned);
        let name = str_field(b, "Name").map(str::to_owned);
        let members = accounts(b.get("MemberList"));
        let created_of_type = {
            let world = lock(&self.world);
            world
                .groups
                .values()
                .filter(|g| g.owner.as_deref() == Some(&owner) && g.group_type == group_type)
                .count()
        };
        let mut p = Map::new();
        p.insert("Operator_Account".into(), json!(call.operator));
        p.insert("Owner_Account".into(), json!(owner));
        put(&mut p, "Type", group_type.clone().map(Value::from));
        put(&mut p, "Name", name.clone().map(Value::from));
        p.insert("CreateGroupNum".into(), json!(created_of_type));
        p.insert("MemberList".into(), member_list(&members));
        p.insert("EventTime".into(), json!(unix_millis()));
        let sent = self.emit("Group.CallbackBeforeCreateGroup", p.clone(), call).await;
        if let Some(v) = self.go_ahead(&sent, &mut p, &[]) {
            return v;
        }
        let group_id = str_field(b, "GroupId")
            .or_else(|| str_field(call.reply, "GroupId"))
            .map_or_else(|| format!("@TGS#mock{}", self.next_group()), str::to_owned);
        lock(&self.world).groups.insert(
            group_id.clone(),
            GroupInfo { group_type, name, owner: Some(owner.clone()), members: members.clone() },
        );
        p.remove("CreateGroupNum");
        p.insert("GroupId".into(), json!(group_id));
        if let Some(Value::Array(fields)) = b.get("AppDefinedData") {
            p.insert("UserDefinedDataList".into(), Value::Array(fields.clone()));
        }
        p.insert("EventTime".into(), json!(unix_millis()));
        self.emit("Group.CallbackAfterCreateGroup", p, call).await;
        Verdict::Proceed
    }

    async fn group_add(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let group_id = str_field(b, "GroupId").unwrap_or_default().to_owned();
        let info = self.group(call, &group_id);
        let mut members = accounts(b.get("MemberList"));
        let mut p = Map::new();
        p.insert("GroupId".into(), json!(group_id));
        put(&mut p, "Type", info.group_type.map(Value::from));
        p.insert("Operator_Account".into(), json!(call.operator));
        p.insert("DestinationMembers".into(), member_list(&members));
        p.insert("EventTime".into(), json!(unix_millis()));
        let sent = self.emit("Group.CallbackBeforeInviteJoinGroup", p.clone(), call).await;
        if let Some(v) = self.go_ahead(&sent, &mut p, &[]) {
            return v;
        }
        // An allowing reply may still refuse some of the users.
        if let (AppliedDecision::Allowed { .. }, Some(reply)) = (&sent.applied, &sent.reply) {
            let refused = accounts(reply.fields.get("RefusedMembers_Account"));
            members.retain(|m| !refused.contains(m));
        }
        if members.is_empty() {
            return Verdict::Proceed;
        }
        if let Some(g) = lock(&self.world).groups.get_mut(&group_id) {
            g.members.extend(members.iter().cloned());
        }
        p.remove("DestinationMembers");
        p.insert("JoinType".into(), json!("Invited"));
        p.insert("NewMemberList".into(), member_list(&members));
        p.insert("EventTime".into(), json!(unix_millis()));
        self.emit("Group.CallbackAfterNewMemberJoin", p, call).await;
        Verdict::Proceed
    }

    async fn group_delete(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let group_id = str_field(b, "GroupId").unwrap_or_default().to_owned();
        let info = self.group(call, &group_id);
        let gone = accounts(b.get("MemberToDel_Account"));
        if let Some(g) = lock(&self.world).groups.get_mut(&group_id) {
            g.members.retain(|m| !gone.contains(m));
        }
        let mut p = Map::new();
        p.insert("GroupId".into(), json!(group_id));
        put(&mut p, "Type", info.group_type.map(Value::from));
        p.insert("ExitType".into(), json!("Kicked"));
        p.insert("Operator_Account".into(), json!(call.operator));
        p.insert("ExitMemberList".into(), member_list(&gone));
        p.insert("EventTime".into(), json!(unix_millis()));
        self.emit("Group.CallbackAfterMemberExit", p, call).await;
        Verdict::Proceed
    }

    async fn group_destroy(&self, call: &Call<'_>) -> Verdict {
        let b = call.body;
        let group_id = str_field(b, "GroupId").unwrap_or_default().to_owned();
        let info = self.group(call, &group_id);
        lock(&self.world).groups.remove(&group_id);
        let mut p = Map::new();
        p.insert("GroupId".into(), json!(group_id));
        put(&mut p, "Type", info.group_type.map(Value::from));
        put(&mut p, "Owner_Account", info.owner.map(Value::from));
        put(&mut p, "Name", info.name.map(Value::from));
        let mut members: Vec<String> = info.members.clone();
        // Communities' members are not listed.
        if p.get("Type").and_then(Value::as_str) != Some("Community") {
            if let Some(owner) = p.get("Owner_Account").and_then(Value::as_str) {
                if !members.iter().any(|m| m == owner) {
                    members.insert(0, owner.to_owned());
                }
            }
            p.insert("MemberList".into(), member_list(&members));
        }
        p.insert("EventTime".into(), json!(unix_millis()));
        self.emit("Group.CallbackAfterGroupDestroyed", p, call).await;
        Verdict::Proceed
    }

    fn next_seq(&self) -> u64 {
        let mut world = lock(&self.world);
        world.next_seq += 1;
        world.next_seq
    }

    fn next_group(&self) -> u64 {
        let mut world = lock(&self.world);
        world.next_group += 1;
        world.next_group
    }

    /// Applies a before-callback's decision: `Some(verdict)` when the event
    /// stops there (denied, or dropped: then the caller is told it
    /// succeeded), `None` when it goes ahead, with the reply's replacements
    /// of `replaceable` fields written into `payload`.
    fn go_ahead(
        &self,
        sent: &EmittedCallback,
        payload: &mut Map<String, Value>,
        replaceable: &[&str],
    ) -> Option<Verdict> {
        match &sent.applied {
            AppliedDecision::Denied { caller_error, info, .. } => {
                Some(Verdict::Deny(*caller_error, info.clone()))
            }
            AppliedDecision::Dropped { .. } => Some(Verdict::Proceed),
            AppliedDecision::Allowed { modified, .. } => {
                if let Some(reply) = &sent.reply {
                    for name in modified.iter().filter(|m| replaceable.contains(&m.as_str())) {
                        if let Some(v) = reply.fields.get(name) {
                            payload.insert(name.clone(), v.clone());
                        }
                    }
                }
                None
            }
            AppliedDecision::Acknowledged | AppliedDecision::Default { .. } => None,
        }
    }

    /// Sends one callback, reads the answer, decides, records.
    async fn emit(
        &self,
        command: &'static str,
        payload: Map<String, Value>,
        call: &Call<'_>,
    ) -> EmittedCallback {
        let mut body = Map::new();
        body.insert("CallbackCommand".into(), json!(command));
        body.extend(payload);
        let body = Value::Object(body);
        let mut query = vec![
            ("SdkAppid".to_owned(), self.sdkappid.to_string()),
            ("CallbackCommand".to_owned(), command.to_owned()),
            ("contenttype".to_owned(), "json".to_owned()),
            ("ClientIP".to_owned(), call.client_ip.clone()),
            ("OptPlatform".to_owned(), "RESTAPI".to_owned()),
        ];
        if let Some(token) = &self.target.token {
            let time = unix_secs();
            query.push(("RequestTime".to_owned(), time.to_string()));
            query.push(("Sign".to_owned(), compute_sign(token, time)));
        }
        let response = self.post(&query, &body).await;
        let meta = meta(command);
        // The specs' kind wins; the trigger's is for a callback without a spec.
        let kind = if command.contains("Before") { CallbackKind::Before } else { CallbackKind::After };
        let (reply, applied) = decide(meta, kind, &response);
        let sent = EmittedCallback { command: command.to_owned(), query, body, response, reply, applied };
        lock(&self.sent).push(sent.clone());
        sent
    }

    async fn post(&self, query: &[(String, String)], body: &Value) -> CallbackResponse {
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", tim_core::query::encode(k), tim_core::query::encode(v)))
            .collect();
        let sep = if self.target.url.contains('?') { '&' } else { '?' };
        let uri = match format!("{}{sep}{}", self.target.url, encoded.join("&")).parse::<http::Uri>() {
            Ok(uri) => uri,
            Err(e) => return CallbackResponse::Failed(format!("cannot build the callback URL: {e}")),
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        let req = HttpRequest {
            uri,
            headers,
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
            timeout: self.timeout,
            reply_limit: REPLY_LIMIT,
        };
        match self.transport.send(req).await {
            Ok(resp) => CallbackResponse::Replied { status: resp.status, body: resp.body.to_vec() },
            Err(e) => CallbackResponse::Failed(e.to_string()),
        }
    }
}

/// What an answer means for the event, by the callback's spec.
fn decide(
    meta: Option<&'static CallbackMeta>,
    kind: CallbackKind,
    response: &CallbackResponse,
) -> (Option<CallbackReply>, AppliedDecision) {
    let default = |reason: String| AppliedDecision::Default { reason };
    let (status, raw) = match response {
        CallbackResponse::Failed(why) => return (None, default(format!("no answer: {why}"))),
        CallbackResponse::Replied { status, body } => (*status, body),
    };
    let reply = CallbackReply::from_bytes(raw);
    if status != 200 {
        return (reply, default(format!("HTTP status {status}")));
    }
    let Some(reply) = reply else {
        return (None, default("the reply is not a JSON object with an integer ErrorCode".into()));
    };
    if meta.map_or(kind, |m| m.kind) == CallbackKind::After {
        return (Some(reply), AppliedDecision::Acknowledged);
    }
    let Some(meta) = meta else {
        return (Some(reply), default("the specs do not describe this callback".into()));
    };
    let Some(decision) = meta.decision_for(reply.error_code) else {
        let why = format!("ErrorCode {} is no documented decision", reply.error_code);
        return (Some(reply), default(why));
    };
    let applied = match decision.effect {
        DecisionEffect::Allow => {
            // Any reply field a decision of this callback documents counts,
            // whichever decision the code matched (`allow` and `modify` share 0).
            let documented = |name: &str| meta.decisions.iter().any(|d| d.fields.contains(&name));
            let modified = reply
                .fields
                .keys()
                .filter(|k| documented(k) || REPLACEABLE_EXTRA.contains(&k.as_str()))
                .cloned()
                .collect();
            AppliedDecision::Allowed { decision: decision.name, modified }
        }
        DecisionEffect::Drop => AppliedDecision::Dropped { decision: decision.name },
        DecisionEffect::Deny => {
            let custom = decision.codes.0 != decision.codes.1;
            let caller_error = match decision.caller_error {
                Some(code) if !custom => code,
                // A custom code from the documented range reaches the caller as is.
                _ => reply.error_code,
            };
            let info = if reply.error_info.is_empty() {
                format!("refused by the {} callback", meta.command)
            } else {
                reply.error_info.clone()
            };
            AppliedDecision::Denied { decision: decision.name, caller_error, info }
        }
    };
    (Some(reply), applied)
}

/// Reply fields the pages let a before-callback replace besides the ones its
/// decisions name (e.g. `CloudCustomData` next to a modified `MsgBody`), and
/// the partial refusal of an invitation.
const REPLACEABLE_EXTRA: &[&str] = &["MsgBody", "CloudCustomData", "RefusedMembers_Account"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_loopback_http() {
        for ok in [
            "https://example.com/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/x",
            "http://[::1]:9/",
            "http://127.3.4.5/?a=b",
        ] {
            assert!(CallbackTarget::new(ok, None).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "/relative",
            "not a url",
            "http://0.0.0.0/",
        ] {
            assert!(CallbackTarget::new(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let t = CallbackTarget::new("https://example.com/", Some("very-secret-token")).unwrap();
        assert!(!format!("{t:?}").contains("very-secret-token"));
    }

    #[test]
    fn unreadable_answers_fall_back_to_the_default() {
        let meta = meta("C2C.CallbackBeforeSendMsg");
        let replied = |status, body: &[u8]| CallbackResponse::Replied { status, body: body.to_vec() };
        for r in [
            CallbackResponse::Failed("refused".into()),
            replied(500, br#"{"ErrorCode":1}"#),
            replied(200, b"<html>"),
            replied(200, br#"{"ErrorCode":"1"}"#),
            replied(200, br#"{"ErrorCode":77}"#),
            replied(200, b""),
            replied(200, &[0xff, 0xfe]),
        ] {
            assert!(
                matches!(decide(meta, CallbackKind::Before, &r).1, AppliedDecision::Default { .. }),
                "{r:?}"
            );
        }
    }
}
