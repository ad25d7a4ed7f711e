//! The emulator: the state behind the stateful mock server.
//!
//! A [`World`] holds what Tencent IM stores for one app (accounts and
//! profiles, one-to-one messages and unread counts, conversations, groups and
//! their messages, friends and blocklists) and answers the REST calls of the
//! endpoints of [`stateful_paths`] from it, with the field names and codes of the
//! specs. It knows nothing of HTTP: the mock server checks a request against
//! its spec, hands the canonical body to [`World::handle`], sends the
//! callbacks the answer lists and replies.
//!
//! Each family of endpoints has its own module and its own part of the state;
//! a family reads another's through that family's public methods. Refusals
//! name an [`ErrorRole`], and the code is the one the endpoint's spec gives
//! that role, so no error number is written here.

pub mod accounts;
pub mod app;
pub mod c2c;
pub mod conversations;
pub mod friends;
pub mod group_kv;
pub mod groups;
pub mod history;
pub mod moderation;
pub mod mutes;
pub mod official;
pub mod presence;
pub mod push;
pub mod social;
#[cfg(test)]
mod testing;
pub mod typed;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

pub use crate::state_file::StateFileError;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tim_runtime::{EndpointMeta, ErrorRole};

pub use self::accounts::Accounts;
pub use self::c2c::C2c;
pub use self::conversations::Conversations;
pub use self::friends::Friends;
pub use self::groups::Groups;

/// Everything the emulator stores for one app. Serialized as the `--state`
/// and `--seed` file format (JSON).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct World {
    /// Accounts and their profiles.
    pub accounts: Accounts,
    /// One-to-one messages, unread counts, receipts, extensions.
    pub c2c: C2c,
    /// Conversation deletions, conversation groups and marks.
    pub conversations: Conversations,
    /// Groups, members, group messages.
    pub groups: Groups,
    /// Friends, friend lists and blocklists.
    pub friends: Friends,
    /// Moderation keyword libraries and local words.
    pub moderation: moderation::Moderation,
    /// Follow relations.
    pub follows: social::Follows,
    /// Official accounts, their subscribers and messages.
    pub official: official::OfficialAccounts,
    /// All-member push attributes, tags and tasks.
    pub push: push::Push,
    /// Banned rich-media files.
    pub files: app::Files,
}

/// One REST call as the emulator sees it: already checked against its spec.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The endpoint's description (error tables, group-type table).
    pub meta: &'static EndpointMeta,
    /// Path without `v4/` (`openim/sendmsg`).
    pub path: &'a str,
    /// The canonical request body (current field names, lenient fields
    /// converted, unknown fields removed).
    pub body: &'a Value,
    /// The caller (`identifier`: the app admin).
    pub operator: &'a str,
    /// Unix seconds of the call.
    pub now: u64,
    /// The app's SDKAppID.
    pub sdkappid: u64,
    /// The address the emulator answers on (`127.0.0.1:8080`).
    pub server: &'a str,
    /// A number taken for this call before its before-callbacks
    /// ([`World::take_ticket`]), so that what they announce (a generated
    /// `MsgSeq`, hence the `MsgKey`) is what the call stores, whatever
    /// other calls do while the callbacks are in flight.
    pub ticket: Option<u64>,
}

impl Call<'_> {
    /// A refusal with the code the endpoint's spec gives `role`; without one,
    /// the endpoint's catch-all code (the info says which role was meant).
    pub fn refuse(&self, role: ErrorRole, info: impl Into<String>) -> Refusal {
        let info = info.into();
        if let Some(e) = self.meta.error_with_role(role) {
            return Refusal { code: e.code, info };
        }
        let fallback = self
            .meta
            .error_for_field("*")
            .or_else(|| self.meta.error_with_role(ErrorRole::InvalidField))
            .map_or(-1, |e| e.code);
        Refusal { code: fallback, info: format!("{info} (the spec has no {role:?} code)") }
    }

    /// A refusal for a bad value of the request field `field` (wire name),
    /// with the code the spec maps the field to.
    pub fn refuse_field(&self, field: &str, info: impl Into<String>) -> Refusal {
        let code = self
            .meta
            .error_for_field(field)
            .or_else(|| self.meta.error_with_role(ErrorRole::InvalidField))
            .map_or(-1, |e| e.code);
        Refusal { code, info: info.into() }
    }

    /// A refusal with the endpoint's own code named `name` in its spec (for
    /// documented situations no role stands for, e.g. `AlreadyRecalled`);
    /// the catch-all code when the spec has no such name.
    pub fn refuse_named(&self, name: &str, info: impl Into<String>) -> Refusal {
        match self.meta.errors.iter().find(|e| e.name == name) {
            Some(e) => Refusal { code: e.code, info: info.into() },
            None => self.refuse(ErrorRole::InvalidField, info),
        }
    }

    /// The endpoint's documented limit `name` (its spec's `limits`); no
    /// bound when the spec has none.
    pub fn limit_max(&self, name: &str) -> u64 {
        self.meta.limit(name).map_or(u64::MAX, |l| l.max)
    }

    /// Refuses when `value` passes the endpoint's documented limit `name`
    /// (its spec's `limits`), with the limit's code; `what` says what was
    /// counted. No such limit: nothing to refuse.
    pub fn within_limit(&self, name: &str, value: u64, what: &str) -> Result<(), Refusal> {
        let Some(limit) = self.meta.limit(name) else { return Ok(()) };
        if value <= limit.max {
            return Ok(());
        }
        let info = format!("{what}: {value}, more than the {} allowed", limit.max);
        Err(match limit.code {
            Some(code) => Refusal { code, info },
            None => self.refuse(ErrorRole::LimitReached, info),
        })
    }
}

/// Why the emulator refused a call: the `ErrorCode` and `ErrorInfo` to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The code, from the endpoint's spec.
    pub code: i64,
    /// What was wrong.
    pub info: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.info, self.code)
    }
}

/// A callback the service sends because of a call: its `CallbackCommand`
/// and body (without `CallbackCommand`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The `CallbackCommand`.
    pub command: &'static str,
    /// The body's other fields.
    pub payload: Map<String, Value>,
}

impl Event {
    /// An event from a generated callback payload.
    pub fn typed<P: tim_runtime::callback::CallbackPayload>(payload: &P) -> Self {
        let payload = match serde_json::to_value(payload) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Self { command: P::META.command, payload }
    }
}

/// What a handled call did.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    /// The reply's fields besides `ActionStatus`, `ErrorCode` and
    /// `ErrorInfo` (a handler may set those for a partial failure).
    pub reply: Map<String, Value>,
    /// The after-callbacks the change fires, in order.
    pub events: Vec<Event>,
    /// The call succeeded without changing anything (a group type the spec
    /// says is ignored).
    pub ignored: bool,
}

impl Done {
    /// Success with no reply fields.
    pub fn ok() -> Self {
        Self { reply: Map::new(), events: Vec::new(), ignored: false }
    }

    /// The full reply body.
    pub fn body(&self) -> Value {
        self.clone().into_body()
    }

    /// The full reply body, moved out.
    pub fn into_body(self) -> Value {
        let mut body = Map::new();
        body.insert("ActionStatus".into(), Value::from("OK"));
        body.insert("ErrorInfo".into(), Value::from(""));
        body.insert("ErrorCode".into(), Value::from(0));
        body.extend(self.reply);
        Value::Object(body)
    }
}

/// The answer of a family to a call on one of its paths.
pub type Handled = Result<Done, Refusal>;

/// Every family's routes.
static ROUTES: &[&[typed::Route]] = &[
    accounts::ROUTES,
    c2c::ROUTES,
    c2c::extensions::ROUTES,
    mutes::ROUTES,
    group_kv::ROUTES,
    presence::ROUTES,
    moderation::ROUTES,
    social::ROUTES,
    groups::ROUTES,
    friends::ROUTES,
    conversations::ROUTES,
    groups::topics::ROUTES,
    groups::permissions::ROUTES,
    official::ROUTES,
    push::ROUTES,
    groups::live::ROUTES,
    groups::message_ops::ROUTES,
    app::ROUTES,
    history::ROUTES,
];

/// Every stateful path and its route, built once: each call looks its
/// path up here rather than scanning the lists.
fn routes() -> &'static HashMap<&'static str, &'static typed::Route> {
    static INDEX: OnceLock<HashMap<&'static str, &'static typed::Route>> = OnceLock::new();
    INDEX.get_or_init(|| ROUTES.iter().flat_map(|routes| routes.iter()).map(|r| (r.path(), r)).collect())
}

fn route(path: &str) -> Option<&'static typed::Route> {
    routes().get(path).copied()
}

/// Every path (without `v4/`) the emulator answers from its state; the
/// others get the spec's sample reply.
pub fn stateful_paths() -> impl Iterator<Item = &'static str> {
    ROUTES.iter().flat_map(|routes| routes.iter().map(typed::Route::path))
}

/// Whether the emulator answers `path` (without `v4/`) from its state.
pub fn is_stateful(path: &str) -> bool {
    routes().contains_key(path)
}

/// The length of a value's JSON text, without building the text.
fn json_len(value: &Value) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// `2023-06-24 23:45:04` (UTC) for Unix seconds, as the service writes
/// times in text (keyword lists, history links).
pub fn datetime(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A count or number as a 32-bit wire field carries it (the largest value
/// when it does not fit).
pub(crate) fn wire_u32(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// An error code as a 32-bit wire field (a per-item `ResultCode`) carries
/// it; -1 for one that does not fit (no documented code is that large).
pub(crate) fn wire_i32(code: i64) -> i32 {
    i32::try_from(code).unwrap_or(-1)
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix milliseconds now (callbacks' `EventTime`).
pub fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl World {
    /// An empty world whose only account is the app administrator.
    pub fn new(admin: &str) -> Self {
        let mut w = Self::default();
        w.accounts.ensure(admin);
        w
    }

    /// Takes the number a call will use for what its before-callbacks
    /// announce (a one-to-one message's generated `MsgSeq`), before they
    /// are sent; `None` when it needs none. Pass it as [`Call::ticket`] to
    /// [`before`](Self::before) and [`handle`](Self::handle).
    pub fn take_ticket(&mut self, call: &Call<'_>) -> Option<u64> {
        c2c::needs_ticket(call).then(|| self.c2c.next())
    }

    /// The before-callbacks `call` fires, or why it is refused before any
    /// (an account or group it names does not exist, ...). `None`: the path
    /// is not stateful.
    pub fn before(&self, call: &Call<'_>) -> Option<Result<Vec<Event>, Refusal>> {
        let route = route(call.path)?;
        Some(Self::body_limits(call).and_then(|()| self.group_type_rule(call)).and_then(|ignored| {
            match (ignored, route.before) {
                (false, Some(before)) => before(self, call),
                _ => Ok(Vec::new()),
            }
        }))
    }

    /// [`before`](Self::before)'s checks and [`handle`](Self::handle) in
    /// one step, for a server that sends no callbacks: the before-callback
    /// payloads are not built (every refusal a before step makes, its
    /// handler makes too). `None`: the path is not stateful.
    pub fn handle_without_callbacks(&mut self, call: &Call<'_>) -> Option<Handled> {
        route(call.path)?;
        if let Err(r) = Self::body_limits(call) {
            return Some(Err(r));
        }
        self.handle(call)
    }

    /// Answers `call` from the state, changing it. `None`: the path is not
    /// stateful.
    pub fn handle(&mut self, call: &Call<'_>) -> Option<Handled> {
        let handle = route(call.path)?.handle;
        // The body limits were checked by `before`, which always runs first.
        Some(match self.group_type_rule(call) {
            Err(r) => Err(r),
            Ok(true) => Ok(Done { ignored: true, ..Done::ok() }),
            Ok(false) => handle(self, call),
        })
    }

    /// The spec's limit on the size of a message body (`msg_body_bytes`:
    /// the JSON of `MsgBody`), for the endpoints that state one.
    fn body_limits(call: &Call<'_>) -> Result<(), Refusal> {
        match call.body.get("MsgBody") {
            Some(body) => call.within_limit("msg_body_bytes", json_len(body), "bytes of MsgBody"),
            None => Ok(()),
        }
    }

    /// The group-type table of the spec, for a call naming an existing
    /// group: `Ok(true)` when the type is ignored (success, nothing
    /// changes), an error when it is unsupported.
    fn group_type_rule(&self, call: &Call<'_>) -> Result<bool, Refusal> {
        let group = call.body.get("GroupId").and_then(Value::as_str);
        let Some(group_type) = group.and_then(|g| self.groups.type_of(g)) else {
            return Ok(false);
        };
        match call.meta.group_type(group_type) {
            Some(s) if !s.supported && s.ignored => Ok(true),
            Some(s) if !s.supported => Err(call.refuse(
                ErrorRole::GroupTypeUnsupported,
                format!("{} groups do not support {}", group_type, call.path),
            )),
            _ => Ok(false),
        }
    }

    /// Removes every trace of an account (account_delete).
    pub fn forget_account(&mut self, id: &str) {
        self.accounts.forget_account(id);
        self.c2c.forget_account(id);
        self.conversations.forget_account(id);
        self.groups.forget_account(id);
        self.friends.forget_account(id);
        self.follows.forget_account(id);
        self.official.forget_account(id);
        self.push.forget_account(id);
    }

    /// Whether any part of the state other than the account table still
    /// names `id` (an invariant: false after account_delete).
    pub fn mentions_account(&self, id: &str) -> bool {
        self.c2c.mentions_account(id)
            || self.conversations.mentions_account(id)
            || self.groups.mentions_account(id)
            || self.friends.mentions_account(id)
            || self.follows.mentions_account(id)
            || self.official.mentions_account(id)
            || self.push.mentions_account(id)
    }

    /// Reads a state file (the format [`save`](Self::save) writes; see
    /// [`state_file`](crate::state_file)).
    pub fn load(path: &Path) -> Result<Self, StateFileError> {
        crate::state_file::load(path)
    }

    /// Writes the state file atomically and durably (see
    /// [`state_file`](crate::state_file)).
    pub fn save(&self, path: &Path) -> Result<(), StateFileError> {
        crate::state_file::save(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::{route, stateful_paths};

    #[test]
    fn no_path_is_answered_twice_and_every_route_is_reachable() {
        let mut paths: Vec<&str> = stateful_paths().collect();
        let total = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), total, "a path is listed twice");
        for p in paths {
            assert!(route(p).is_some(), "{p}");
            assert!(
                tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{p}")).is_some(),
                "{p} has no spec"
            );
        }
    }
}
