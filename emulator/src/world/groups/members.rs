//! Group members: add, delete, list, modify, owner changes, mutes, roles, imports, AVChatRoom.

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::{
    app_data_json, event_time, group, group_id, group_mut, member_list, merge_app_data, opt_strings, put,
    Group, Member,
};
use crate::world::{Call, Done, Handled, World};

/// A `MuteTime` that mutes for good; stored as the end time itself, as the
/// service reports it.
const MUTED_FOR_GOOD: u64 = 4_294_967_295;

fn mute_end(now: u64, seconds: u64) -> u64 {
    if seconds >= MUTED_FOR_GOOD {
        MUTED_FOR_GOOD
    } else {
        now.saturating_add(seconds)
    }
}

pub(super) fn new_member(account: &str, role: &str, now: u64, read: u64) -> Member {
    Member {
        account: account.to_owned(),
        role: role.to_owned(),
        join_time: now,
        msg_seq: read,
        msg_flag: "AcceptAndNotify".to_owned(),
        ..Member::default()
    }
}

/// A member's profile, restricted to `fields` (`Member_Account` always
/// comes, `Account` names it too) and to the custom fields `app_keys`.
pub(super) fn member_json(
    g: &Group,
    m: &Member,
    now: u64,
    fields: Option<&[String]>,
    app_keys: Option<Option<&[String]>>,
) -> Value {
    let all = json!({
        "Member_Account": m.account,
        "Role": m.role,
        "JoinTime": m.join_time,
        "MsgSeq": m.msg_seq,
        "MsgFlag": m.msg_flag,
        "LastSendMsgTime": m.last_send_msg_time,
        "MuteUntil": g.muted_until(&m.account, now).unwrap_or(0),
        "NameCard": m.name_card,
    });
    let Value::Object(mut o) = all else { return Value::Null };
    if let Some(fields) = fields {
        o.retain(|k, _| k == "Member_Account" || fields.iter().any(|f| f == k));
    }
    if let Some(keys) = app_keys {
        o.insert("AppMemberDefinedData".into(), app_data_json(&m.app_member_defined_data, keys));
    }
    Value::Object(o)
}

pub(super) fn add_accounts(call: &Call<'_>) -> Vec<String> {
    match call.body.get("MemberList") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.get("Member_Account").and_then(Value::as_str))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn add_group_member(w: &mut World, call: &Call<'_>) -> Handled {
    let World { accounts, groups, .. } = w;
    let g = group_mut(groups, call)?;
    let wanted = add_accounts(call);
    let mut results = Vec::new();
    let mut added = Vec::new();
    let new_count = wanted
        .iter()
        .filter(|a| accounts.exists(a) && !g.is_member(a))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if g.members.len().saturating_add(new_count) > g.max_member_num as usize {
        return Err(call.refuse(ErrorRole::LimitReached, "the group would exceed its member limit"));
    }
    for a in &wanted {
        let result = if g.is_member(a) {
            2
        } else if !accounts.exists(a) {
            0
        } else {
            g.members.push(new_member(a, "Member", call.now, g.msg_seq));
            added.push(a.clone());
            1
        };
        results.push(json!({"Member_Account": a, "Result": result}));
    }
    let mut done = Done::reply(json!({"MemberList": results}));
    if !added.is_empty() {
        done = done.event(
            "Group.CallbackAfterNewMemberJoin",
            json!({
                "GroupId": group_id(call),
                "Type": g.group_type,
                "JoinType": "Invited",
                "Operator_Account": call.operator,
                "NewMemberList": member_list(added.iter().map(String::as_str)),
                "EventTime": event_time(call),
            }),
        );
    }
    Ok(done)
}

pub(super) fn delete_group_member(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let gone = call.strings("MemberToDel_Account");
    if let Some(o) = g.owner.as_deref().filter(|o| gone.iter().any(|x| x == o)) {
        return Err(call.refuse(ErrorRole::PermissionDenied, format!("the owner {o} cannot be removed")));
    }
    let removed: Vec<String> =
        g.members.iter().filter(|m| gone.contains(&m.account)).map(|m| m.account.clone()).collect();
    g.members.retain(|m| !gone.contains(&m.account));
    let done = Done::ok();
    if removed.is_empty() {
        return Ok(done);
    }
    Ok(done.event(
        "Group.CallbackAfterMemberExit",
        json!({
            "GroupId": group_id(call),
            "Type": g.group_type,
            "ExitType": "Kicked",
            "Operator_Account": call.operator,
            "ExitMemberList": member_list(removed.iter().map(String::as_str)),
            "EventTime": event_time(call),
        }),
    ))
}

pub(super) fn get_group_member_info(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let roles = opt_strings(call.body.get("MemberRoleFilter"));
    let fields = opt_strings(call.body.get("MemberInfoFilter"));
    let app = opt_strings(call.body.get("AppDefinedDataFilter_GroupMember"));
    let selected: Vec<&Member> =
        g.members.iter().filter(|m| roles.as_ref().is_none_or(|r| r.contains(&m.role))).collect();
    let limit = call.u64("Limit").filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
    let community = g.group_type == "Community";
    let start = if community {
        call.str("Next").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0)
    } else {
        call.u64("Offset").unwrap_or(0) as usize
    };
    let page: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(limit)
        .map(|m| member_json(g, m, call.now, fields.as_deref(), app.as_deref().map(Some)))
        .collect();
    let mut reply = json!({"MemberNum": g.members.len(), "MemberList": page});
    if community {
        let end = start.saturating_add(limit);
        let next = if end < selected.len() { end.to_string() } else { String::new() };
        put(&mut reply, "Next", Some(json!(next)));
    }
    Ok(Done::reply(reply))
}

pub(super) fn modify_group_member_info(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let account = call.str("Member_Account").unwrap_or_default();
    let is_owner = g.owner.as_deref() == Some(account);
    let group_type = g.group_type.clone();
    let Some(m) = g.member_mut(account) else {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{account} is not a member")));
    };
    let mut changed = json!({
        "GroupId": group_id(call),
        "Type": group_type,
        "Operator_Account": call.operator,
        "Member_Account": account,
        "EventTime": event_time(call),
    });
    let mut notify = false;
    if let Some(role) = call.str("Role") {
        if role != "Admin" && role != "Member" {
            return Err(call.refuse_field("Role", "only Admin or Member may be set"));
        }
        if is_owner {
            return Err(call.refuse(ErrorRole::PermissionDenied, "the owner's role cannot be changed"));
        }
        if m.role != role {
            m.role = role.to_owned();
            put(&mut changed, "Role", Some(json!(role)));
            notify = true;
        }
    }
    if let Some(card) = call.str("NameCard") {
        m.name_card = card.to_owned();
        put(&mut changed, "NameCard", Some(json!(card)));
        notify = true;
    }
    if let Some(flag) = call.str("MsgFlag") {
        m.msg_flag = flag.to_owned();
    }
    merge_app_data(&mut m.app_member_defined_data, call.body.get("AppMemberDefinedData"));
    if let Some(t) = call.u64("MuteTime") {
        set_mute(g, account, t, call.now);
    }
    let done = Done::ok();
    Ok(if notify { done.event("Group.CallbackAfterMemberFieldChanged", changed) } else { done })
}

fn set_mute(g: &mut Group, account: &str, seconds: u64, now: u64) {
    if seconds == 0 {
        g.muted.remove(account);
    } else {
        g.muted.insert(account.to_owned(), mute_end(now, seconds));
    }
}

pub(super) fn change_group_owner(w: &mut World, call: &Call<'_>) -> Handled {
    let World { accounts, groups, .. } = w;
    let g = group_mut(groups, call)?;
    let new = call.str("NewOwner_Account").unwrap_or_default();
    if !accounts.exists(new) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("{new} does not exist")));
    }
    if !g.is_member(new) {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{new} is not a member")));
    }
    let old = g.owner.clone();
    if old.as_deref() == Some(new) {
        return Ok(Done::ok());
    }
    for m in &mut g.members {
        if m.account == new {
            m.role = "Owner".into();
        } else if m.role == "Owner" {
            m.role = "Member".into();
        }
    }
    g.owner = Some(new.to_owned());
    let mut p = json!({
        "GroupId": group_id(call),
        "Type": g.group_type,
        "Operator_Account": call.operator,
        "NewOwner_Account": new,
        "EventTime": event_time(call),
    });
    put(&mut p, "OldOwner_Account", old.map(Value::from));
    Ok(Done::ok().event("Group.CallbackAfterChangeGroupOwner", p))
}

pub(super) fn forbid_send_msg(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let who = call.strings("Members_Account");
    if g.has_member_list() {
        if let Some(stranger) = who.iter().find(|a| !g.is_member(a)) {
            return Err(call.refuse(ErrorRole::NotGroupMember, format!("{stranger} is not a member")));
        }
    }
    let seconds = call.u64("MuteTime").unwrap_or(0);
    for a in &who {
        set_mute(g, a, seconds, call.now);
    }
    Ok(Done::ok())
}

pub(super) fn get_group_muted_account(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let list: Vec<Value> = g
        .muted
        .iter()
        .filter(|(_, until)| **until > call.now)
        .map(|(a, until)| json!({"Member_Account": a, "MutedUntil": until}))
        .collect();
    Ok(Done::reply(json!({"GroupId": group_id(call), "MutedAccountList": list})))
}

pub(super) fn get_role_in_group(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let list: Vec<Value> = call
        .strings("User_Account")
        .into_iter()
        .map(|a| {
            let role = g.member(&a).map_or("NotMember", |m| m.role.as_str());
            json!({"Member_Account": a, "Role": role})
        })
        .collect();
    Ok(Done::reply(json!({"UserIdList": list})))
}

pub(super) fn get_specified_group_member_info(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let roles = opt_strings(call.body.get("MemberRoleFilter"));
    let fields = opt_strings(call.body.get("MemberInfoFilter"));
    let app = opt_strings(call.body.get("AppDefinedDataFilter_GroupMember"));
    let list: Vec<Value> = call
        .strings("Member_List_Account")
        .iter()
        .filter_map(|a| g.member(a))
        .filter(|m| roles.as_ref().is_none_or(|r| r.contains(&m.role)))
        .map(|m| member_json(g, m, call.now, fields.as_deref(), app.as_deref().map(Some)))
        .collect();
    Ok(Done::reply(json!({"GroupId": group_id(call), "MemberList": list})))
}

/// Migrated members: no callbacks; an unread count above the group's
/// messages is lowered to that number, as `set_unread_msg_num` does.
pub(super) fn import_group_member(w: &mut World, call: &Call<'_>) -> Handled {
    let World { accounts, groups, .. } = w;
    let g = group_mut(groups, call)?;
    let entries = match call.body.get("MemberList") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let mut results = Vec::new();
    for e in &entries {
        let Some(a) = e.get("Member_Account").and_then(Value::as_str) else { continue };
        let result = if g.is_member(a) {
            2
        } else if !accounts.exists(a) || g.members.len() >= g.max_member_num as usize {
            0
        } else {
            let role = match e.get("Role").and_then(Value::as_str) {
                Some("Admin") => "Admin",
                _ => "Member",
            };
            let unread = e.get("UnreadMsgNum").and_then(Value::as_u64).unwrap_or(0).min(g.msg_seq);
            let joined = e.get("JoinTime").and_then(Value::as_u64).unwrap_or(call.now);
            g.members.push(new_member(a, role, joined, g.msg_seq.saturating_sub(unread)));
            1
        };
        results.push(json!({"Member_Account": a, "Result": result}));
    }
    Ok(Done::reply(json!({"MemberList": results})))
}

pub(super) fn get_members(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    // Users join live groups through the SDK, which the emulator does not
    // see: the online list holds whoever the state lists.
    let list: Vec<Value> =
        g.members.iter().map(|m| json!({"Member_Account": m.account, "JoinTime": m.join_time})).collect();
    Ok(Done::reply(json!({"MemberList": list, "NextTimestamp": 0})))
}

pub(super) fn check_members(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let present: Vec<String> =
        call.strings("Member_Account").into_iter().filter(|a| g.is_member(a)).collect();
    Ok(Done::reply(json!({"Member_Account": present})))
}
