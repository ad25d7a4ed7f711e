//! Read state of one-to-one messages: unread counts, read reports and read receipts.

use tim_runtime::api::callbacks::c2c::after_msg_report;
use tim_runtime::api::openim::{admin_set_msg_read, c2c_msg_read_receipt, get_c2c_unread_msg_num as unread};
use tim_runtime::ErrorRole;

use super::missing_account_code;
use crate::world::typed::{Answer, Typed};
use crate::world::{wire_i32, wire_u32};
use crate::world::{Call, Event, World};

pub(super) fn unread_num(w: &mut World, call: &Call<'_>, req: unread::Request) -> Typed<unread::Request> {
    let reader = req.to_account.as_str();
    if !w.accounts.exists(reader) {
        return Err(
            call.refuse(ErrorRole::AccountNotFound, format!("To_Account {reader} has not been imported"))
        );
    }
    let peers = req.peer_account.unwrap_or_default();
    if peers.is_empty() {
        return Ok(unread::Response::new()
            .all_c2c_unread_msg_num(wire_u32(w.c2c.total_unread(reader)))
            .into());
    }
    let code = wire_i32(missing_account_code(call));
    let mut list = Vec::new();
    let mut errors = Vec::new();
    for p in peers {
        if w.accounts.exists(&p) {
            let n = wire_u32(w.c2c.unread(reader, &p));
            list.push(unread::C2cUnreadMsgNum::new().peer_account(p).c2c_unread_msg_num(n));
        } else {
            errors.push(unread::PeerError::new().peer_account(p).error_code(code));
        }
    }
    let mut reply = unread::Response::new().c2c_unread_msg_num_list(list);
    if !errors.is_empty() {
        reply = reply.error_list(errors);
    }
    Ok(reply.into())
}

pub(super) fn set_msg_read(
    w: &mut World,
    call: &Call<'_>,
    req: admin_set_msg_read::Request,
) -> Typed<admin_set_msg_read::Request> {
    let (reporter, peer) = (req.report_account.as_str(), req.peer_account.as_str());
    if !w.accounts.exists(reporter) {
        return Err(
            call.refuse_field("Report_Account", format!("Report_Account {reporter} has not been imported"))
        );
    }
    if !w.accounts.exists(peer) {
        return Err(call.refuse_field("Peer_Account", format!("Peer_Account {peer} has not been imported")));
    }
    // `MsgReadTime` is documented as a string of seconds.
    let time = req.msg_read_time.as_deref().and_then(|t| t.trim().parse().ok()).unwrap_or(call.now);
    w.c2c.mark_read(reporter, peer, time);
    let unread = i64::try_from(w.c2c.total_unread(reporter)).unwrap_or(i64::MAX);
    let payload = after_msg_report::Payload::new(reporter, peer).last_read_time(time).unread_msg_num(unread);
    Ok(Answer::with_events(admin_set_msg_read::Response::new(), vec![Event::typed(&payload)]))
}

/// Receipts set `IsPeerRead`; they do not change unread counts (a client
/// marks a conversation read separately).
pub(super) fn read_receipt(
    w: &mut World,
    call: &Call<'_>,
    req: c2c_msg_read_receipt::Request,
) -> Typed<c2c_msg_read_receipt::Request> {
    let (operator, peer) = (req.operator_account.as_str(), req.peer_account.as_str());
    for (field, id) in [("Operator_Account", operator), ("Peer_Account", peer)] {
        if !w.accounts.exists(id) {
            return Err(call.refuse_field(field, format!("{field} {id} has not been imported")));
        }
    }
    if req.c2c_msg_info.iter().any(|i| i.from_account != peer || i.to_account != operator) {
        return Err(call.refuse_field(
            "C2CMsgInfo",
            "every C2CMsgInfo entry must have From_Account = Peer_Account and To_Account = Operator_Account",
        ));
    }
    for item in &req.c2c_msg_info {
        if let Some(m) = w.c2c.message_mut(peer, operator, &item.msg_key) {
            m.peer_read = true;
        }
    }
    Ok(c2c_msg_read_receipt::Response::new().into())
}
