//! Read state of one-to-one messages: unread counts, read reports and read receipts.

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::missing_account_code;
use crate::world::{Call, Done, Handled, World};

pub(super) fn unread_num(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn set_msg_read(w: &mut World, call: &Call<'_>) -> Handled {
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
pub(super) fn read_receipt(w: &mut World, call: &Call<'_>) -> Handled {
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
