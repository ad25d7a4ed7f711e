//! Sending one-to-one messages: sendmsg, batchsendmsg and importmsg.

use std::collections::BTreeSet;

use tim_runtime::api::callbacks::c2c::{after_send_msg, before_send_msg};
use tim_runtime::api::openim::{batchsendmsg, importmsg, sendmsg};
use tim_runtime::api::types::{ForbidCallback, MsgBody, SendMsgControl, SyncFromOldSystem, SyncOtherMachine};
use tim_runtime::ErrorRole;

use super::{missing_account_code, C2c, C2cMessage, Extension};
use crate::world::typed::{Answer, Typed};
use crate::world::wire_i32;
use crate::world::{conversations, Call, Event, Refusal, World};

fn has_control(controls: Option<&Vec<SendMsgControl>>, which: &SendMsgControl) -> bool {
    controls.is_some_and(|c| c.contains(which))
}

fn forbidden(forbid: Option<&Vec<ForbidCallback>>, which: &ForbidCallback) -> bool {
    forbid.is_some_and(|f| f.contains(which))
}

/// Sender (the administrator without `From_Account`) and recipient of a
/// send, both existing.
fn send_parties<'a>(
    w: &World,
    call: &Call<'a>,
    from: Option<&'a str>,
    to: &'a str,
) -> Result<(&'a str, &'a str), Refusal> {
    let from = from.unwrap_or(call.operator);
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
    seq: u32,
    generated_seq: bool,
    random: u32,
    time: u64,
    key: String,
    online_only: bool,
}

impl Plan {
    fn new(c2c: &C2c, call: &Call<'_>, seq: Option<u32>, random: u32, time: Option<u64>) -> Self {
        // A generated sequence wraps within the wire's 32 bits.
        let wrap = |n: u64| (n % (u64::from(u32::MAX) + 1)) as u32;
        let (seq, generated_seq) = match (seq, call.ticket) {
            (Some(s), _) => (s, false),
            // Taken before the before-callbacks: nothing left to take.
            (None, Some(ticket)) => (wrap(ticket), false),
            // The counter is taken by the handler; `before` peeks at the same number.
            (None, None) => (wrap(c2c.counter.saturating_add(1)), true),
        };
        let time = time.unwrap_or(call.now);
        Self { seq, generated_seq, random, time, key: format!("{seq}_{random}_{time}"), online_only: false }
    }

    fn online_only(mut self, life_time: Option<u32>) -> Self {
        self.online_only = life_time == Some(0);
        self
    }

    /// Takes the generated sequence from the counter.
    fn commit(&self, c2c: &mut C2c) {
        if self.generated_seq {
            c2c.next();
        }
    }

    fn before_payload(&self, req: &sendmsg::Request, from: &str, to: &str) -> before_send_msg::Payload {
        let mut p = before_send_msg::Payload::new(from, to)
            .msg_seq(self.seq)
            .msg_random(self.random)
            .msg_time(self.time)
            .msg_key(self.key.as_str())
            .online_only_flag(u8::from(self.online_only))
            .msg_body(req.msg_body.clone());
        p.cloud_custom_data.clone_from(&req.cloud_custom_data);
        p
    }

    /// The message for `to`.
    fn message(&self, msg: Outgoing<'_>, from: &str, to: &str, unread: bool) -> C2cMessage {
        let mut hidden_for = Vec::new();
        if msg.sync == Some(&SyncOtherMachine::NoSync) && from != to {
            hidden_for.push(from.to_owned());
        }
        C2cMessage {
            from: from.to_owned(),
            to: to.to_owned(),
            seq: u64::from(self.seq),
            random: u64::from(self.random),
            time: self.time,
            key: self.key.clone(),
            order: 0,
            body: msg.body.clone(),
            cloud_custom_data: msg.cloud_custom_data.map(str::to_owned),
            recalled: false,
            unread,
            peer_read: false,
            need_read_receipt: msg.need_read_receipt == Some(1),
            no_last_msg: has_control(msg.controls, &SendMsgControl::NoLastMsg),
            hidden_for,
            supports_extension: msg.supports_extension == Some(1),
            extension: Extension::default(),
        }
    }
}

/// The parts of a send request a stored message keeps.
#[derive(Clone, Copy)]
struct Outgoing<'a> {
    body: &'a MsgBody,
    cloud_custom_data: Option<&'a str>,
    sync: Option<&'a SyncOtherMachine>,
    controls: Option<&'a Vec<SendMsgControl>>,
    need_read_receipt: Option<u32>,
    supports_extension: Option<u32>,
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

/// `C2C.CallbackBeforeSendMsg`, unless the request forbids it.
pub(super) fn before_sendmsg(
    w: &World,
    call: &Call<'_>,
    req: &sendmsg::Request,
) -> Result<Vec<Event>, Refusal> {
    let (from, to) = send_parties(w, call, req.from_account.as_deref(), &req.to_account)?;
    if forbidden(req.forbid_callback_control.as_ref(), &ForbidCallback::BeforeSendMsg) {
        return Ok(Vec::new());
    }
    let plan = Plan::new(&w.c2c, call, req.msg_seq, req.msg_random, None).online_only(req.msg_life_time);
    Ok(vec![Event::typed(&plan.before_payload(req, from, to))])
}

pub(super) fn sendmsg(w: &mut World, call: &Call<'_>, req: sendmsg::Request) -> Typed<sendmsg::Request> {
    let (from, to) = send_parties(w, call, req.from_account.as_deref(), &req.to_account)?;
    let plan = Plan::new(&w.c2c, call, req.msg_seq, req.msg_random, None).online_only(req.msg_life_time);
    plan.commit(&mut w.c2c);
    let controls = req.send_msg_control.as_ref();
    if !plan.online_only {
        let unread = !has_control(controls, &SendMsgControl::NoUnread) && from != to;
        let out = Outgoing {
            body: &req.msg_body,
            cloud_custom_data: req.cloud_custom_data.as_deref(),
            sync: req.sync_other_machine.as_ref(),
            controls,
            need_read_receipt: req.is_need_read_receipt,
            supports_extension: req.support_message_extension,
        };
        deliver(w, plan.message(out, from, to, unread));
    }
    let reply = sendmsg::Response::new().msg_time(plan.time).msg_key(plan.key.as_str());
    let mut events = Vec::new();
    if !forbidden(req.forbid_callback_control.as_ref(), &ForbidCallback::AfterSendMsg) {
        let unread = i64::try_from(w.c2c.total_unread(to)).unwrap_or(i64::MAX);
        let mut p = after_send_msg::Payload::new(from, to)
            .msg_seq(plan.seq)
            .msg_random(plan.random)
            .msg_time(plan.time)
            .msg_key(plan.key.as_str())
            .online_only_flag(u8::from(plan.online_only))
            .send_msg_result(0i64)
            .error_info("send msg succeed")
            .unread_msg_num(unread)
            .msg_body(req.msg_body.clone());
        p.cloud_custom_data.clone_from(&req.cloud_custom_data);
        events.push(Event::typed(&p));
    }
    Ok(Answer::with_events(reply, events))
}

pub(super) fn batchsendmsg(
    w: &mut World,
    call: &Call<'_>,
    req: batchsendmsg::Request,
) -> Typed<batchsendmsg::Request> {
    let from = req.from_account.as_deref().unwrap_or(call.operator);
    if !w.accounts.exists(from) {
        return Err(call.refuse_field("From_Account", format!("From_Account {from} has not been imported")));
    }
    let mut seen = BTreeSet::new();
    let (found, missing): (Vec<&str>, Vec<&str>) = req
        .to_account
        .iter()
        .map(String::as_str)
        .filter(|r| seen.insert(*r))
        .partition(|r| w.accounts.exists(r));
    if found.is_empty() {
        return Err(call.refuse(ErrorRole::AccountNotFound, "no recipient in To_Account has been imported"));
    }
    let plan = Plan::new(&w.c2c, call, req.msg_seq, req.msg_random, None).online_only(req.msg_life_time);
    plan.commit(&mut w.c2c);
    let controls = req.send_msg_control.as_ref();
    if !plan.online_only {
        let out = Outgoing {
            body: &req.msg_body,
            cloud_custom_data: req.cloud_custom_data.as_deref(),
            sync: req.sync_other_machine.as_ref(),
            controls,
            need_read_receipt: req.is_need_read_receipt,
            supports_extension: None,
        };
        for to in &found {
            let unread = !has_control(controls, &SendMsgControl::NoUnread) && from != *to;
            deliver(w, plan.message(out, from, to, unread));
        }
    }
    let mut reply = batchsendmsg::Response::new().msg_key(plan.key.as_str());
    if missing.is_empty() {
        return Ok(reply.into());
    }
    let code = wire_i32(missing_account_code(call));
    reply = reply.error_list(
        missing
            .iter()
            .map(|m| batchsendmsg::RecipientError::new().to_account(*m).error_code(code))
            .collect::<Vec<_>>(),
    );
    Ok(Answer::some_error(reply))
}

pub(super) fn importmsg(
    w: &mut World,
    call: &Call<'_>,
    req: importmsg::Request,
) -> Typed<importmsg::Request> {
    let (from, to) = send_parties(w, call, Some(&req.from_account), &req.to_account)?;
    let plan = Plan::new(&w.c2c, call, req.msg_seq, req.msg_random, Some(req.msg_time_stamp));
    plan.commit(&mut w.c2c);
    // Deduplicated on MsgSeq, MsgRandom and MsgTimeStamp, in either direction.
    let (seq, random) = (u64::from(plan.seq), u64::from(plan.random));
    let duplicate = w.c2c.thread(from, to).is_some_and(|t| {
        t.messages.iter().any(|m| m.seq == seq && m.random == random && m.time == plan.time)
    });
    if !duplicate {
        let unread = req.sync_from_old_system == SyncFromOldSystem::Realtime && from != to;
        let out = Outgoing {
            body: &req.msg_body,
            cloud_custom_data: req.cloud_custom_data.as_deref(),
            sync: None,
            controls: None,
            need_read_receipt: None,
            supports_extension: None,
        };
        deliver(w, plan.message(out, from, to, unread));
    }
    Ok(importmsg::Response::new().into())
}
