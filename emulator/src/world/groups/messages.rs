//! Group messages: send, system notifications, history, recall, unread counts, receipts, deletion.

use tim_runtime::api::callbacks::group::{
    after_read_receipt, after_recall_msg, after_send_msg, before_send_msg,
};
use tim_runtime::api::group_open_http_svc::{
    clear_group_msg, delete_group_msg_by_sender, get_group_msg_receipt,
    get_group_msg_receipt_detail as detail, group_msg_get_simple, group_msg_recall, group_msg_receipt,
    import_group_msg, send_group_msg, send_group_system_notification,
};
use tim_runtime::api::types::{ForbidCallback, GroupHistoryMsg, GroupType, MsgPriority, SendMsgControl};
use tim_runtime::ErrorRole;

use super::{event_time, Group, GroupMessage};
use crate::world::typed::{Answer, Typed};
use crate::world::{conversations, Call, Event, Refusal, World};
use crate::world::{wire_i32, wire_u32};

/// The group and the sender of a `send_group_msg`, or why it is refused.
fn plan_send<'w>(
    w: &'w World,
    call: &Call<'_>,
    req: &send_group_msg::Request,
) -> Result<(&'w Group, String), Refusal> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let from = req.from_account.clone().unwrap_or_else(|| call.operator.to_owned());
    if from == call.operator {
        return Ok((g, from));
    }
    if !w.accounts.exists(&from) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("sender {from} does not exist")));
    }
    let role = match g.member(&from) {
        Some(m) => m.role.as_str(),
        None if g.has_member_list() => {
            return Err(call.refuse(ErrorRole::NotGroupMember, format!("sender {from} is not a member")));
        }
        None => "Member",
    };
    if let Some(until) = g.muted_until(&from, call.now) {
        return Err(call.refuse(ErrorRole::PermissionDenied, format!("sender {from} is muted until {until}")));
    }
    if g.mute_all_member && role == "Member" {
        return Err(call.refuse(ErrorRole::PermissionDenied, "the whole group is muted"));
    }
    Ok((g, from))
}

fn forbids(req: &send_group_msg::Request, which: &ForbidCallback) -> bool {
    req.forbid_callback_control.as_ref().is_some_and(|f| f.contains(which))
}

fn online_only(req: &send_group_msg::Request) -> u8 {
    u8::from(req.online_only_flag == Some(1))
}

/// `Group.CallbackBeforeSendMsg`, unless the request forbids it.
pub(super) fn before_send(
    w: &World,
    call: &Call<'_>,
    req: &send_group_msg::Request,
) -> Result<Vec<Event>, Refusal> {
    let (g, from) = plan_send(w, call, req)?;
    if forbids(req, &ForbidCallback::BeforeSendMsg) {
        return Ok(Vec::new());
    }
    let mut p = before_send_msg::Payload::new(req.group_id.as_str(), from)
        .r#type(GroupType::from_raw(g.group_type.clone()))
        .operator_account(call.operator)
        .random(req.random)
        .online_only_flag(online_only(req))
        .msg_body(req.msg_body.clone())
        .event_time(event_time(call));
    p.cloud_custom_data.clone_from(&req.cloud_custom_data);
    p.topic_id.clone_from(&req.topic_id);
    Ok(vec![Event::typed(&p)])
}

impl GroupMessage {
    /// The message a `send_group_msg` stores.
    pub(super) fn sent(req: &send_group_msg::Request, seq: u64, from: &str, now: u64) -> Self {
        GroupMessage {
            seq,
            from: from.to_owned(),
            random: u64::from(req.random),
            priority: req.msg_priority.as_ref().map_or("Normal", MsgPriority::as_str).to_owned(),
            time: now,
            body: req.msg_body.clone(),
            cloud_custom_data: req.cloud_custom_data.clone().unwrap_or_default(),
            recalled: false,
            supports_extension: req.support_message_extension == Some(1),
            ..GroupMessage::default()
        }
    }
}

pub(super) fn send_group_msg(
    w: &mut World,
    call: &Call<'_>,
    req: send_group_msg::Request,
) -> Typed<send_group_msg::Request> {
    let (g, from) = plan_send(w, call, &req)?;
    let group_type = GroupType::from_raw(g.group_type.clone());
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let seq = match &req.topic_id {
        Some(topic) => super::topics::send(g, call, topic, &req, &from)?,
        None => {
            let seq = g.msg_seq.saturating_add(1);
            g.msg_seq = seq;
            g.last_msg_time = call.now;
            let online = req.online_only_flag == Some(1);
            if !online && g.has_member_list() {
                g.messages.push(GroupMessage::sent(&req, seq, &from, call.now));
            }
            // Messages kept out of unread counts leave caught-up members caught up.
            let not_unread =
                req.send_msg_control.as_ref().is_some_and(|c| c.contains(&SendMsgControl::NoUnread))
                    || req.to_account.as_ref().is_some_and(|t| !t.is_empty())
                    || online;
            for m in &mut g.members {
                if m.account == from {
                    m.msg_seq = seq;
                    m.last_send_msg_time = call.now;
                } else if not_unread && m.msg_seq.saturating_add(1) == seq {
                    m.msg_seq = seq;
                }
            }
            // Members who deleted the conversation see it again.
            let conversation = conversations::group_id(&req.group_id);
            for m in &g.members {
                w.conversations.message_arrived(&m.account, &conversation);
            }
            seq
        }
    };
    let reply = send_group_msg::Response::new().msg_time(call.now).msg_seq(seq);
    if forbids(&req, &ForbidCallback::AfterSendMsg) {
        return Ok(reply.into());
    }
    let mut p = after_send_msg::Payload::new(req.group_id.as_str(), from)
        .r#type(group_type)
        .operator_account(call.operator)
        .random(req.random)
        .msg_seq(seq)
        .msg_time(call.now)
        .online_only_flag(online_only(&req))
        .event_time(event_time(call));
    p.cloud_custom_data = req.cloud_custom_data;
    p.topic_id = req.topic_id;
    p.msg_body = Some(req.msg_body);
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

/// `import_group_msg`: messages from before the migration, oldest first,
/// each with its own result. A `SendTime` in the future or before the last
/// stored message is refused for that message (10004), a body over the
/// documented size limit too (80002). Imported messages leave members who
/// were caught up caught up (no unread backlog from a migration).
pub(super) fn import_group_msg(
    w: &mut World,
    call: &Call<'_>,
    req: import_group_msg::Request,
) -> Typed<import_group_msg::Request> {
    let max_body = call.meta.limit("msg_body_bytes");
    let future =
        call.refuse_named("InvalidParameter", "SendTime is in the future or before the last message").code;
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let mut results = Vec::new();
    for item in req.msg_list {
        let time = item.send_time;
        let last = g.messages.last().map_or(0, |m| m.time);
        let size = serde_json::to_vec(&item.msg_body).map_or(0, |b| b.len()) as u64;
        let refused = if time > call.now || time < last {
            Some(future)
        } else {
            max_body.filter(|l| size > l.max).map(|l| l.code.unwrap_or(-1))
        };
        if let Some(code) = refused {
            let code = wire_i32(code);
            results.push(import_group_msg::ImportMsgResult::new().result(code).msg_time(time));
            continue;
        }
        let seq = g.msg_seq.saturating_add(1);
        let caught_up: Vec<bool> = g.members.iter().map(|m| m.msg_seq == g.msg_seq).collect();
        g.msg_seq = seq;
        g.last_msg_time = g.last_msg_time.max(time);
        g.messages.push(GroupMessage {
            seq,
            from: item.from_account,
            random: item.random.map_or(0, u64::from),
            priority: "Normal".to_owned(),
            time,
            body: item.msg_body,
            ..GroupMessage::default()
        });
        for (m, was) in g.members.iter_mut().zip(caught_up) {
            if was {
                m.msg_seq = seq;
            }
        }
        results.push(import_group_msg::ImportMsgResult::new().result(0i32).msg_time(time).msg_seq(seq));
    }
    Ok(import_group_msg::Response::new().import_msg_result(results).into())
}

pub(super) fn send_group_system_notification(
    w: &mut World,
    call: &Call<'_>,
    req: send_group_system_notification::Request,
) -> Typed<send_group_system_notification::Request> {
    w.groups.get_or_not_found(call, &req.group_id)?;
    // System notifications are delivered, not stored: no state changes (a
    // listed non-member simply receives nothing; the page names no code).
    Ok(send_group_system_notification::Response::new().into())
}

fn priority_number(p: &str) -> u32 {
    match p {
        "High" => 1,
        "Low" => 3,
        "Lowest" => 4,
        _ => 2,
    }
}

/// A stored message as history lists it.
pub(super) fn history_item(m: &GroupMessage) -> GroupHistoryMsg {
    let item = GroupHistoryMsg::new()
        .from_account(m.from.as_str())
        .is_place_msg(if m.recalled { 2u32 } else { 0 })
        .msg_priority(priority_number(&m.priority))
        .msg_random(wire_u32(m.random))
        .msg_seq(m.seq)
        .msg_time_stamp(m.time);
    item.msg_body(if m.recalled { Vec::new() } else { m.body.clone() })
}

pub(super) fn group_msg_get_simple(
    w: &mut World,
    call: &Call<'_>,
    req: group_msg_get_simple::Request,
) -> Typed<group_msg_get_simple::Request> {
    let wanted = usize::try_from(req.req_msg_number).unwrap_or(usize::MAX);
    let page_max = call.meta.limit("messages_per_page").map_or(usize::MAX, |l| l.max as usize);
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let with_recalled = req.with_recalled_msg == Some(1);
    let page: Vec<&GroupMessage> = match &req.topic_id {
        Some(topic) => {
            super::topics::history(g, call, topic, req.req_msg_seq, with_recalled, wanted.min(page_max))?
        }
        None => {
            let upto = req.req_msg_seq.unwrap_or(g.msg_seq);
            g.messages
                .iter()
                .rev()
                .filter(|m| m.seq <= upto && (with_recalled || !m.recalled))
                .take(wanted.min(page_max))
                .collect()
        }
    };
    let list: Vec<GroupHistoryMsg> = page.into_iter().map(history_item).collect();
    Ok(group_msg_get_simple::Response::new()
        .group_id(req.group_id)
        .is_finished(u32::from(wanted <= page_max))
        .rsp_msg_list(list)
        .into())
}

pub(super) fn group_msg_recall(
    w: &mut World,
    call: &Call<'_>,
    req: group_msg_recall::Request,
) -> Typed<group_msg_recall::Request> {
    let missing = call.meta.error_with_role(ErrorRole::MessageNotFound).map_or(-1, |e| e.code);
    let missing = wire_i32(missing);
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let mut results = Vec::new();
    let mut recalled = Vec::new();
    for item in &req.msg_seq_list {
        let seq = item.msg_seq;
        let code = match g.messages.iter_mut().find(|m| m.seq == seq && !m.recalled) {
            Some(m) => {
                m.recalled = true;
                recalled.push(after_recall_msg::RecalledMsg::new(seq));
                0
            }
            None => missing,
        };
        results.push(group_msg_recall::RecallRet::new().msg_seq(seq).ret_code(code));
    }
    let reply = group_msg_recall::Response::new().recall_ret_list(results);
    if recalled.is_empty() {
        return Ok(reply.into());
    }
    let mut p = after_recall_msg::Payload::new(call.operator, req.group_id.as_str())
        .r#type(GroupType::from_raw(g.group_type.clone()))
        .msg_seq_list(recalled)
        .event_time(event_time(call));
    p.topic_id = req.topic_id;
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

pub(super) fn set_unread_msg_num(
    w: &mut World,
    call: &Call<'_>,
    req: tim_runtime::api::group_open_http_svc::set_unread_msg_num::Request,
) -> Typed<tim_runtime::api::group_open_http_svc::set_unread_msg_num::Request> {
    use tim_runtime::api::group_open_http_svc::set_unread_msg_num::Response;
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let latest = g.msg_seq;
    // More than the group holds counts as every message of the group.
    let unread = u64::from(req.unread_msg_num).min(latest);
    let Some(m) = g.member_mut(&req.member_account) else {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{} is not a member", req.member_account)));
    };
    m.msg_seq = latest.saturating_sub(unread);
    Ok(Response::new().into())
}

pub(super) fn group_msg_receipt(
    w: &mut World,
    call: &Call<'_>,
    req: group_msg_receipt::Request,
) -> Typed<group_msg_receipt::Request> {
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let reader = req.from_account;
    if !g.is_member(&reader) {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{reader} is not a member")));
    }
    let seqs: Vec<u64> = req.msg_seq_list.iter().map(|i| i.msg_seq).collect();
    if let Some(seq) = seqs.iter().find(|s| g.message(**s).is_none_or(|m| m.recalled)) {
        return Err(call.refuse(ErrorRole::MessageNotFound, format!("no message {seq}")));
    }
    let mut changed = Vec::new();
    for seq in seqs {
        let sender = g.message(seq).map(|m| m.from.clone()).unwrap_or_default();
        if sender == reader {
            continue;
        }
        let readers = g.receipts.entry(seq.to_string()).or_default();
        if !readers.contains(&reader) {
            readers.push(reader.clone());
            changed.push(seq);
        }
    }
    let reply = group_msg_receipt::Response::new();
    if changed.is_empty() {
        return Ok(reply.into());
    }
    let list: Vec<after_read_receipt::GroupMsgReceipt> = changed
        .into_iter()
        .filter_map(|seq| {
            let (read, unread) = receipt_lists(g, seq)?;
            Some(
                after_read_receipt::GroupMsgReceipt::new()
                    .msg_seq(seq)
                    .read_num(wire_u32(read.len()))
                    .unread_num(wire_u32(unread.len()))
                    .read_receipt_members(
                        read.into_iter().map(after_read_receipt::ReadReceiptMember::new).collect::<Vec<_>>(),
                    ),
            )
        })
        .collect();
    let p = after_read_receipt::Payload::new(req.group_id.as_str())
        .r#type(GroupType::from_raw(g.group_type.clone()))
        .group_msg_receipt_list(list)
        .event_time(event_time(call));
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

/// Readers and non-readers of a message (members besides its sender), or
/// `None` when there is no such message.
fn receipt_lists(g: &Group, seq: u64) -> Option<(Vec<String>, Vec<String>)> {
    let msg = g.message(seq).filter(|m| !m.recalled)?;
    let readers = g.receipts.get(&seq.to_string()).cloned().unwrap_or_default();
    let unread = g
        .members
        .iter()
        .filter(|m| m.account != msg.from && !readers.contains(&m.account))
        .map(|m| m.account.clone())
        .collect();
    Some((readers, unread))
}

pub(super) fn get_group_msg_receipt(
    w: &mut World,
    call: &Call<'_>,
    req: get_group_msg_receipt::Request,
) -> Typed<get_group_msg_receipt::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let missing = call.meta.error_with_role(ErrorRole::MessageNotFound).map_or(-1, |e| e.code);
    let missing = wire_i32(missing);
    let list: Vec<get_group_msg_receipt::GroupMsgReceipt> = req
        .msg_seq_list
        .iter()
        .map(|i| {
            let item = get_group_msg_receipt::GroupMsgReceipt::new().msg_seq(i.msg_seq);
            match receipt_lists(g, i.msg_seq) {
                Some((r, u)) => item.code(0i32).read_num(wire_u32(r.len())).unread_num(wire_u32(u.len())),
                None => item.code(missing).read_num(0u32).unread_num(0u32),
            }
        })
        .collect();
    Ok(get_group_msg_receipt::Response::new().group_msg_receipt_list(list).into())
}

pub(super) fn get_group_msg_receipt_detail(
    w: &mut World,
    call: &Call<'_>,
    req: detail::Request,
) -> Typed<detail::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let seq = req.msg_seq.unwrap_or(0);
    let Some((read, unread)) = receipt_lists(g, seq) else {
        return Err(call.refuse(ErrorRole::MessageNotFound, format!("no message {seq}")));
    };
    let want_read = req.filter == detail::Filter::Read;
    let all = if want_read { read } else { unread };
    let start = req.cursor.parse::<usize>().unwrap_or(0);
    let count = match req.count {
        0 => usize::MAX,
        c => usize::try_from(c).unwrap_or(usize::MAX),
    };
    let end = start.saturating_add(count);
    let finished = end >= all.len();
    let page = all.into_iter().skip(start).take(count);
    let reply = detail::Response::new()
        .msg_seq(seq)
        .is_finished(u32::from(finished))
        .is_finish(u32::from(finished))
        // The sample answers a finished listing with the cursor "0".
        .cursor(if finished { "0".to_owned() } else { end.to_string() });
    let reply = if want_read {
        reply.read_list(page.map(|a| detail::ReadMember::new().read_account(a)).collect::<Vec<_>>())
    } else {
        reply.unread_list(page.map(|a| detail::UnreadMember::new().unread_account(a)).collect::<Vec<_>>())
    };
    Ok(reply.into())
}

/// Recalls silently: no callback, no notification.
pub(super) fn delete_group_msg_by_sender(
    w: &mut World,
    call: &Call<'_>,
    req: delete_group_msg_by_sender::Request,
) -> Typed<delete_group_msg_by_sender::Request> {
    let recent = call.meta.limit("recent_messages").map_or(usize::MAX, |l| l.max as usize);
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let start = g.messages.len().saturating_sub(recent);
    for m in g.messages.iter_mut().skip(start).filter(|m| m.from == req.sender_account) {
        m.recalled = true;
    }
    Ok(delete_group_msg_by_sender::Response::new().into())
}

pub(super) fn clear_group_msg(
    w: &mut World,
    call: &Call<'_>,
    req: clear_group_msg::Request,
) -> Typed<clear_group_msg::Request> {
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let upto = req.msg_seq.unwrap_or(g.msg_seq).min(g.msg_seq);
    g.cleared_seq = g.cleared_seq.max(upto);
    Ok(clear_group_msg::Response::new().into())
}
