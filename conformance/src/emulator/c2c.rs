//! One-to-one messages: sending (one or many recipients), importing, history
//! pages, unread counts and read marks, read receipts, recall, modification,
//! deletion for one side, and message extensions.
//!
//! Messages live in one [`Thread`] per pair of accounts, ordered by time, then
//! `MsgSeq`, then arrival. A message's `MsgKey` (`{seq}_{random}_{time}`) is
//! unique within its thread; the same key in another thread is another
//! message (a batch send gives every recipient the same key).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use super::{conversations, unix_millis, Call, Done, Event, Handled, Refusal, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[
    "openim/sendmsg",
    "openim/batchsendmsg",
    "openim/importmsg",
    "openim/get_c2c_unread_msg_num",
    "openim/admin_set_msg_read",
    "openim/c2c_msg_read_receipt",
    "openim/admin_getroammsg",
    "openim/admin_msgwithdraw",
    "openim/delete_c2c_msg_ramble",
    "openim/modify_c2c_msg",
    "openim_msg_ext_http_svc/set_key_values",
    "openim_msg_ext_http_svc/get_key_values",
];

/// `MsgFlagBits` of a recalled message in history pages.
const RECALLED_FLAG: u32 = 8;

/// Most extension pairs one `get_key_values` page returns (the documented 200).
const EXTENSION_PAGE: usize = 200;

/// `SyncFromOldSystem` value of a message imported as new (unread).
const IMPORT_REALTIME: u64 = 5;

/// `SyncOtherMachine` value that keeps the message out of the sender's history.
const NO_SYNC: u64 = 2;

/// One-to-one messages of the app.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2c {
    /// Threads by the pair's smaller UserID, then the larger one.
    pub threads: BTreeMap<String, BTreeMap<String, Thread>>,
    /// Last number handed out for a generated `MsgSeq` and for arrival order.
    pub counter: u64,
}

/// The messages two accounts exchanged.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Thread {
    /// Oldest first (time, then `MsgSeq`, then arrival).
    pub messages: Vec<C2cMessage>,
}

/// One stored one-to-one message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cMessage {
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// `MsgSeq`.
    pub seq: u64,
    /// `MsgRandom`.
    pub random: u64,
    /// Send time (Unix seconds).
    pub time: u64,
    /// `MsgKey`.
    pub key: String,
    /// Arrival order over the whole app (ties of time and `MsgSeq`).
    pub order: u64,
    /// `MsgBody`.
    pub body: Value,
    /// `CloudCustomData`.
    pub cloud_custom_data: Option<String>,
    /// Recalled (`admin_msgwithdraw`).
    pub recalled: bool,
    /// Counts in the recipient's unread number.
    pub unread: bool,
    /// The recipient sent a read receipt for it (`IsPeerRead`).
    pub peer_read: bool,
    /// Sent with `IsNeedReadReceipt` 1.
    pub need_read_receipt: bool,
    /// Sent with `SendMsgControl` `NoLastMsg`: does not move the conversation.
    pub no_last_msg: bool,
    /// Accounts whose history no longer shows it (deleted on their side, or
    /// the sender of a message sent with `SyncOtherMachine` 2).
    pub hidden_for: Vec<String>,
    /// Sent with `SupportMessageExtension` 1.
    pub supports_extension: bool,
    /// Its extension pairs.
    pub extension: Extension,
}

/// The key-value extension of a message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Extension {
    /// Current pairs by key.
    pub pairs: BTreeMap<String, ExtensionPair>,
    /// Version of the latest change (every change request adds one).
    pub latest_seq: u64,
    /// Version of the last clear (0: never cleared).
    pub clear_seq: u64,
}

/// One extension pair.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ExtensionPair {
    /// The value.
    pub value: String,
    /// Version of its last change.
    pub seq: u64,
}

impl C2cMessage {
    /// Whether `account`'s history still shows it.
    pub fn visible_to(&self, account: &str) -> bool {
        !self.hidden_for.iter().any(|a| a == account)
    }

    fn sort_key(&self) -> (u64, u64, u64) {
        (self.time, self.seq, self.order)
    }

    fn hide_for(&mut self, account: &str) {
        if self.visible_to(account) {
            self.hidden_for.push(account.to_owned());
        }
        if self.to == account {
            self.unread = false;
        }
    }
}

/// The two accounts of a thread in storage order.
fn pair<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl C2c {
    /// Removes every thread the account takes part in: its conversations,
    /// unread counts, receipts and extensions go with them, so the peers'
    /// histories with a deleted account are gone as well.
    pub fn forget_account(&mut self, id: &str) {
        self.threads.remove(id);
        for inner in self.threads.values_mut() {
            inner.remove(id);
        }
        self.threads.retain(|_, inner| !inner.is_empty());
    }

    /// Whether a stored message was sent by or to the account.
    pub fn mentions_account(&self, id: &str) -> bool {
        self.threads.iter().any(|(a, inner)| a == id || inner.contains_key(id))
    }

    /// The thread of two accounts.
    pub fn thread(&self, a: &str, b: &str) -> Option<&Thread> {
        let (x, y) = pair(a, b);
        self.threads.get(x)?.get(y)
    }

    fn thread_mut(&mut self, a: &str, b: &str) -> Option<&mut Thread> {
        let (x, y) = pair(a, b);
        self.threads.get_mut(x)?.get_mut(y)
    }

    /// Every stored message between two accounts, oldest first, whoever's
    /// history shows it (recalled ones too).
    pub fn messages_between(&self, a: &str, b: &str) -> Vec<&C2cMessage> {
        self.thread(a, b).map(|t| t.messages.iter().collect()).unwrap_or_default()
    }

    /// The message of the thread of `a` and `b` with this key.
    pub fn message(&self, a: &str, b: &str, key: &str) -> Option<&C2cMessage> {
        self.thread(a, b)?.messages.iter().find(|m| m.key == key)
    }

    fn message_mut(&mut self, from: &str, to: &str, key: &str) -> Option<&mut C2cMessage> {
        self.thread_mut(from, to)?.messages.iter_mut().find(|m| m.key == key && m.from == from && m.to == to)
    }

    /// Messages from `peer` that `reader` has not read.
    pub fn unread(&self, reader: &str, peer: &str) -> u64 {
        self.thread(reader, peer).map_or(0, |t| {
            t.messages
                .iter()
                .filter(|m| m.unread && m.to == reader && m.from == peer && m.visible_to(reader))
                .count() as u64
        })
    }

    /// Unread one-to-one messages of `reader` over all conversations.
    pub fn total_unread(&self, reader: &str) -> u64 {
        self.conversations_of(reader).iter().fold(0u64, |n, c| n.saturating_add(c.unread))
    }

    /// Marks the messages `peer` sent `reader` up to `time` (inclusive) as
    /// read.
    pub fn mark_read(&mut self, reader: &str, peer: &str, time: u64) {
        if let Some(t) = self.thread_mut(reader, peer) {
            for m in t.messages.iter_mut().filter(|m| m.to == reader && m.from == peer && m.time <= time) {
                m.unread = false;
            }
        }
    }

    /// Removes the whole conversation with `peer` from `account`'s history
    /// (the peer keeps it).
    pub fn clear_history_of(&mut self, account: &str, peer: &str) {
        if let Some(t) = self.thread_mut(account, peer) {
            for m in &mut t.messages {
                m.hide_for(account);
            }
        }
    }

    /// A fresh number (generated `MsgSeq`, arrival order).
    fn next(&mut self) -> u64 {
        self.counter = self.counter.saturating_add(1);
        self.counter
    }

    /// Stores a message in order; `false` (and nothing stored) when its
    /// thread already holds a message with the same key.
    fn store(&mut self, mut msg: C2cMessage) -> bool {
        let (x, y) = pair(&msg.from, &msg.to);
        let (x, y) = (x.to_owned(), y.to_owned());
        if self.message(&x, &y, &msg.key).is_some() {
            return false;
        }
        msg.order = self.next();
        let thread = self.threads.entry(x).or_default().entry(y).or_default();
        let at = thread.messages.partition_point(|m| m.sort_key() <= msg.sort_key());
        thread.messages.insert(at, msg);
        true
    }

    /// The one-to-one conversations of `account`: every peer with a message
    /// its history shows (online-only messages are never stored).
    pub fn conversations_of(&self, account: &str) -> Vec<C2cConversation> {
        let mut out = Vec::new();
        for (a, inner) in &self.threads {
            for (b, t) in inner {
                let peer = if a == account {
                    b
                } else if b == account {
                    a
                } else {
                    continue;
                };
                let visible: Vec<&C2cMessage> = t.messages.iter().filter(|m| m.visible_to(account)).collect();
                if visible.is_empty() {
                    continue;
                }
                let last_msg_time =
                    visible.iter().filter(|m| !m.no_last_msg).map(|m| m.time).max().unwrap_or(0);
                let unread =
                    visible.iter().filter(|m| m.unread && m.to == account && m.from == *peer).count() as u64;
                out.push(C2cConversation { peer: peer.clone(), last_msg_time, unread });
            }
        }
        out
    }
}

/// A one-to-one conversation of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2cConversation {
    /// The other account.
    pub peer: String,
    /// Time of the latest message (Unix seconds; 0 when every message was
    /// sent with `NoLastMsg`).
    pub last_msg_time: u64,
    /// Messages from `peer` the account has not read.
    pub unread: u64,
}

/// Before-callbacks of a call, or why it is refused.
pub fn before(w: &World, call: &Call<'_>) -> Result<Vec<Event>, Refusal> {
    if call.path != "openim/sendmsg" {
        return Ok(Vec::new());
    }
    let (from, to) = send_parties(w, call)?;
    if forbidden(call, "ForbidBeforeSendMsgCallback") {
        return Ok(Vec::new());
    }
    let plan = Plan::new(&w.c2c, call);
    Ok(vec![Event::new("C2C.CallbackBeforeSendMsg", Value::Object(plan.payload(call, from, to)))])
}

/// Answers a call on one of [`PATHS`].
pub fn handle(w: &mut World, call: &Call<'_>) -> Handled {
    match call.path {
        "openim/sendmsg" => sendmsg(w, call),
        "openim/batchsendmsg" => batchsendmsg(w, call),
        "openim/importmsg" => importmsg(w, call),
        "openim/get_c2c_unread_msg_num" => unread_num(w, call),
        "openim/admin_set_msg_read" => set_msg_read(w, call),
        "openim/c2c_msg_read_receipt" => read_receipt(w, call),
        "openim/admin_getroammsg" => roam(w, call),
        "openim/admin_msgwithdraw" => withdraw(w, call),
        "openim/delete_c2c_msg_ramble" => delete_ramble(w, call),
        "openim/modify_c2c_msg" => modify(w, call),
        "openim_msg_ext_http_svc/set_key_values" => set_key_values(w, call),
        "openim_msg_ext_http_svc/get_key_values" => get_key_values(w, call),
        _ => {
            Err(call
                .refuse(ErrorRole::UnknownPath, format!("{} is not a one-to-one message call", call.path)))
        }
    }
}

fn forbidden(call: &Call<'_>, which: &str) -> bool {
    call.body
        .get("ForbidCallbackControl")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(which)))
}

fn has_control(call: &Call<'_>, which: &str) -> bool {
    call.body
        .get("SendMsgControl")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(which)))
}

/// The code a per-item result gives a missing account: the public table's
/// (70107) when it carries the role, else the endpoint's own.
fn missing_account_code(call: &Call<'_>) -> i64 {
    call.meta
        .shared_errors
        .iter()
        .flat_map(|t| t.iter())
        .find(|e| e.role == Some(ErrorRole::AccountNotFound))
        .or_else(|| call.meta.error_with_role(ErrorRole::AccountNotFound))
        .map_or(-1, |e| e.code)
}

/// Sender (the administrator without `From_Account`) and recipient of a
/// send, both existing.
fn send_parties<'a>(w: &World, call: &Call<'a>) -> Result<(&'a str, &'a str), Refusal> {
    let body: &'a Value = call.body;
    let from = body.get("From_Account").and_then(Value::as_str).unwrap_or(call.operator);
    let to = body.get("To_Account").and_then(Value::as_str).unwrap_or_default();
    if !w.accounts.exists(from) {
        return Err(call.refuse_field("From_Account", format!("From_Account {from} has not been imported")));
    }
    if !w.accounts.exists(to) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("To_Account {to} has not been imported")));
    }
    Ok((from, to))
}

/// What a send stores: the numbers of the message, decided once so that the
/// before-callback and the reply carry the same key.
struct Plan {
    seq: u64,
    generated_seq: bool,
    random: u64,
    time: u64,
    key: String,
    online_only: bool,
}

impl Plan {
    fn new(c2c: &C2c, call: &Call<'_>) -> Self {
        let (seq, generated_seq) = match call.u64("MsgSeq") {
            Some(s) => (s, false),
            // The counter is taken by `handle`; `before` peeks at the same number.
            None => (c2c.counter.saturating_add(1) % (u64::from(u32::MAX) + 1), true),
        };
        let random = call.u64("MsgRandom").unwrap_or(0);
        let time = call.u64("MsgTimeStamp").unwrap_or(call.now);
        let online_only = call.u64("MsgLifeTime") == Some(0);
        Self { seq, generated_seq, random, time, key: format!("{seq}_{random}_{time}"), online_only }
    }

    fn payload(&self, call: &Call<'_>, from: &str, to: &str) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("From_Account".into(), json!(from));
        p.insert("To_Account".into(), json!(to));
        p.insert("MsgSeq".into(), json!(self.seq));
        p.insert("MsgRandom".into(), json!(self.random));
        p.insert("MsgTime".into(), json!(self.time));
        p.insert("MsgKey".into(), json!(self.key));
        p.insert("OnlineOnlyFlag".into(), json!(u8::from(self.online_only)));
        if let Some(b) = call.body.get("MsgBody") {
            p.insert("MsgBody".into(), b.clone());
        }
        if let Some(c) = call.body.get("CloudCustomData") {
            p.insert("CloudCustomData".into(), c.clone());
        }
        p
    }

    /// The message for `to`, as `call` asks it to be sent.
    fn message(&self, call: &Call<'_>, from: &str, to: &str, unread: bool) -> C2cMessage {
        let mut hidden_for = Vec::new();
        if call.u64("SyncOtherMachine") == Some(NO_SYNC) && from != to {
            hidden_for.push(from.to_owned());
        }
        C2cMessage {
            from: from.to_owned(),
            to: to.to_owned(),
            seq: self.seq,
            random: self.random,
            time: self.time,
            key: self.key.clone(),
            order: 0,
            body: call.body.get("MsgBody").cloned().unwrap_or_else(|| json!([])),
            cloud_custom_data: call.str("CloudCustomData").map(str::to_owned),
            recalled: false,
            unread,
            peer_read: false,
            need_read_receipt: call.u64("IsNeedReadReceipt") == Some(1),
            no_last_msg: has_control(call, "NoLastMsg"),
            hidden_for,
            supports_extension: call.u64("SupportMessageExtension") == Some(1),
            extension: Extension::default(),
        }
    }
}

/// Stores a sent message and brings the conversation back for both sides
/// that see it. `false` when it duplicates a stored one.
fn deliver(w: &mut World, msg: C2cMessage) -> bool {
    let (from, to) = (msg.from.clone(), msg.to.clone());
    let sender_sees = msg.visible_to(&from);
    let moves = !msg.no_last_msg;
    if !w.c2c.store(msg) {
        return false;
    }
    if moves {
        w.conversations.message_arrived(&to, &conversations::c2c_id(&from));
        if sender_sees {
            w.conversations.message_arrived(&from, &conversations::c2c_id(&to));
        }
    }
    true
}

fn sendmsg(w: &mut World, call: &Call<'_>) -> Handled {
    let (from, to) = send_parties(w, call)?;
    let plan = Plan::new(&w.c2c, call);
    if plan.generated_seq {
        w.c2c.next();
    }
    if !plan.online_only {
        let unread = !has_control(call, "NoUnread") && from != to;
        let msg = plan.message(call, from, to, unread);
        deliver(w, msg);
    }
    let mut done = Done::reply(json!({"MsgTime": plan.time, "MsgKey": plan.key}));
    if !forbidden(call, "ForbidAfterSendMsgCallback") {
        let mut p = plan.payload(call, from, to);
        p.insert("SendMsgResult".into(), json!(0));
        p.insert("ErrorInfo".into(), json!("send msg succeed"));
        p.insert("UnreadMsgNum".into(), json!(w.c2c.total_unread(to)));
        done = done.event("C2C.CallbackAfterSendMsg", Value::Object(p));
    }
    Ok(done)
}

fn batchsendmsg(w: &mut World, call: &Call<'_>) -> Handled {
    let from = call.str("From_Account").unwrap_or(call.operator);
    if !w.accounts.exists(from) {
        return Err(call.refuse_field("From_Account", format!("From_Account {from} has not been imported")));
    }
    let mut recipients = call.strings("To_Account");
    let mut seen = std::collections::BTreeSet::new();
    recipients.retain(|r| seen.insert(r.clone()));
    let (found, missing): (Vec<String>, Vec<String>) =
        recipients.into_iter().partition(|r| w.accounts.exists(r));
    if found.is_empty() {
        return Err(call.refuse(ErrorRole::AccountNotFound, "no recipient in To_Account has been imported"));
    }
    let plan = Plan::new(&w.c2c, call);
    if plan.generated_seq {
        w.c2c.next();
    }
    if !plan.online_only {
        for to in &found {
            let unread = !has_control(call, "NoUnread") && from != to;
            let msg = plan.message(call, from, to, unread);
            deliver(w, msg);
        }
    }
    let mut reply = json!({"MsgKey": plan.key});
    if !missing.is_empty() {
        let code = missing_account_code(call);
        reply["ActionStatus"] = json!("SomeError");
        reply["ErrorList"] =
            Value::Array(missing.iter().map(|m| json!({"To_Account": m, "ErrorCode": code})).collect());
    }
    Ok(Done::reply(reply))
}

fn importmsg(w: &mut World, call: &Call<'_>) -> Handled {
    let (from, to) = send_parties(w, call)?;
    let plan = Plan::new(&w.c2c, call);
    if plan.generated_seq {
        w.c2c.next();
    }
    // Deduplicated on MsgSeq, MsgRandom and MsgTimeStamp, in either direction.
    let duplicate = w.c2c.thread(from, to).is_some_and(|t| {
        t.messages.iter().any(|m| m.seq == plan.seq && m.random == plan.random && m.time == plan.time)
    });
    if !duplicate {
        let unread = call.u64("SyncFromOldSystem") == Some(IMPORT_REALTIME) && from != to;
        let msg = plan.message(call, from, to, unread);
        deliver(w, msg);
    }
    Ok(Done::ok())
}

fn unread_num(w: &mut World, call: &Call<'_>) -> Handled {
    let reader = call.str("To_Account").unwrap_or_default();
    if !w.accounts.exists(reader) {
        return Err(
            call.refuse(ErrorRole::AccountNotFound, format!("To_Account {reader} has not been imported"))
        );
    }
    let peers = call.strings("Peer_Account");
    if peers.is_empty() {
        return Ok(Done::reply(json!({"AllC2CUnreadMsgNum": w.c2c.total_unread(reader)})));
    }
    let mut list = Vec::new();
    let mut errors = Vec::new();
    for p in &peers {
        if w.accounts.exists(p) {
            list.push(json!({"Peer_Account": p, "C2CUnreadMsgNum": w.c2c.unread(reader, p)}));
        } else {
            errors.push(json!({"Peer_Account": p, "ErrorCode": missing_account_code(call)}));
        }
    }
    let mut reply = json!({"C2CUnreadMsgNumList": list});
    if !errors.is_empty() {
        reply["ErrorList"] = Value::Array(errors);
    }
    Ok(Done::reply(reply))
}

/// `MsgReadTime`: documented as a string of seconds; a number is taken too.
fn read_time(call: &Call<'_>) -> Option<u64> {
    let v = call.body.get("MsgReadTime")?;
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn set_msg_read(w: &mut World, call: &Call<'_>) -> Handled {
    let reporter = call.str("Report_Account").unwrap_or_default();
    let peer = call.str("Peer_Account").unwrap_or_default();
    if !w.accounts.exists(reporter) {
        return Err(
            call.refuse_field("Report_Account", format!("Report_Account {reporter} has not been imported"))
        );
    }
    if !w.accounts.exists(peer) {
        return Err(call.refuse_field("Peer_Account", format!("Peer_Account {peer} has not been imported")));
    }
    let time = read_time(call).unwrap_or(call.now);
    w.c2c.mark_read(reporter, peer, time);
    Ok(Done::ok().event(
        "C2C.CallbackAfterMsgReport",
        json!({
            "Report_Account": reporter,
            "Peer_Account": peer,
            "LastReadTime": time,
            "UnreadMsgNum": w.c2c.total_unread(reporter),
        }),
    ))
}

/// Receipts set `IsPeerRead`; they do not change unread counts (a client
/// marks a conversation read separately).
fn read_receipt(w: &mut World, call: &Call<'_>) -> Handled {
    let operator = call.str("Operator_Account").unwrap_or_default();
    let peer = call.str("Peer_Account").unwrap_or_default();
    for (field, id) in [("Operator_Account", operator), ("Peer_Account", peer)] {
        if !w.accounts.exists(id) {
            return Err(call.refuse_field(field, format!("{field} {id} has not been imported")));
        }
    }
    let items = call.body.get("C2CMsgInfo").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut keys = Vec::new();
    for item in &items {
        let from = item.get("From_Account").and_then(Value::as_str).unwrap_or_default();
        let to = item.get("To_Account").and_then(Value::as_str).unwrap_or_default();
        if from != peer || to != operator {
            return Err(call.refuse_field(
                "C2CMsgInfo",
                "every C2CMsgInfo entry must have From_Account = Peer_Account and To_Account = Operator_Account",
            ));
        }
        if let Some(k) = item.get("MsgKey").and_then(Value::as_str) {
            keys.push(k.to_owned());
        }
    }
    for key in keys {
        if let Some(m) = w.c2c.message_mut(peer, operator, &key) {
            m.peer_read = true;
        }
    }
    Ok(Done::ok())
}

/// The ordering position a `LastMsgKey` stands for: the message's own when it
/// is stored, else what the key spells (`{seq}_{random}_{time}`).
fn cursor(thread: &[&C2cMessage], key: &str) -> Option<(u64, u64, u64)> {
    if let Some(m) = thread.iter().find(|m| m.key == key) {
        return Some(m.sort_key());
    }
    let mut parts = key.split('_');
    let seq = parts.next()?.parse().ok()?;
    let _random: u64 = parts.next()?.parse().ok()?;
    let time = parts.next()?.parse().ok()?;
    Some((time, seq, 0))
}

fn roam_item(m: &C2cMessage) -> Value {
    let mut item = json!({
        "From_Account": m.from,
        "To_Account": m.to,
        "MsgSeq": m.seq,
        "MsgRandom": m.random,
        "MsgTimeStamp": m.time,
        "MsgFlagBits": if m.recalled { RECALLED_FLAG } else { 0 },
        "IsPeerRead": u32::from(m.peer_read),
        "MsgKey": m.key,
        // A recalled message keeps its place in history but not its content.
        "MsgBody": if m.recalled { json!([]) } else { m.body.clone() },
    });
    if let (false, Some(c)) = (m.recalled, &m.cloud_custom_data) {
        item["CloudCustomData"] = json!(c);
    }
    item
}

/// A page of history: the newest `MaxCnt` messages of the time range (older
/// than `LastMsgKey` when continuing), listed oldest first; `LastMsgTime` and
/// `LastMsgKey` name the oldest of the page, where the next page ends.
fn roam(w: &mut World, call: &Call<'_>) -> Handled {
    let operator = call.str("Operator_Account").unwrap_or_default();
    let peer = call.str("Peer_Account").unwrap_or_default();
    if !w.accounts.exists(operator) {
        return Err(call
            .refuse_field("Operator_Account", format!("Operator_Account {operator} has not been imported")));
    }
    let max_cnt = usize::try_from(call.u64("MaxCnt").unwrap_or(0)).unwrap_or(usize::MAX);
    let min_time = call.u64("MinTime").unwrap_or(0);
    let max_time = call.u64("MaxTime").unwrap_or(u64::MAX);
    let visible: Vec<&C2cMessage> =
        w.c2c.messages_between(operator, peer).into_iter().filter(|m| m.visible_to(operator)).collect();
    let before = call.str("LastMsgKey").filter(|k| !k.is_empty()).and_then(|k| cursor(&visible, k));
    let in_range: Vec<&C2cMessage> = visible
        .into_iter()
        .filter(|m| m.time >= min_time && m.time <= max_time)
        .filter(|m| before.is_none_or(|c| m.sort_key() < c))
        .collect();
    let start = in_range.len().saturating_sub(max_cnt);
    let page = in_range.get(start..).unwrap_or_default();
    let (last_time, last_key) = page.first().map_or((0, String::new()), |m| (m.time, m.key.clone()));
    Ok(Done::reply(json!({
        "Complete": u32::from(start == 0),
        "MsgCnt": page.len(),
        "LastMsgTime": last_time,
        "LastMsgKey": last_key,
        "MsgList": page.iter().map(|m| roam_item(m)).collect::<Vec<_>>(),
    })))
}

fn withdraw(w: &mut World, call: &Call<'_>) -> Handled {
    let from = call.str("From_Account").unwrap_or_default();
    let to = call.str("To_Account").unwrap_or_default();
    let key = call.str("MsgKey").unwrap_or_default();
    for (field, id) in [("From_Account", from), ("To_Account", to)] {
        if !w.accounts.exists(id) {
            return Err(call.refuse_field(field, format!("{field} {id} has not been imported")));
        }
    }
    let Some(m) = w.c2c.message_mut(from, to, key) else {
        return Err(call.refuse(ErrorRole::MessageNotFound, format!("no message {key} from {from} to {to}")));
    };
    if m.recalled {
        return Err(
            call.refuse(ErrorRole::MessageNotFound, format!("message {key} has already been recalled"))
        );
    }
    m.recalled = true;
    m.unread = false;
    Ok(Done::ok().event(
        "C2C.CallbackAfterMsgWithDraw",
        json!({"From_Account": from, "To_Account": to, "MsgKey": key, "UnreadMsgNum": w.c2c.total_unread(to)}),
    ))
}

fn delete_ramble(w: &mut World, call: &Call<'_>) -> Handled {
    let operator = call.str("Operator_Account").unwrap_or_default();
    let peer = call.str("Peer_Account").unwrap_or_default();
    for id in [operator, peer] {
        if !w.accounts.exists(id) {
            return Err(call.refuse(ErrorRole::AccountNotFound, format!("{id} has not been imported")));
        }
    }
    let mut invalid = Vec::new();
    for key in call.strings("MsgKeyList") {
        let found = w
            .c2c
            .thread_mut(operator, peer)
            .and_then(|t| t.messages.iter_mut().find(|m| m.key == key && m.visible_to(operator)));
        match found {
            Some(m) => m.hide_for(operator),
            None => invalid.push(key),
        }
    }
    Ok(Done::reply(json!({"InvalidMsgKeyList": invalid})))
}

fn modify(w: &mut World, call: &Call<'_>) -> Handled {
    let from = call.str("From_Account").unwrap_or_default();
    let to = call.str("To_Account").unwrap_or_default();
    let key = call.str("MsgKey").unwrap_or_default();
    for (field, id) in [("From_Account", from), ("To_Account", to)] {
        if !w.accounts.exists(id) {
            return Err(call.refuse_field(field, format!("{field} {id} has not been imported")));
        }
    }
    let m = match w.c2c.message_mut(from, to, key) {
        Some(m) if !m.recalled => m,
        _ => {
            return Err(
                call.refuse(ErrorRole::MessageNotFound, format!("no message {key} from {from} to {to}"))
            )
        }
    };
    if let Some(b) = call.body.get("MsgBody") {
        m.body = b.clone();
    }
    if let Some(c) = call.str("CloudCustomData") {
        m.cloud_custom_data = Some(c.to_owned());
    }
    Ok(Done::ok())
}

/// The message an extension call names: by `To_Account` and `MsgKey`, and
/// `From_Account` when given.
fn extension_target<'w>(w: &'w mut World, call: &Call<'_>) -> Result<&'w mut C2cMessage, Refusal> {
    let from = call.str("From_Account");
    let to = call.str("To_Account").unwrap_or_default();
    let key = call.str("MsgKey").unwrap_or_default();
    let found = w
        .c2c
        .threads
        .values_mut()
        .flat_map(|inner| inner.values_mut())
        .flat_map(|t| t.messages.iter_mut())
        .find(|m| m.key == key && m.to == to && from.is_none_or(|f| m.from == f) && !m.recalled);
    found.ok_or_else(|| call.refuse(ErrorRole::MessageNotFound, format!("no message {key} to {to}")))
}

fn set_key_values(w: &mut World, call: &Call<'_>) -> Handled {
    let op = call.u64("OperateType").unwrap_or(0);
    let items = call.body.get("ExtensionList").and_then(Value::as_array).cloned();
    if op != 3 && items.is_none() {
        return Err(call.refuse_field("ExtensionList", "ExtensionList is required to set or delete pairs"));
    }
    let now_ms = unix_millis();
    let m = extension_target(w, call)?;
    if !m.supports_extension {
        return Err(call.refuse(
            ErrorRole::PermissionDenied,
            format!("message {} was not sent with SupportMessageExtension", m.key),
        ));
    }
    let ext = &mut m.extension;
    ext.latest_seq = ext.latest_seq.saturating_add(1);
    let seq = ext.latest_seq;
    let mut changed = Vec::new();
    match op {
        3 => {
            ext.pairs.clear();
            ext.clear_seq = seq;
        }
        _ => {
            for item in items.unwrap_or_default() {
                let Some(k) = item.get("Key").and_then(Value::as_str) else { continue };
                let value = match op {
                    1 => item.get("Value").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    _ => String::new(),
                };
                if op == 1 {
                    ext.pairs.insert(k.to_owned(), ExtensionPair { value: value.clone(), seq });
                } else {
                    ext.pairs.remove(k);
                }
                changed.push(json!({"Key": k, "Value": value, "Seq": seq}));
            }
        }
    }
    let event = json!({
        "From_Account": m.from,
        "To_Account": m.to,
        "MsgKey": m.key,
        "OperateType": op,
        "ExtensionList": changed,
        "Seq": seq,
        "EventTime": now_ms,
    });
    let results: Vec<Value> = changed.iter().map(|p| json!({"ErrorCode": 0, "Extension": p})).collect();
    Ok(Done::reply(json!({"ExtensionList": results})).event("C2C.CallbackAfterC2CMsgExtension", event))
}

fn get_key_values(w: &mut World, call: &Call<'_>) -> Handled {
    let start = call.u64("StartSeq").unwrap_or(0);
    let m = extension_target(w, call)?;
    let ext = &m.extension;
    let mut pairs: Vec<(&String, &ExtensionPair)> =
        ext.pairs.iter().filter(|(_, p)| p.seq >= start).collect();
    pairs.sort_by(|a, b| a.1.seq.cmp(&b.1.seq).then_with(|| a.0.cmp(b.0)));
    let complete = pairs.len() <= EXTENSION_PAGE;
    let list: Vec<Value> = pairs
        .iter()
        .take(EXTENSION_PAGE)
        .map(|(k, p)| json!({"Key": k, "Value": p.value, "Seq": p.seq}))
        .collect();
    Ok(Done::reply(json!({
        "ExtensionList": list,
        "CompleteFlag": u32::from(complete),
        "LatestSeq": ext.latest_seq,
        "ClearSeq": ext.clear_seq,
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::{Call, Done, Handled, World};

    const ADMIN: &str = "admin";

    fn world(accounts: &[&str]) -> World {
        let mut w = World::new(ADMIN);
        for a in accounts {
            w.accounts.ensure(a);
        }
        w
    }

    fn canonical(path: &str, body: &Value) -> Value {
        let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"));
        let raw = serde_json::to_vec(body).unwrap_or_default();
        match entry.map(|e| (e.parse_request)(&raw)) {
            Some(Ok(v)) => v,
            Some(Err(e)) => panic!("{path}: invalid test request: {e}"),
            None => panic!("no endpoint {path}"),
        }
    }

    fn call<'a>(path: &'a str, body: &'a Value, now: u64) -> Call<'a> {
        let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"));
        let meta = entry.map(|e| e.meta).unwrap_or_else(|| panic!("no endpoint {path}"));
        Call { meta, path, body, operator: ADMIN, now }
    }

    /// Runs a call on the canonical body, as the mock server does after
    /// checking the request against its spec.
    fn run(w: &mut World, path: &str, body: Value, now: u64) -> Handled {
        let body = canonical(path, &body);
        let c = call(path, &body, now);
        w.handle(&c).unwrap_or_else(|| panic!("{path} is not stateful"))
    }

    /// A successful call whose reply decodes as the endpoint's typed response.
    fn ok(w: &mut World, path: &str, body: Value, now: u64) -> Done {
        let done = run(w, path, body, now).unwrap_or_else(|r| panic!("{path} refused: {r}"));
        let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"));
        let raw = serde_json::to_vec(&done.body()).unwrap_or_default();
        if let Some(Err(e)) = entry.map(|e| (e.parse_reply)(&raw)) {
            panic!("{path}: the reply does not decode: {e}");
        }
        done
    }

    fn code(w: &mut World, path: &str, body: Value, now: u64) -> i64 {
        match run(w, path, body, now) {
            Ok(d) => panic!("{path} succeeded: {:?}", d.reply),
            Err(r) => r.code,
        }
    }

    fn code_of(path: &str, name: &str) -> i64 {
        let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"));
        let meta = entry.map(|e| e.meta).unwrap_or_else(|| panic!("no endpoint {path}"));
        meta.errors.iter().find(|e| e.name == name).map(|e| e.code).unwrap_or_else(|| panic!("no {name}"))
    }

    fn send(w: &mut World, from: &str, to: &str, text: &str, now: u64) -> String {
        let d = ok(
            w,
            "openim/sendmsg",
            json!({"From_Account": from, "To_Account": to, "MsgRandom": 7,
                   "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}),
            now,
        );
        d.reply.get("MsgKey").and_then(Value::as_str).map(str::to_owned).unwrap_or_default()
    }

    fn roam(w: &mut World, op: &str, peer: &str, max: u64, max_time: u64, last: Option<&str>) -> Value {
        let mut body = json!({"Operator_Account": op, "Peer_Account": peer, "MaxCnt": max, "MinTime": 0, "MaxTime": max_time});
        if let Some(k) = last {
            body["LastMsgKey"] = json!(k);
        }
        Value::Object(ok(w, "openim/admin_getroammsg", body, 2000).reply)
    }

    #[test]
    fn sends_count_unread_per_peer_and_in_total() {
        let mut w = world(&["a", "b", "c"]);
        for i in 0..3 {
            send(&mut w, "a", "b", &format!("m{i}"), 1000);
        }
        send(&mut w, "c", "b", "hi", 1001);
        assert_eq!(w.c2c.unread("b", "a"), 3);
        assert_eq!(w.c2c.total_unread("b"), 4);
        assert_eq!(w.c2c.unread("a", "b"), 0);
        let d = ok(&mut w, "openim/get_c2c_unread_msg_num", json!({"To_Account": "b"}), 1002);
        assert_eq!(d.reply["AllC2CUnreadMsgNum"], json!(4));
        let d = ok(
            &mut w,
            "openim/get_c2c_unread_msg_num",
            json!({"To_Account": "b", "Peer_Account": ["a", "nobody"]}),
            1002,
        );
        assert_eq!(d.reply["C2CUnreadMsgNumList"], json!([{"Peer_Account": "a", "C2CUnreadMsgNum": 3}]));
        assert_eq!(d.reply["ErrorList"][0]["Peer_Account"], json!("nobody"));
        let msgs = w.c2c.messages_between("b", "a");
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0].body[0]["MsgContent"]["Text"], json!("m0"));
    }

    #[test]
    fn send_refuses_unknown_accounts_with_documented_codes() {
        let mut w = world(&["a"]);
        let body = json!({"From_Account": "a", "To_Account": "ghost", "MsgRandom": 1, "MsgBody": []});
        assert_eq!(
            code(&mut w, "openim/sendmsg", body.clone(), 1),
            code_of("openim/sendmsg", "ToAccountNotFound")
        );
        let c = call("openim/sendmsg", &body, 1);
        assert!(w.before(&c).is_some_and(|r| r.is_err()));
        let body = json!({"From_Account": "ghost", "To_Account": "a", "MsgRandom": 1, "MsgBody": []});
        assert_eq!(code(&mut w, "openim/sendmsg", body, 1), code_of("openim/sendmsg", "InvalidUserId"));
        assert!(w.c2c.threads.is_empty());
    }

    #[test]
    fn before_and_after_callbacks_carry_the_stored_key() {
        let mut w = world(&["a", "b"]);
        let body = json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 9, "MsgBody": [], "CloudCustomData": "x"});
        let c = call("openim/sendmsg", &body, 500);
        let events = w.before(&c).and_then(Result::ok).unwrap_or_default();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].command, "C2C.CallbackBeforeSendMsg");
        let d = ok(&mut w, "openim/sendmsg", body.clone(), 500);
        assert_eq!(events[0].payload["MsgKey"], d.reply["MsgKey"]);
        assert_eq!(d.events.len(), 1);
        let after = &d.events[0];
        assert_eq!(after.command, "C2C.CallbackAfterSendMsg");
        assert_eq!(after.payload["UnreadMsgNum"], json!(1));
        assert_eq!(after.payload["CloudCustomData"], json!("x"));
        assert_eq!(after.payload["OnlineOnlyFlag"], json!(0));

        let mut body = body;
        body["ForbidCallbackControl"] = json!(["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]);
        let c = call("openim/sendmsg", &body, 501);
        assert_eq!(w.before(&c).and_then(Result::ok), Some(Vec::new()));
        assert!(ok(&mut w, "openim/sendmsg", body, 501).events.is_empty());
        assert_eq!(w.c2c.unread("b", "a"), 2);
    }

    #[test]
    fn online_only_and_no_unread_messages() {
        let mut w = world(&["a", "b"]);
        let d = ok(
            &mut w,
            "openim/sendmsg",
            json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "MsgLifeTime": 0, "MsgBody": []}),
            10,
        );
        assert_eq!(d.events[0].payload["OnlineOnlyFlag"], json!(1));
        assert!(w.c2c.messages_between("a", "b").is_empty());
        ok(
            &mut w,
            "openim/sendmsg",
            json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "SendMsgControl": ["NoUnread"], "MsgBody": []}),
            10,
        );
        assert_eq!(w.c2c.messages_between("a", "b").len(), 1);
        assert_eq!(w.c2c.unread("b", "a"), 0);
    }

    #[test]
    fn set_msg_read_clears_up_to_the_read_time() {
        let mut w = world(&["a", "b"]);
        send(&mut w, "a", "b", "old", 100);
        send(&mut w, "a", "b", "old2", 100);
        send(&mut w, "a", "b", "new", 200);
        let d = ok(
            &mut w,
            "openim/admin_set_msg_read",
            json!({"Report_Account": "b", "Peer_Account": "a", "MsgReadTime": "150"}),
            300,
        );
        assert_eq!(w.c2c.unread("b", "a"), 1);
        assert_eq!(d.events[0].command, "C2C.CallbackAfterMsgReport");
        assert_eq!(d.events[0].payload["LastReadTime"], json!(150));
        assert_eq!(d.events[0].payload["UnreadMsgNum"], json!(1));
        let d =
            ok(&mut w, "openim/admin_set_msg_read", json!({"Report_Account": "b", "Peer_Account": "a"}), 300);
        assert_eq!(w.c2c.unread("b", "a"), 0);
        assert_eq!(d.events[0].payload["LastReadTime"], json!(300));
        let missing =
            code(&mut w, "openim/admin_set_msg_read", json!({"Report_Account": "x", "Peer_Account": "a"}), 1);
        assert_eq!(missing, code_of("openim/admin_set_msg_read", "FromAccountInvalid"));
    }

    #[test]
    fn receipts_set_is_peer_read() {
        let mut w = world(&["a", "b"]);
        let k1 = send(&mut w, "a", "b", "1", 100);
        let _k2 = send(&mut w, "a", "b", "2", 101);
        ok(
            &mut w,
            "openim/c2c_msg_read_receipt",
            json!({"Operator_Account": "b", "Peer_Account": "a",
                   "C2CMsgInfo": [{"From_Account": "a", "To_Account": "b", "MsgKey": k1}]}),
            102,
        );
        let page = roam(&mut w, "a", "b", 10, 1000, None);
        let flags: Vec<&Value> =
            page["MsgList"].as_array().into_iter().flatten().map(|m| &m["IsPeerRead"]).collect();
        assert_eq!(flags, [&json!(1), &json!(0)]);
        let wrong = code(
            &mut w,
            "openim/c2c_msg_read_receipt",
            json!({"Operator_Account": "b", "Peer_Account": "a",
                   "C2CMsgInfo": [{"From_Account": "b", "To_Account": "a", "MsgKey": k1}]}),
            102,
        );
        assert_ne!(wrong, 0);
    }

    #[test]
    fn roam_pages_return_every_message_once() {
        let mut w = world(&["a", "b"]);
        let mut keys = Vec::new();
        for i in 0..7u64 {
            let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
            keys.push(send(&mut w, from, to, &format!("{i}"), 100 + i / 2));
        }
        let mut got = Vec::new();
        let (mut max_time, mut last) = (1000u64, None::<String>);
        for _ in 0..10 {
            let page = roam(&mut w, "a", "b", 3, max_time, last.as_deref());
            let list = page["MsgList"].as_array().cloned().unwrap_or_default();
            assert_eq!(page["MsgCnt"], json!(list.len()));
            let mut texts: Vec<String> =
                list.iter().map(|m| m["MsgKey"].as_str().unwrap_or_default().to_owned()).collect();
            texts.append(&mut got);
            got = texts;
            if page["Complete"] == json!(1) {
                break;
            }
            max_time = page["LastMsgTime"].as_u64().unwrap_or(0);
            last = page["LastMsgKey"].as_str().map(str::to_owned);
        }
        assert_eq!(got, keys);
    }

    #[test]
    fn withdraw_flags_the_message_and_fires_the_callback() {
        let mut w = world(&["a", "b"]);
        let k = send(&mut w, "a", "b", "oops", 100);
        send(&mut w, "a", "b", "fine", 101);
        let d = ok(
            &mut w,
            "openim/admin_msgwithdraw",
            json!({"From_Account": "a", "To_Account": "b", "MsgKey": k}),
            102,
        );
        assert_eq!(d.events[0].command, "C2C.CallbackAfterMsgWithDraw");
        assert_eq!(d.events[0].payload["UnreadMsgNum"], json!(1));
        assert_eq!(w.c2c.unread("b", "a"), 1);
        let page = roam(&mut w, "b", "a", 10, 1000, None);
        assert_eq!(page["MsgList"][0]["MsgFlagBits"], json!(8));
        assert_eq!(page["MsgList"][0]["MsgBody"], json!([]));
        assert_eq!(page["MsgList"][1]["MsgFlagBits"], json!(0));
        let not_found = code_of("openim/admin_msgwithdraw", "MessageNotFound");
        let again = json!({"From_Account": "a", "To_Account": "b", "MsgKey": k});
        assert_eq!(code(&mut w, "openim/admin_msgwithdraw", again, 103), not_found);
        let unknown = json!({"From_Account": "a", "To_Account": "b", "MsgKey": "1_2_3"});
        assert_eq!(code(&mut w, "openim/admin_msgwithdraw", unknown, 103), not_found);
    }

    #[test]
    fn modify_replaces_body_and_custom_data() {
        let mut w = world(&["a", "b"]);
        let k = send(&mut w, "a", "b", "before", 100);
        ok(
            &mut w,
            "openim/modify_c2c_msg",
            json!({"From_Account": "a", "To_Account": "b", "MsgKey": k,
                   "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "after"}}], "CloudCustomData": "cd"}),
            101,
        );
        let m = w.c2c.message("a", "b", &k).cloned().unwrap_or_default();
        assert_eq!(m.body[0]["MsgContent"]["Text"], json!("after"));
        assert_eq!(m.cloud_custom_data.as_deref(), Some("cd"));
        let bad = json!({"From_Account": "b", "To_Account": "a", "MsgKey": k, "CloudCustomData": "x"});
        assert!(run(&mut w, "openim/modify_c2c_msg", bad, 102).is_err());
    }

    #[test]
    fn delete_ramble_hides_for_one_side() {
        let mut w = world(&["a", "b"]);
        let k = send(&mut w, "a", "b", "x", 100);
        let d = ok(
            &mut w,
            "openim/delete_c2c_msg_ramble",
            json!({"Operator_Account": "b", "Peer_Account": "a", "MsgKeyList": [k, "9_9_9"]}),
            101,
        );
        assert_eq!(d.reply["InvalidMsgKeyList"], json!(["9_9_9"]));
        assert_eq!(roam(&mut w, "b", "a", 10, 1000, None)["MsgCnt"], json!(0));
        assert_eq!(roam(&mut w, "a", "b", 10, 1000, None)["MsgCnt"], json!(1));
        assert_eq!(w.c2c.unread("b", "a"), 0);
    }

    #[test]
    fn sync_other_machine_2_keeps_it_out_of_the_senders_history() {
        let mut w = world(&["a", "b"]);
        ok(
            &mut w,
            "openim/sendmsg",
            json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "SyncOtherMachine": 2, "MsgBody": []}),
            100,
        );
        assert_eq!(roam(&mut w, "a", "b", 10, 1000, None)["MsgCnt"], json!(0));
        assert_eq!(roam(&mut w, "b", "a", 10, 1000, None)["MsgCnt"], json!(1));
        assert!(w.c2c.conversations_of("a").is_empty());
        assert_eq!(w.c2c.conversations_of("b").len(), 1);
    }

    #[test]
    fn extensions_round_trip() {
        let mut w = world(&["a", "b"]);
        let d = ok(
            &mut w,
            "openim/sendmsg",
            json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "SupportMessageExtension": 1, "MsgBody": []}),
            100,
        );
        let k = d.reply["MsgKey"].as_str().unwrap_or_default().to_owned();
        let plain = send(&mut w, "a", "b", "no ext", 100);
        let set = |key: &str, op: u64, list: Value| json!({"From_Account": "a", "To_Account": "b", "MsgKey": key, "OperateType": op, "ExtensionList": list});
        let d = ok(
            &mut w,
            "openim_msg_ext_http_svc/set_key_values",
            set(&k, 1, json!([{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])),
            101,
        );
        assert_eq!(
            d.reply["ExtensionList"][1],
            json!({"ErrorCode": 0, "Extension": {"Key": "k2", "Value": "v2", "Seq": 1}})
        );
        assert_eq!(d.events[0].command, "C2C.CallbackAfterC2CMsgExtension");
        ok(
            &mut w,
            "openim_msg_ext_http_svc/set_key_values",
            set(&k, 1, json!([{"Key": "k3", "Value": "v3"}])),
            102,
        );
        ok(
            &mut w,
            "openim_msg_ext_http_svc/set_key_values",
            set(&k, 2, json!([{"Key": "k1", "Value": ""}])),
            103,
        );
        let get = json!({"To_Account": "b", "MsgKey": k});
        let d = ok(&mut w, "openim_msg_ext_http_svc/get_key_values", get, 104);
        assert_eq!(
            d.reply["ExtensionList"],
            json!([{"Key": "k2", "Value": "v2", "Seq": 1}, {"Key": "k3", "Value": "v3", "Seq": 2}])
        );
        assert_eq!(d.reply["LatestSeq"], json!(3));
        assert_eq!(d.reply["CompleteFlag"], json!(1));
        let d = ok(
            &mut w,
            "openim_msg_ext_http_svc/get_key_values",
            json!({"To_Account": "b", "MsgKey": k, "StartSeq": 2}),
            104,
        );
        assert_eq!(d.reply["ExtensionList"].as_array().map(Vec::len), Some(1));
        ok(
            &mut w,
            "openim_msg_ext_http_svc/set_key_values",
            json!({"To_Account": "b", "MsgKey": k, "OperateType": 3}),
            105,
        );
        let d = ok(
            &mut w,
            "openim_msg_ext_http_svc/get_key_values",
            json!({"To_Account": "b", "MsgKey": k}),
            106,
        );
        assert_eq!(d.reply["ExtensionList"], json!([]));
        assert_eq!(d.reply["ClearSeq"], json!(4));
        let path = "openim_msg_ext_http_svc/set_key_values";
        assert_eq!(
            code(&mut w, path, set(&plain, 1, json!([{"Key": "a", "Value": "b"}])), 107),
            code_of(path, "ExtensionNotSupported")
        );
        assert_eq!(code(&mut w, path, set("1_1_1", 1, json!([])), 107), code_of(path, "MessageNotFound"));
    }

    #[test]
    fn batch_send_reports_missing_recipients() {
        let mut w = world(&["a", "b", "c"]);
        let d = ok(
            &mut w,
            "openim/batchsendmsg",
            json!({"From_Account": "a", "To_Account": ["b", "ghost", "c"], "MsgRandom": 5, "MsgBody": []}),
            100,
        );
        assert_eq!(d.reply["ActionStatus"], json!("SomeError"));
        assert_eq!(d.reply["ErrorList"][0]["To_Account"], json!("ghost"));
        let key = d.reply["MsgKey"].as_str().unwrap_or_default();
        assert!(w.c2c.message("a", "b", key).is_some() && w.c2c.message("a", "c", key).is_some());
        assert!(d.events.is_empty());
        let none = json!({"To_Account": ["x", "y"], "MsgRandom": 5, "MsgBody": []});
        assert_eq!(
            code(&mut w, "openim/batchsendmsg", none, 100),
            code_of("openim/batchsendmsg", "ToAccountNotFound")
        );
    }

    #[test]
    fn import_uses_the_given_time_and_deduplicates() {
        let mut w = world(&["a", "b"]);
        let body = json!({"SyncFromOldSystem": 2, "From_Account": "a", "To_Account": "b", "MsgSeq": 4, "MsgRandom": 5,
                          "MsgTimeStamp": 1_556_178_721u64, "MsgBody": []});
        let d = ok(&mut w, "openim/importmsg", body.clone(), 2_000_000_000);
        assert!(d.events.is_empty());
        ok(&mut w, "openim/importmsg", body, 2_000_000_000);
        let msgs = w.c2c.messages_between("a", "b");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].time, 1_556_178_721);
        assert_eq!(msgs[0].key, "4_5_1556178721");
        assert_eq!(w.c2c.unread("b", "a"), 0);
        let realtime = json!({"SyncFromOldSystem": 5, "From_Account": "b", "To_Account": "a", "MsgRandom": 6,
                              "MsgTimeStamp": 1_556_178_800u64, "MsgBody": []});
        ok(&mut w, "openim/importmsg", realtime, 2_000_000_000);
        assert_eq!(w.c2c.unread("a", "b"), 1);
    }

    #[test]
    fn state_survives_a_json_round_trip() {
        let mut w = world(&["a", "b"]);
        let k = send(&mut w, "a", "b", "kept", 100);
        ok(
            &mut w,
            "openim/admin_msgwithdraw",
            json!({"From_Account": "a", "To_Account": "b", "MsgKey": k}),
            101,
        );
        send(&mut w, "b", "a", "unread", 102);
        let text = serde_json::to_string(&w).unwrap_or_default();
        let back: World = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.c2c.messages_between("a", "b").len(), 2);
        assert!(back.c2c.message("a", "b", &k).is_some_and(|m| m.recalled));
        assert_eq!(back.c2c.unread("a", "b"), 1);
        assert_eq!(back.c2c.counter, w.c2c.counter);
    }

    #[test]
    fn forget_account_removes_its_threads() {
        let mut w = world(&["a", "b", "c"]);
        send(&mut w, "a", "b", "x", 1);
        send(&mut w, "c", "a", "y", 1);
        send(&mut w, "b", "c", "z", 1);
        assert!(w.mentions_account("a"));
        w.forget_account("a");
        assert!(!w.mentions_account("a"));
        assert!(w.c2c.conversations_of("b").iter().all(|c| c.peer != "a"));
        assert_eq!(w.c2c.messages_between("b", "c").len(), 1);
    }
}
