//! Group members: add, delete, list, modify, owner changes, mutes, roles, imports, AVChatRoom.

use std::collections::BTreeSet;

use tim_runtime::api::callbacks::group::{
    after_change_group_owner, after_member_exit, after_member_field_changed, after_new_member_join,
    before_invite_join_group,
};
use tim_runtime::api::group_open_avchatroom_http_svc::{check_members, get_members};
use tim_runtime::api::group_open_http_svc::{
    add_group_member, change_group_owner, delete_group_member, forbid_send_msg, get_group_member_info,
    get_group_muted_account, get_role_in_group, get_specified_group_member_info as specified,
    import_group_member, modify_group_member_info,
};
use tim_runtime::api::types::{GroupMemberInfo, GroupMemberRole, GroupMsgFlag, GroupType};
use tim_runtime::ErrorRole;

use super::{app_data, event_time, merge_app_data, Group, Member};
use crate::world::typed::{Answer, Typed};
use crate::world::wire_u32;
use crate::world::{Call, Event, Refusal, World};

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

fn group_type(g: &Group) -> GroupType {
    GroupType::from_raw(g.group_type.clone())
}

/// A member's profile, restricted to the wire names `fields` lists
/// (`Member_Account` always comes) and to the custom fields `app_keys`
/// (`None`: no custom fields; `Some(None)`: all of them).
pub(super) fn member_info(
    g: &Group,
    m: &Member,
    now: u64,
    fields: Option<&[String]>,
    app_keys: Option<Option<&[String]>>,
) -> GroupMemberInfo {
    let want = |name: &str| fields.is_none_or(|f| f.iter().any(|x| x == name));
    let mut info = GroupMemberInfo::new(m.account.as_str());
    if want("Role") {
        info.role = Some(GroupMemberRole::from_raw(m.role.clone()));
    }
    if want("JoinTime") {
        info.join_time = Some(m.join_time);
    }
    if want("MsgSeq") {
        info.msg_seq = Some(m.msg_seq);
    }
    if want("MsgFlag") {
        info.msg_flag = Some(GroupMsgFlag::from_raw(m.msg_flag.clone()));
    }
    if want("LastSendMsgTime") {
        info.last_send_msg_time = Some(m.last_send_msg_time);
    }
    if want("MuteUntil") {
        info.mute_until = Some(g.muted_until(&m.account, now).unwrap_or(0));
    }
    if want("NameCard") {
        info.name_card = Some(m.name_card.clone());
    }
    if let Some(keys) = app_keys {
        info.app_member_defined_data = Some(app_data(&m.app_member_defined_data, keys));
    }
    info
}

/// `Group.CallbackBeforeInviteJoinGroup`.
pub(super) fn before_add(
    w: &World,
    call: &Call<'_>,
    req: &add_group_member::Request,
) -> Result<Vec<Event>, Refusal> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let invited: Vec<before_invite_join_group::InvitedMember> = req
        .member_list
        .iter()
        .map(|m| before_invite_join_group::InvitedMember::new(m.member_account.as_str()))
        .collect();
    let p = before_invite_join_group::Payload::new(req.group_id.as_str(), call.operator)
        .r#type(group_type(g))
        .destination_members(invited)
        .event_time(event_time(call));
    Ok(vec![Event::typed(&p)])
}

pub(super) fn add_group_member(
    w: &mut World,
    call: &Call<'_>,
    req: add_group_member::Request,
) -> Typed<add_group_member::Request> {
    let World { accounts, groups, .. } = w;
    let g = groups.get_or_refuse(call, &req.group_id)?;
    let wanted: Vec<&str> = req.member_list.iter().map(|m| m.member_account.as_str()).collect();
    let new_count =
        wanted.iter().filter(|a| accounts.exists(a) && !g.is_member(a)).collect::<BTreeSet<_>>().len();
    if g.members.len().saturating_add(new_count) > g.max_member_num as usize {
        return Err(call.refuse(ErrorRole::LimitReached, "the group would exceed its member limit"));
    }
    let mut results = Vec::new();
    let mut added = Vec::new();
    for a in wanted {
        let result = if g.is_member(a) {
            add_group_member::AddOutcome::AlreadyMember
        } else if !accounts.exists(a) {
            add_group_member::AddOutcome::Failed
        } else {
            g.members.push(new_member(a, "Member", call.now, g.msg_seq));
            added.push(after_new_member_join::NewMember::new(a));
            add_group_member::AddOutcome::Added
        };
        results.push(add_group_member::AddResult::new(a, result));
    }
    let reply = add_group_member::Response::new().member_list(results);
    if added.is_empty() {
        return Ok(reply.into());
    }
    let p = after_new_member_join::Payload::new(req.group_id.as_str(), call.operator)
        .r#type(group_type(g))
        .join_type(after_new_member_join::JoinType::Invited)
        .new_member_list(added)
        .event_time(event_time(call));
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

pub(super) fn delete_group_member(
    w: &mut World,
    call: &Call<'_>,
    req: delete_group_member::Request,
) -> Typed<delete_group_member::Request> {
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let gone = &req.member_to_del_account;
    if let Some(o) = g.owner.as_deref().filter(|o| gone.iter().any(|x| x == o)) {
        return Err(call.refuse(ErrorRole::PermissionDenied, format!("the owner {o} cannot be removed")));
    }
    let removed: Vec<after_member_exit::ExitMember> = g
        .members
        .iter()
        .filter(|m| gone.contains(&m.account))
        .map(|m| after_member_exit::ExitMember::new(m.account.as_str()))
        .collect();
    g.members.retain(|m| !gone.contains(&m.account));
    let reply = delete_group_member::Response::new();
    if removed.is_empty() {
        return Ok(reply.into());
    }
    let p = after_member_exit::Payload::new(req.group_id.as_str(), call.operator)
        .r#type(group_type(g))
        .exit_type(after_member_exit::ExitType::Kicked)
        .exit_member_list(removed)
        .event_time(event_time(call));
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

fn role_allowed(roles: Option<&Vec<GroupMemberRole>>, m: &Member) -> bool {
    roles.is_none_or(|r| r.iter().any(|x| x.as_str() == m.role))
}

pub(super) fn get_group_member_info(
    w: &mut World,
    call: &Call<'_>,
    req: get_group_member_info::Request,
) -> Typed<get_group_member_info::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let roles = req.member_role_filter.as_ref();
    let selected: Vec<&Member> = g.members.iter().filter(|m| role_allowed(roles, m)).collect();
    let limit = req.limit.filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
    let community = g.group_type == "Community";
    let start = if community {
        req.next.as_deref().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0)
    } else {
        req.offset.unwrap_or(0) as usize
    };
    let app = req.app_defined_data_filter_group_member.as_deref().map(Some);
    let page: Vec<GroupMemberInfo> = selected
        .iter()
        .skip(start)
        .take(limit)
        .map(|m| member_info(g, m, call.now, req.member_info_filter.as_deref(), app))
        .collect();
    let mut reply =
        get_group_member_info::Response::new().member_num(wire_u32(g.members.len())).member_list(page);
    if community {
        let end = start.saturating_add(limit);
        reply = reply.next(if end < selected.len() { end.to_string() } else { String::new() });
    }
    Ok(reply.into())
}

pub(super) fn modify_group_member_info(
    w: &mut World,
    call: &Call<'_>,
    req: modify_group_member_info::Request,
) -> Typed<modify_group_member_info::Request> {
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    let account = req.member_account.as_str();
    let is_owner = g.owner.as_deref() == Some(account);
    let mut changed = after_member_field_changed::Payload::new(req.group_id.as_str(), call.operator, account)
        .r#type(group_type(g))
        .event_time(event_time(call));
    let Some(m) = g.member_mut(account) else {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{account} is not a member")));
    };
    let mut notify = false;
    if let Some(role) = req.role {
        if !matches!(role, GroupMemberRole::Admin | GroupMemberRole::Member) {
            return Err(call.refuse_field("Role", "only Admin or Member may be set"));
        }
        if is_owner {
            return Err(call.refuse(ErrorRole::PermissionDenied, "the owner's role cannot be changed"));
        }
        if m.role != role.as_str() {
            m.role = role.as_str().to_owned();
            changed.role = Some(role);
            notify = true;
        }
    }
    if let Some(card) = req.name_card {
        m.name_card.clone_from(&card);
        changed.name_card = Some(card);
        notify = true;
    }
    if let Some(flag) = req.msg_flag {
        m.msg_flag = flag.as_str().to_owned();
    }
    merge_app_data(&mut m.app_member_defined_data, req.app_member_defined_data.as_deref());
    if let Some(t) = req.mute_time {
        set_mute(g, account, u64::from(t), call.now);
    }
    let events = if notify { vec![Event::typed(&changed)] } else { Vec::new() };
    Ok(Answer::with_events(modify_group_member_info::Response::new(), events))
}

fn set_mute(g: &mut Group, account: &str, seconds: u64, now: u64) {
    if seconds == 0 {
        g.muted.remove(account);
    } else {
        g.muted.insert(account.to_owned(), mute_end(now, seconds));
    }
}

pub(super) fn change_group_owner(
    w: &mut World,
    call: &Call<'_>,
    req: change_group_owner::Request,
) -> Typed<change_group_owner::Request> {
    let World { accounts, groups, .. } = w;
    let g = groups.get_or_refuse(call, &req.group_id)?;
    let new = req.new_owner_account.as_str();
    if !accounts.exists(new) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("{new} does not exist")));
    }
    if !g.is_member(new) {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{new} is not a member")));
    }
    let old = g.owner.clone();
    let reply = change_group_owner::Response::new();
    if old.as_deref() == Some(new) {
        return Ok(reply.into());
    }
    for m in &mut g.members {
        if m.account == new {
            m.role = "Owner".into();
        } else if m.role == "Owner" {
            m.role = "Member".into();
        }
    }
    g.owner = Some(new.to_owned());
    let mut p = after_change_group_owner::Payload::new(req.group_id.as_str(), call.operator)
        .r#type(group_type(g))
        .new_owner_account(new)
        .event_time(event_time(call));
    p.old_owner_account = old;
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

pub(super) fn forbid_send_msg(
    w: &mut World,
    call: &Call<'_>,
    req: forbid_send_msg::Request,
) -> Typed<forbid_send_msg::Request> {
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    if g.has_member_list() {
        if let Some(stranger) = req.members_account.iter().find(|a| !g.is_member(a)) {
            return Err(call.refuse(ErrorRole::NotGroupMember, format!("{stranger} is not a member")));
        }
    }
    for a in &req.members_account {
        set_mute(g, a, u64::from(req.mute_time), call.now);
    }
    Ok(forbid_send_msg::Response::new().into())
}

pub(super) fn get_group_muted_account(
    w: &mut World,
    call: &Call<'_>,
    req: get_group_muted_account::Request,
) -> Typed<get_group_muted_account::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let list: Vec<get_group_muted_account::MutedAccount> = g
        .muted
        .iter()
        .filter(|(_, until)| **until > call.now)
        .map(|(a, until)| get_group_muted_account::MutedAccount::new(a.as_str(), *until))
        .collect();
    Ok(get_group_muted_account::Response::new().group_id(req.group_id).muted_account_list(list).into())
}

pub(super) fn get_role_in_group(
    w: &mut World,
    call: &Call<'_>,
    req: get_role_in_group::Request,
) -> Typed<get_role_in_group::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let list: Vec<get_role_in_group::UserRole> = req
        .user_account
        .into_iter()
        .map(|a| {
            let role = g.member(&a).map_or("NotMember", |m| m.role.as_str());
            let role = get_role_in_group::RoleInGroup::from_raw(role.to_owned());
            get_role_in_group::UserRole::new(a, role)
        })
        .collect();
    Ok(get_role_in_group::Response::new().user_id_list(list).into())
}

pub(super) fn get_specified_group_member_info(
    w: &mut World,
    call: &Call<'_>,
    req: specified::Request,
) -> Typed<specified::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let app = req.app_defined_data_filter_group_member.as_deref().map(Some);
    let list: Vec<specified::SpecifiedMember> = req
        .member_list_account
        .iter()
        .filter_map(|a| g.member(a))
        .filter(|m| role_allowed(req.member_role_filter.as_ref(), m))
        .map(|m| {
            let info = member_info(g, m, call.now, req.member_info_filter.as_deref(), app);
            let mut s = specified::SpecifiedMember::new(info.member_account);
            s.role = info.role;
            s.join_time = info.join_time;
            s.msg_seq = info.msg_seq;
            s.msg_flag = info.msg_flag;
            s.last_send_msg_time = info.last_send_msg_time;
            s.mute_until = info.mute_until;
            s.name_card = info.name_card;
            s.app_member_defined_data = info.app_member_defined_data;
            s
        })
        .collect();
    Ok(specified::Response::new().group_id(req.group_id).member_list(list).into())
}

/// Migrated members: no callbacks; an unread count above the group's
/// messages is lowered to that number, as `set_unread_msg_num` does.
pub(super) fn import_group_member(
    w: &mut World,
    call: &Call<'_>,
    req: import_group_member::Request,
) -> Typed<import_group_member::Request> {
    use import_group_member::{ImportOutcome, ImportResult};
    let World { accounts, groups, .. } = w;
    let g = groups.get_or_refuse(call, &req.group_id)?;
    let mut results = Vec::new();
    for e in req.member_list {
        let a = e.member_account.as_str();
        let result = if g.is_member(a) {
            ImportOutcome::AlreadyMember
        } else if !accounts.exists(a) || g.members.len() >= g.max_member_num as usize {
            ImportOutcome::Failed
        } else {
            let role = match e.role {
                Some(GroupMemberRole::Admin) => "Admin",
                _ => "Member",
            };
            let unread = u64::from(e.unread_msg_num.unwrap_or(0)).min(g.msg_seq);
            let joined = e.join_time.unwrap_or(call.now);
            g.members.push(new_member(a, role, joined, g.msg_seq.saturating_sub(unread)));
            ImportOutcome::Imported
        };
        results.push(ImportResult::new(e.member_account, result));
    }
    Ok(import_group_member::Response::new().member_list(results).into())
}

pub(super) fn get_members(
    w: &mut World,
    call: &Call<'_>,
    req: get_members::Request,
) -> Typed<get_members::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    // Users join live groups through the SDK, which the emulator does not
    // see: the online list holds whoever the state lists, the latest joined
    // first, up to the documented size. `Timestamp` is where a page starts
    // (0 for the first); `NextTimestamp` is 0 once the list is done.
    let page = usize::try_from(call.limit_max("members_per_page")).unwrap_or(usize::MAX).max(1);
    let listed = usize::try_from(call.limit_max("members_listed")).unwrap_or(usize::MAX);
    let mut online: Vec<&Member> = g.members.iter().collect();
    online.sort_by(|a, b| b.join_time.cmp(&a.join_time).then_with(|| a.account.cmp(&b.account)));
    online.truncate(listed);
    let start = usize::try_from(req.timestamp).unwrap_or(usize::MAX).min(online.len());
    let end = start.saturating_add(page).min(online.len());
    let list: Vec<get_members::OnlineMember> = online[start..end]
        .iter()
        .map(|m| get_members::OnlineMember::new(m.account.as_str()).join_time(m.join_time))
        .collect();
    let next = if end < online.len() { end as u64 } else { 0 };
    Ok(get_members::Response::new().member_list(list).next_timestamp(next).into())
}

pub(super) fn check_members(
    w: &mut World,
    call: &Call<'_>,
    req: check_members::Request,
) -> Typed<check_members::Request> {
    let g = w.groups.get_or_not_found(call, &req.group_id)?;
    let present: Vec<String> = req.member_account.into_iter().filter(|a| g.is_member(a)).collect();
    Ok(check_members::Response::new().member_account(present).into())
}
