//! Sending one-to-one messages: sendmsg, batchsendmsg and importmsg.

use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use super::{forbidden, missing_account_code, C2c, C2cMessage, Extension};
use crate::world::{conversations, Call, Done, Handled, Refusal, World};

/// `SyncFromOldSystem` value of a message imported as new (unread).
const IMPORT_REALTIME: u64 = 5;

/// `SyncOtherMachine` value that keeps the message out of the sender's history.
const NO_SYNC: u64 = 2;

fn has_control(call: &Call<'_>, which: &str) -> bool {
    call.body
        .get("SendMsgControl")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(which)))
}

/// Sender (the administrator without `From_Account`) and recipient of a
/// send, both existing.
pub(super) fn send_parties<'a>(w: &World, call: &Call<'a>) -> Result<(&'a str, &'a str), Refusal> {
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
pub(super) struct Plan {
    seq: u64,
    generated_seq: bool,
    random: u64,
    time: u64,
    key: String,
    online_only: bool,
}

impl Plan {
    pub(super) fn new(c2c: &C2c, call: &Call<'_>) -> Self {
        let wrap = |n: u64| n % (u64::from(u32::MAX) + 1);
        let (seq, generated_seq) = match (call.u64("MsgSeq"), call.ticket) {
            (Some(s), _) => (s, false),
            // Taken before the before-callbacks: nothing left to take.
            (None, Some(ticket)) => (wrap(ticket), false),
            // The counter is taken by `handle`; `before` peeks at the same number.
            (None, None) => (wrap(c2c.counter.saturating_add(1)), true),
        };
        let random = call.u64("MsgRandom").unwrap_or(0);
        let time = call.u64("MsgTimeStamp").unwrap_or(call.now);
        let online_only = call.u64("MsgLifeTime") == Some(0);
        Self { seq, generated_seq, random, time, key: format!("{seq}_{random}_{time}"), online_only }
    }

    pub(super) fn payload(&self, call: &Call<'_>, from: &str, to: &str) -> Map<String, Value> {
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

pub(super) fn sendmsg(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn batchsendmsg(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn importmsg(w: &mut World, call: &Call<'_>) -> Handled {
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
