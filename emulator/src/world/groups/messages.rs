//! Group messages: send, system notifications, history, recall, unread counts, receipts, deletion.

use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use super::{event_time, forbidden, group, group_id, group_mut, member_list, put, Group, GroupMessage};
use crate::world::{conversations, Call, Done, Handled, Refusal, World};

/// Most messages one history call returns.
const HISTORY_PAGE_MAX: usize = 20;

/// The group and the sender of a `send_group_msg`, or why it is refused.
pub(super) fn plan_send<'w>(w: &'w World, call: &Call<'_>) -> Result<(&'w Group, String), Refusal> {
    let g = group(w, call)?;
    let from = call.str("From_Account").unwrap_or(call.operator).to_owned();
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

pub(super) fn send_payload(call: &Call<'_>, g: &Group, from: &str) -> Map<String, Value> {
    let mut p = json!({
        "GroupId": group_id(call),
        "Type": g.group_type,
        "From_Account": from,
        "Operator_Account": call.operator,
        "OnlineOnlyFlag": call.u64("OnlineOnlyFlag").unwrap_or(0),
        "EventTime": event_time(call),
    });
    for f in ["Random", "MsgBody", "CloudCustomData", "TopicId"] {
        put(&mut p, f, call.body.get(f).cloned());
    }
    match p {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(super) fn send_group_msg(w: &mut World, call: &Call<'_>) -> Handled {
    let (g, from) = plan_send(w, call)?;
    let mut payload = send_payload(call, g, &from);
    let g = group_mut(&mut w.groups, call)?;
    if let Some(topic) = call.str("TopicId") {
        let (seq, done) = super::topics::send(g, call, topic, &from)?;
        if forbidden(call, "ForbidAfterSendMsgCallback") {
            return Ok(done);
        }
        payload.insert("MsgSeq".into(), json!(seq));
        payload.insert("MsgTime".into(), json!(call.now));
        return Ok(done.event("Group.CallbackAfterSendMsg", Value::Object(payload)));
    }
    let seq = g.msg_seq.saturating_add(1);
    g.msg_seq = seq;
    g.last_msg_time = call.now;
    let online_only = call.u64("OnlineOnlyFlag") == Some(1);
    if !online_only && g.has_member_list() {
        g.messages.push(GroupMessage {
            seq,
            from: from.clone(),
            random: call.u64("Random").unwrap_or(0),
            priority: call.str("MsgPriority").unwrap_or("Normal").to_owned(),
            time: call.now,
            body: call.body.get("MsgBody").cloned().unwrap_or(Value::Array(Vec::new())),
            cloud_custom_data: call.str("CloudCustomData").unwrap_or_default().to_owned(),
            recalled: false,
            supports_extension: call.u64("SupportMessageExtension") == Some(1),
            ..GroupMessage::default()
        });
    }
    // Messages kept out of unread counts leave caught-up members caught up.
    let not_unread = call.strings("SendMsgControl").iter().any(|c| c == "NoUnread")
        || !call.strings("To_Account").is_empty()
        || online_only;
    for m in &mut g.members {
        if m.account == from {
            m.msg_seq = seq;
            m.last_send_msg_time = call.now;
        } else if not_unread && m.msg_seq.saturating_add(1) == seq {
            m.msg_seq = seq;
        }
    }
    // Members who deleted the conversation see it again.
    let conversation = conversations::group_id(group_id(call));
    for m in &g.members {
        w.conversations.message_arrived(&m.account, &conversation);
    }
    let done = Done::reply(json!({"MsgTime": call.now, "MsgSeq": seq}));
    if forbidden(call, "ForbidAfterSendMsgCallback") {
        return Ok(done);
    }
    payload.insert("MsgSeq".into(), json!(seq));
    payload.insert("MsgTime".into(), json!(call.now));
    Ok(done.event("Group.CallbackAfterSendMsg", Value::Object(payload)))
}

/// `import_group_msg`: messages from before the migration, oldest first,
/// each with its own result. A `SendTime` in the future or before the last
/// stored message is refused for that message (10004), a body over the
/// documented size limit too (80002). Imported messages leave members who
/// were caught up caught up (no unread backlog from a migration).
pub(super) fn import_group_msg(w: &mut World, call: &Call<'_>) -> Handled {
    let items = match call.body.get("MsgList") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let max_body = call.meta.limit("msg_body_bytes");
    let g = group_mut(&mut w.groups, call)?;
    let mut results = Vec::new();
    for item in &items {
        let time = item.get("SendTime").and_then(Value::as_u64).unwrap_or(0);
        let from = item.get("From_Account").and_then(Value::as_str).unwrap_or_default();
        let body = item.get("MsgBody").cloned().unwrap_or(Value::Array(Vec::new()));
        let last = g.messages.last().map_or(0, |m| m.time);
        let size = serde_json::to_vec(&body).map_or(0, |b| b.len()) as u64;
        let refused = if time > call.now || time < last {
            Some(
                call.refuse_named("InvalidParameter", "SendTime is in the future or before the last message")
                    .code,
            )
        } else {
            max_body.filter(|l| size > l.max).map(|l| l.code.unwrap_or(-1))
        };
        if let Some(code) = refused {
            results.push(json!({"Result": code, "MsgTime": time}));
            continue;
        }
        let seq = g.msg_seq.saturating_add(1);
        let caught_up: Vec<bool> = g.members.iter().map(|m| m.msg_seq == g.msg_seq).collect();
        g.msg_seq = seq;
        g.last_msg_time = g.last_msg_time.max(time);
        g.messages.push(GroupMessage {
            seq,
            from: from.to_owned(),
            random: item.get("Random").and_then(Value::as_u64).unwrap_or(0),
            priority: "Normal".to_owned(),
            time,
            body,
            cloud_custom_data: String::new(),
            recalled: false,
            ..GroupMessage::default()
        });
        for (m, was) in g.members.iter_mut().zip(caught_up) {
            if was {
                m.msg_seq = seq;
            }
        }
        results.push(json!({"Result": 0, "MsgTime": time, "MsgSeq": seq}));
    }
    Ok(Done::reply(json!({"ImportMsgResult": results})))
}

pub(super) fn send_group_system_notification(w: &mut World, call: &Call<'_>) -> Handled {
    group(w, call)?;
    // System notifications are delivered, not stored: no state changes (a
    // listed non-member simply receives nothing; the page names no code).
    Ok(Done::ok())
}

fn priority_number(p: &str) -> u32 {
    match p {
        "High" => 1,
        "Low" => 3,
        "Lowest" => 4,
        _ => 2,
    }
}

pub(super) fn group_msg_get_simple(w: &mut World, call: &Call<'_>) -> Handled {
    let wanted = call.u64("ReqMsgNumber").unwrap_or(0) as usize;
    let g = group_mut(&mut w.groups, call)?;
    let page: Vec<&GroupMessage> = match call.str("TopicId") {
        Some(topic) => super::topics::history(g, call, topic, wanted.min(HISTORY_PAGE_MAX))?,
        None => {
            let upto = call.u64("ReqMsgSeq").unwrap_or(g.msg_seq);
            let with_recalled = call.u64("WithRecalledMsg") == Some(1);
            g.messages
                .iter()
                .rev()
                .filter(|m| m.seq <= upto && (with_recalled || !m.recalled))
                .take(wanted.min(HISTORY_PAGE_MAX))
                .collect()
        }
    };
    let list: Vec<Value> = page
        .into_iter()
        .map(|m| {
            json!({
                "From_Account": m.from,
                "IsPlaceMsg": if m.recalled { 2 } else { 0 },
                "MsgBody": if m.recalled { json!([]) } else { m.body.clone() },
                "MsgPriority": priority_number(&m.priority),
                "MsgRandom": m.random,
                "MsgSeq": m.seq,
                "MsgTimeStamp": m.time,
            })
        })
        .collect();
    let finished = u32::from(wanted <= HISTORY_PAGE_MAX);
    Ok(Done::reply(json!({"GroupId": group_id(call), "IsFinished": finished, "RspMsgList": list})))
}

fn seq_list(call: &Call<'_>) -> Vec<u64> {
    match call.body.get("MsgSeqList") {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|i| i.get("MsgSeq").and_then(Value::as_u64)).collect()
        }
        _ => Vec::new(),
    }
}

pub(super) fn group_msg_recall(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let missing = call.meta.error_with_role(ErrorRole::MessageNotFound).map_or(-1, |e| e.code);
    let mut results = Vec::new();
    let mut recalled = Vec::new();
    for seq in seq_list(call) {
        let code = match g.messages.iter_mut().find(|m| m.seq == seq && !m.recalled) {
            Some(m) => {
                m.recalled = true;
                recalled.push(json!({"MsgSeq": seq}));
                0
            }
            None => missing,
        };
        results.push(json!({"MsgSeq": seq, "RetCode": code}));
    }
    let done = Done::reply(json!({"RecallRetList": results}));
    if recalled.is_empty() {
        return Ok(done);
    }
    let mut p = json!({
        "Operator_Account": call.operator,
        "Type": g.group_type,
        "GroupId": group_id(call),
        "MsgSeqList": recalled,
        "EventTime": event_time(call),
    });
    put(&mut p, "TopicId", call.body.get("TopicId").cloned());
    Ok(done.event("Group.CallbackAfterRecallMsg", p))
}

pub(super) fn set_unread_msg_num(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let account = call.str("Member_Account").unwrap_or_default();
    let latest = g.msg_seq;
    // More than the group holds counts as every message of the group.
    let unread = call.u64("UnreadMsgNum").unwrap_or(0).min(latest);
    let Some(m) = g.member_mut(account) else {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{account} is not a member")));
    };
    m.msg_seq = latest.saturating_sub(unread);
    Ok(Done::ok())
}

pub(super) fn group_msg_receipt(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let reader = call.str("From_Account").unwrap_or_default().to_owned();
    if !g.is_member(&reader) {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{reader} is not a member")));
    }
    let seqs = seq_list(call);
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
    if changed.is_empty() {
        return Ok(Done::ok());
    }
    let list: Vec<Value> = changed
        .into_iter()
        .filter_map(|seq| {
            let (read, unread) = receipt_lists(g, seq)?;
            Some(json!({
                "MsgSeq": seq,
                "ReadNum": read.len(),
                "UnreadNum": unread.len(),
                "ReadReceiptMembers": member_list(read.iter().map(String::as_str)),
            }))
        })
        .collect();
    Ok(Done::ok().event(
        "Group.CallbackAfterReadReceipt",
        json!({"GroupId": group_id(call), "Type": g.group_type, "GroupMsgReceiptList": list, "EventTime": event_time(call)}),
    ))
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

pub(super) fn get_group_msg_receipt(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let missing = call.meta.error_with_role(ErrorRole::MessageNotFound).map_or(-1, |e| e.code);
    let list: Vec<Value> = seq_list(call)
        .into_iter()
        .map(|seq| match receipt_lists(g, seq) {
            Some((r, u)) => json!({"Code": 0, "MsgSeq": seq, "ReadNum": r.len(), "UnreadNum": u.len()}),
            None => json!({"Code": missing, "MsgSeq": seq, "ReadNum": 0, "UnreadNum": 0}),
        })
        .collect();
    Ok(Done::reply(json!({"GroupMsgReceiptList": list})))
}

pub(super) fn get_group_msg_receipt_detail(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let seq = call.u64("MsgSeq").unwrap_or(0);
    let Some((read, unread)) = receipt_lists(g, seq) else {
        return Err(call.refuse(ErrorRole::MessageNotFound, format!("no message {seq}")));
    };
    let want_read = call.u64("Filter") == Some(0);
    let all = if want_read { read } else { unread };
    let start = call.str("Cursor").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let count = call.u64("Count").filter(|c| *c > 0).map_or(usize::MAX, |c| c as usize);
    let end = start.saturating_add(count);
    let finished = end >= all.len();
    let page = all.iter().skip(start).take(count);
    let mut reply = json!({
        "MsgSeq": seq,
        "IsFinished": u32::from(finished),
        "IsFinish": u32::from(finished),
        // The sample answers a finished listing with the cursor "0".
        "Cursor": if finished { "0".to_owned() } else { end.to_string() },
    });
    if want_read {
        put(&mut reply, "ReadList", Some(Value::Array(page.map(|a| json!({"Read_Account": a})).collect())));
    } else {
        put(
            &mut reply,
            "UnreadList",
            Some(Value::Array(page.map(|a| json!({"Unread_Account": a})).collect())),
        );
    }
    Ok(Done::reply(reply))
}

/// Recalls silently: no callback, no notification.
pub(super) fn delete_group_msg_by_sender(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let sender = call.str("Sender_Account").unwrap_or_default();
    let start = g.messages.len().saturating_sub(1000);
    for m in g.messages.iter_mut().skip(start).filter(|m| m.from == sender) {
        m.recalled = true;
    }
    Ok(Done::ok())
}

pub(super) fn clear_group_msg(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let upto = call.u64("MsgSeq").unwrap_or(g.msg_seq).min(g.msg_seq);
    g.cleared_seq = g.cleared_seq.max(upto);
    Ok(Done::ok())
}
