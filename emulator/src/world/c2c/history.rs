//! One-to-one history: roaming messages, withdrawal, one-sided deletion and modification.

use tim_runtime::api::callbacks::c2c::after_msg_with_draw;
use tim_runtime::api::openim::{
    admin_getroammsg as roam_msg, admin_msgwithdraw, delete_c2c_msg_ramble, modify_c2c_msg,
};
use tim_runtime::ErrorRole;

use super::C2cMessage;
use crate::world::typed::{Answer, Typed};
use crate::world::wire_u32;
use crate::world::{Call, Event, World};

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

fn roam_item(m: &C2cMessage) -> roam_msg::RoamMsg {
    let item = roam_msg::RoamMsg::new()
        .from_account(m.from.as_str())
        .to_account(m.to.as_str())
        .msg_seq(wire_u32(m.seq))
        .msg_random(wire_u32(m.random))
        .msg_time_stamp(m.time)
        .msg_flag_bits(if m.recalled { RECALLED_FLAG } else { 0 })
        .is_peer_read(u32::from(m.peer_read))
        .msg_key(m.key.as_str());
    // A recalled message keeps its place in history but not its content.
    if m.recalled {
        return item.msg_body(Vec::new());
    }
    let item = item.msg_body(m.body.clone());
    match &m.cloud_custom_data {
        Some(c) => item.cloud_custom_data(c.as_str()),
        None => item,
    }
}

/// A page of history: the newest `MaxCnt` messages of the time range (older
/// than `LastMsgKey` when continuing), listed oldest first; `LastMsgTime` and
/// `LastMsgKey` name the oldest of the page, where the next page ends.
pub(super) fn roam(w: &mut World, call: &Call<'_>, req: roam_msg::Request) -> Typed<roam_msg::Request> {
    let (operator, peer) = (req.operator_account.as_str(), req.peer_account.as_str());
    if !w.accounts.exists(operator) {
        return Err(call
            .refuse_field("Operator_Account", format!("Operator_Account {operator} has not been imported")));
    }
    let max_cnt = usize::try_from(req.max_cnt).unwrap_or(usize::MAX);
    let visible: Vec<&C2cMessage> =
        w.c2c.messages_between(operator, peer).into_iter().filter(|m| m.visible_to(operator)).collect();
    let before = req.last_msg_key.as_deref().filter(|k| !k.is_empty()).and_then(|k| cursor(&visible, k));
    let in_range: Vec<&C2cMessage> = visible
        .into_iter()
        .filter(|m| m.time >= req.min_time && m.time <= req.max_time)
        .filter(|m| before.is_none_or(|c| m.sort_key() < c))
        .collect();
    let start = in_range.len().saturating_sub(max_cnt);
    let page = in_range.get(start..).unwrap_or_default();
    let (last_time, last_key) = page.first().map_or((0, String::new()), |m| (m.time, m.key.clone()));
    Ok(roam_msg::Response::new()
        .complete(u32::from(start == 0))
        .msg_cnt(wire_u32(page.len()))
        .last_msg_time(last_time)
        .last_msg_key(last_key)
        .msg_list(page.iter().map(|m| roam_item(m)).collect::<Vec<_>>())
        .into())
}

pub(super) fn withdraw(
    w: &mut World,
    call: &Call<'_>,
    req: admin_msgwithdraw::Request,
) -> Typed<admin_msgwithdraw::Request> {
    let (from, to, key) = (req.from_account.as_str(), req.to_account.as_str(), req.msg_key.as_str());
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
    let unread = i64::try_from(w.c2c.total_unread(to)).unwrap_or(i64::MAX);
    let payload = after_msg_with_draw::Payload::new(from, to).msg_key(key).unread_msg_num(unread);
    Ok(Answer::with_events(admin_msgwithdraw::Response::new(), vec![Event::typed(&payload)]))
}

pub(super) fn delete_ramble(
    w: &mut World,
    call: &Call<'_>,
    req: delete_c2c_msg_ramble::Request,
) -> Typed<delete_c2c_msg_ramble::Request> {
    let (operator, peer) = (req.operator_account.as_str(), req.peer_account.as_str());
    for id in [operator, peer] {
        if !w.accounts.exists(id) {
            return Err(call.refuse(ErrorRole::AccountNotFound, format!("{id} has not been imported")));
        }
    }
    let mut invalid = Vec::new();
    for key in &req.msg_key_list {
        let found = w
            .c2c
            .thread_mut(operator, peer)
            .and_then(|t| t.messages.iter_mut().find(|m| &m.key == key && m.visible_to(operator)));
        match found {
            Some(m) => m.hide_for(operator),
            None => invalid.push(key.clone()),
        }
    }
    Ok(delete_c2c_msg_ramble::Response::new().invalid_msg_key_list(invalid).into())
}

pub(super) fn modify(
    w: &mut World,
    call: &Call<'_>,
    req: modify_c2c_msg::Request,
) -> Typed<modify_c2c_msg::Request> {
    let (from, to, key) = (req.from_account.as_str(), req.to_account.as_str(), req.msg_key.as_str());
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
    if let Some(b) = req.msg_body {
        m.body = b;
    }
    if let Some(c) = req.cloud_custom_data {
        m.cloud_custom_data = Some(c);
    }
    Ok(modify_c2c_msg::Response::new().into())
}
