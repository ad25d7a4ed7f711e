//! One-to-one history: roaming messages, withdrawal, one-sided deletion and modification.

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::C2cMessage;
use crate::world::{Call, Done, Handled, World};

/// `MsgFlagBits` of a recalled message in history pages.
const RECALLED_FLAG: u32 = 8;

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
pub(super) fn roam(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn withdraw(w: &mut World, call: &Call<'_>) -> Handled {
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
        return Err(call.refuse_named("AlreadyRecalled", format!("message {key} has already been recalled")));
    }
    m.recalled = true;
    m.unread = false;
    Ok(Done::ok().event(
        "C2C.CallbackAfterMsgWithDraw",
        json!({"From_Account": from, "To_Account": to, "MsgKey": key, "UnreadMsgNum": w.c2c.total_unread(to)}),
    ))
}

pub(super) fn delete_ramble(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn modify(w: &mut World, call: &Call<'_>) -> Handled {
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
