//! Operations on stored group messages beyond sending: modifying one
//! (`modify_group_msg`), its extension key-values (`group_set_key_values`,
//! `group_get_key_values`, with `Group.CallbackAfterGroupMsgExtension`),
//! and broadcasting to every live group (`send_broadcast_msg`).

use tim_runtime::api::callbacks::group::after_group_msg_extension as ext_changed;
use tim_runtime::api::group_open_http_svc::send_broadcast_msg;
use tim_runtime::api::openim::modify_group_msg;
use tim_runtime::api::openim_msg_ext_http_svc::{group_get_key_values, group_set_key_values};
use tim_runtime::api::types::{MsgExtOperateType, MsgExtension, MsgExtensionResult};
use tim_runtime::ErrorRole;

use super::super::c2c::ExtensionPair;
use super::super::typed::{route, Answer, Route, Typed};
use super::super::{unix_millis, Call, Event, Refusal, World};
use super::{GroupMessage, Groups};
use crate::world::wire_i32;

/// The endpoints of this module.
pub static ROUTES: &[Route] = &[
    route!(modify_group_msg::Request, modify),
    route!(group_set_key_values::Request, set_key_values),
    route!(group_get_key_values::Request, get_key_values),
    route!(send_broadcast_msg::Request, broadcast),
];

/// The stored message `seq` of a group, or of one of its topics.
fn message<'g>(
    groups: &'g mut Groups,
    call: &Call<'_>,
    group: &str,
    topic: Option<&str>,
    seq: u64,
) -> Result<&'g mut GroupMessage, Refusal> {
    let g = groups.get_or_refuse(call, group)?;
    let messages = match topic {
        Some(t) => {
            &mut g
                .topics
                .get_mut(t)
                .ok_or_else(|| call.refuse(ErrorRole::GroupNotFound, format!("no topic {t}")))?
                .messages
        }
        None => &mut g.messages,
    };
    messages
        .iter_mut()
        .find(|m| m.seq == seq && !m.recalled)
        .ok_or_else(|| call.refuse(ErrorRole::MessageNotFound, format!("group {group} has no message {seq}")))
}

fn modify(
    w: &mut World,
    call: &Call<'_>,
    req: modify_group_msg::Request,
) -> Typed<modify_group_msg::Request> {
    let m = message(&mut w.groups, call, &req.group_id, req.topic_id.as_deref(), req.msg_seq)?;
    if let Some(body) = &req.msg_body {
        m.body = body.clone();
    }
    if let Some(data) = req.cloud_custom_data {
        m.cloud_custom_data = data;
    }
    Ok(modify_group_msg::Response::new().into())
}

fn set_key_values(
    w: &mut World,
    call: &Call<'_>,
    req: group_set_key_values::Request,
) -> Typed<group_set_key_values::Request> {
    if req.operate_type != MsgExtOperateType::Clear && req.extension_list.is_none() {
        return Err(call.refuse_field("ExtensionList", "ExtensionList is required to set or delete pairs"));
    }
    let items = req.extension_list.unwrap_or_default();
    let m = message(&mut w.groups, call, &req.group_id, None, req.msg_seq)?;
    if !m.supports_extension {
        return Err(call.refuse_named(
            "ExtensionNotSupported",
            format!("message {} was not sent with SupportMessageExtension", m.seq),
        ));
    }
    let conflict = wire_i32(call.refuse_named("SeqConflict", "").code);
    let ext = &mut m.extension;
    let seq = ext.latest_seq.saturating_add(1);
    let mut results = Vec::new();
    let mut changed = Vec::new();
    match req.operate_type {
        MsgExtOperateType::Clear => {
            ext.pairs.clear();
            ext.clear_seq = seq;
        }
        ref op => {
            for item in &items {
                let current = ext.pairs.get(&item.key).map_or(0, |p| p.seq);
                // A writer names the version it read; an older one conflicts.
                if item.seq.is_some_and(|s| s != current) {
                    let mut stale = MsgExtension::new(
                        item.key.as_str(),
                        ext.pairs.get(&item.key).map_or("", |p| p.value.as_str()),
                    );
                    stale.seq = Some(current);
                    results.push(MsgExtensionResult::new().error_code(conflict).extension(stale));
                    continue;
                }
                let value = if *op == MsgExtOperateType::Set { item.value.clone() } else { String::new() };
                if *op == MsgExtOperateType::Set {
                    ext.pairs.insert(item.key.clone(), ExtensionPair { value: value.clone(), seq });
                } else {
                    ext.pairs.remove(&item.key);
                }
                let mut done = MsgExtension::new(item.key.as_str(), value);
                done.seq = Some(seq);
                changed.push(done.clone());
                results.push(MsgExtensionResult::new().error_code(0).extension(done));
            }
        }
    }
    ext.latest_seq = seq;
    let payload = ext_changed::Payload::new(req.group_id.as_str())
        .msg_seq(req.msg_seq)
        .operate_type(req.operate_type)
        .extension_list(changed)
        .seq(seq)
        .event_time(unix_millis());
    Ok(Answer::with_events(
        group_set_key_values::Response::new().extension_list(results),
        vec![Event::typed(&payload)],
    ))
}

fn get_key_values(
    w: &mut World,
    call: &Call<'_>,
    req: group_get_key_values::Request,
) -> Typed<group_get_key_values::Request> {
    let page = call.meta.limit("pairs_per_page").map_or(usize::MAX, |l| l.max as usize);
    let m = message(&mut w.groups, call, &req.group_id, None, req.msg_seq)?;
    let ext = &m.extension;
    let start = req.start_seq.unwrap_or(0);
    let mut pairs: Vec<(&String, &ExtensionPair)> =
        ext.pairs.iter().filter(|(_, p)| p.seq >= start).collect();
    pairs.sort_by(|a, b| a.1.seq.cmp(&b.1.seq).then_with(|| a.0.cmp(b.0)));
    let list: Vec<MsgExtension> = pairs
        .iter()
        .take(page)
        .map(|(k, p)| {
            let mut e = MsgExtension::new(k.as_str(), p.value.as_str());
            e.seq = Some(p.seq);
            e
        })
        .collect();
    Ok(group_get_key_values::Response::new()
        .complete_flag(u32::from(pairs.len() <= page))
        .latest_seq(ext.latest_seq)
        .clear_seq(ext.clear_seq)
        .extension_list(list)
        .into())
}

fn broadcast(
    w: &mut World,
    call: &Call<'_>,
    req: send_broadcast_msg::Request,
) -> Typed<send_broadcast_msg::Request> {
    if let Some(from) = req.from_account.as_deref().filter(|f| !w.accounts.exists(f)) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("sender {from} does not exist")));
    }
    // Every live group gets the message: its sequence moves on; live groups
    // store no history.
    let mut last = 0;
    for g in w.groups.groups.values_mut().filter(|g| g.group_type == "AVChatRoom") {
        g.msg_seq = g.msg_seq.saturating_add(1);
        g.last_msg_time = call.now;
        last = last.max(g.msg_seq);
    }
    Ok(send_broadcast_msg::Response::new().msg_seq(last).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::testing::{exec, exec_ok, named_code, world};

    const NOW: u64 = 1_700_000_000;

    fn group_with_messages() -> super::World {
        let mut w = world(&["alice", "bob"]);
        exec_ok(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "alice", "Type": "Public", "Name": "g", "GroupId": "g1", "MemberList": [{"Member_Account": "bob"}]}),
            NOW,
        );
        for (text, ext) in [("one", 0), ("two", 1)] {
            let send = json!({"GroupId": "g1", "Random": 1, "From_Account": "alice", "SupportMessageExtension": ext,
                "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]});
            exec_ok(&mut w, "group_open_http_svc/send_group_msg", send, NOW);
        }
        w
    }

    #[test]
    fn a_stored_group_message_is_modified() {
        let mut w = group_with_messages();
        let edit = json!({"GroupId": "g1", "MsgSeq": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "edited"}}], "CloudCustomData": "x"});
        exec_ok(&mut w, "openim/modify_group_msg", edit, NOW);
        let h = exec_ok(
            &mut w,
            "group_open_http_svc/group_msg_get_simple",
            json!({"GroupId": "g1", "ReqMsgNumber": 5}),
            NOW,
        )
        .body();
        assert_eq!(h["RspMsgList"][1]["MsgBody"][0]["MsgContent"]["Text"], "edited");
        assert!(exec(
            &mut w,
            "openim/modify_group_msg",
            json!({"GroupId": "g1", "MsgSeq": 9, "CloudCustomData": "x"}),
            NOW
        )
        .is_err());
    }

    #[test]
    fn extensions_of_a_group_message_with_versions() {
        let mut w = group_with_messages();
        let path = "openim_msg_ext_http_svc/group_set_key_values";
        let set = json!({"GroupId": "g1", "MsgSeq": 1, "OperateType": 1, "ExtensionList": [{"Key": "k", "Value": "v"}]});
        assert_eq!(exec(&mut w, path, set, NOW).unwrap_err().code, named_code(path, "ExtensionNotSupported"));
        let set = json!({"GroupId": "g1", "MsgSeq": 2, "OperateType": 1, "ExtensionList": [{"Key": "k", "Value": "v", "Seq": 0}]});
        let done = exec_ok(&mut w, path, set.clone(), NOW);
        assert_eq!(done.events[0].command, "Group.CallbackAfterGroupMsgExtension");
        // The same write again names a version that is no longer current.
        let r = exec_ok(&mut w, path, set, NOW).body();
        assert_eq!(r["ExtensionList"][0]["ErrorCode"], named_code(path, "SeqConflict"));
        let got = exec_ok(
            &mut w,
            "openim_msg_ext_http_svc/group_get_key_values",
            json!({"GroupId": "g1", "MsgSeq": 2}),
            NOW,
        )
        .body();
        assert_eq!(got["ExtensionList"], json!([{"Key": "k", "Value": "v", "Seq": 1}]));
        exec_ok(&mut w, path, json!({"GroupId": "g1", "MsgSeq": 2, "OperateType": 3}), NOW);
        let got = exec_ok(
            &mut w,
            "openim_msg_ext_http_svc/group_get_key_values",
            json!({"GroupId": "g1", "MsgSeq": 2}),
            NOW,
        )
        .body();
        assert_eq!((got["ExtensionList"].clone(), got["ClearSeq"].as_u64()), (json!([]), Some(3)));
    }

    #[test]
    fn a_broadcast_reaches_every_live_group() {
        let mut w = world(&["alice"]);
        for id in ["l1", "l2"] {
            exec_ok(
                &mut w,
                "group_open_http_svc/create_group",
                json!({"Type": "AVChatRoom", "Name": id, "GroupId": id}),
                NOW,
            );
        }
        let msg =
            json!({"Random": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "all"}}]});
        exec_ok(&mut w, "group_open_http_svc/send_broadcast_msg", msg, NOW);
        assert_eq!(w.groups.get("l1").unwrap().latest_seq(), 1);
        assert_eq!(w.groups.get("l2").unwrap().latest_seq(), 1);
    }
}
