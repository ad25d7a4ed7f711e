//! Friendships: adding, importing, updating, deleting, checking and getting friends.

use std::collections::BTreeMap;

use serde_json::Value;
use tim_runtime::api::callbacks::sns::friend_add as added;
use tim_runtime::api::sns::{
    friend_add, friend_check, friend_delete, friend_delete_all, friend_get, friend_get_list, friend_import,
    friend_update,
};
use tim_runtime::api::types::ProfileItem;
use tim_runtime::ErrorRole;

use super::{
    check, check_target, fail, friend_delete_event, over_limit, sender, valid_list_name, Friend, Friends,
    ItemError, Results, TAG_GROUP, TAG_REMARK,
};
use crate::world::accounts::{TAG_ADMIN_FORBID_TYPE, TAG_ALLOW_TYPE};
use crate::world::typed::{Answer, Typed};
use crate::world::wire_u32;
use crate::world::{Call, Event, World};

const CUSTOM_PREFIX: &str = "Tag_SNS_Custom_";

/// A per-target failure with the code of the spec's error `name`.
fn fail_named(call: &Call<'_>, name: &str, info: impl Into<String>) -> ItemError {
    let r = call.refuse_named(name, info);
    (r.code, r.info)
}

/// Adds friends one way or both ways. A user whose
/// `Tag_Profile_IM_AdminForbidType` is `AdminForbid_Type_SendOut` may not add
/// friends; blocklists stop the request either way; without `ForceAddFlags: 1` the target's `AllowType` applies
/// (`NeedConfirm` leaves the request pending, so nothing is added).
pub(super) fn friend_add(
    w: &mut World,
    call: &Call<'_>,
    req: friend_add::Request,
) -> Typed<friend_add::Request> {
    let from = sender(w, call, &req.from_account)?;
    let both = req.add_type != Some(friend_add::AddType::Single);
    let force = req.force_add_flags == Some(1);
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for item in &req.add_friend_item {
        let outcome = add_one(w, call, from, item, both, force, &mut pairs);
        results.push(&item.to_account, outcome);
    }
    let (items, failed) = results.into_parts();
    let mut reply = friend_add::Response::new().result_item(items).error_display("");
    reply.fail_account = failed;
    if pairs.is_empty() {
        return Ok(reply.into());
    }
    let p = added::Payload::new(pairs)
        .client_cmd("friend_add")
        .admin_account(call.operator)
        .force_flag(u8::from(force));
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

fn add_one(
    w: &mut World,
    call: &Call<'_>,
    from: &str,
    item: &friend_add::AddFriendItem,
    both: bool,
    force: bool,
    pairs: &mut Vec<added::FriendPair>,
) -> Result<(), ItemError> {
    let to = item.to_account.as_str();
    check_target(w, call, from, to)?;
    if w.accounts.profile_value(from, TAG_ADMIN_FORBID_TYPE).and_then(Value::as_str)
        == Some("AdminForbid_Type_SendOut")
    {
        return Err(fail_named(call, "AddingForbidden", format!("{from} may not send friend requests")));
    }
    if w.friends.is_blocked(from, to) {
        return Err(fail(call, ErrorRole::Blocked, format!("{to} is on {from}'s blocklist")));
    }
    if w.friends.is_blocked(to, from) {
        return Err(fail_named(call, "BlocklistedByTarget", format!("{from} is on {to}'s blocklist")));
    }
    let has = w.friends.is_friend(from, to);
    let reverse = w.friends.is_friend(to, from);
    if has && (!both || reverse) {
        return Err(fail(call, ErrorRole::AlreadyExists, format!("{to} is already a friend of {from}")));
    }
    if !force {
        match w.accounts.profile_value(to, TAG_ALLOW_TYPE).and_then(Value::as_str) {
            Some("AllowType_Type_DenyAny") => {
                return Err(fail(
                    call,
                    ErrorRole::PermissionDenied,
                    format!("{to} accepts no friend requests"),
                ))
            }
            Some("AllowType_Type_NeedConfirm") => {
                return Err(fail_named(call, "PendingApproval", format!("{to} must approve the request")))
            }
            _ => {}
        }
    }
    let add_source = item.add_source.clone().unwrap_or_default();
    let groups: Vec<String> = item.group_name.iter().filter(|g| !g.is_empty()).cloned().collect();
    if !has {
        let user = w.friends.user(from);
        over_limit(call, "friend_lists", user.lists_after(&groups), "friend lists")?;
        user.create_lists(&groups);
        let remark = item.remark.clone().unwrap_or_default();
        let friend = Friend {
            remark_time: if remark.is_empty() { 0 } else { call.now },
            remark,
            groups,
            add_source: add_source.clone(),
            add_wording: item.add_wording.clone().unwrap_or_default(),
            add_time: call.now,
            custom: BTreeMap::new(),
        };
        user.friends.insert(to.to_owned(), friend);
        user.bump_standard();
        pairs.push(added::FriendPair::new(from, to).initiator_account(from));
    }
    if both && !reverse {
        let user = w.friends.user(to);
        let friend = Friend { add_source, add_time: call.now, ..Friend::default() };
        user.friends.insert(from.to_owned(), friend);
        user.bump_standard();
        pairs.push(added::FriendPair::new(to, from).initiator_account(from));
    }
    Ok(())
}

/// Whether a tag names a custom friend field (`Tag_SNS_Custom_` and a key).
fn is_custom_tag(tag: &str) -> bool {
    tag.len() > CUSTOM_PREFIX.len() && tag.starts_with(CUSTOM_PREFIX)
}

/// The custom friend fields of an import; an item whose tag is missing or
/// is not a custom friend field is refused.
fn custom_items(items: &[friend_import::CustomFriendItem]) -> Result<BTreeMap<String, Value>, String> {
    let mut custom = BTreeMap::new();
    for item in items {
        let tag = item.tag.as_deref().unwrap_or_default();
        if !is_custom_tag(tag) {
            return Err(format!("{tag:?} is not a custom friend field"));
        }
        custom.insert(tag.to_owned(), item.value.clone().unwrap_or(Value::Null));
    }
    Ok(custom)
}

/// Imports one-way friendships with their data; fires no callback.
pub(super) fn friend_import(
    w: &mut World,
    call: &Call<'_>,
    req: friend_import::Request,
) -> Typed<friend_import::Request> {
    let from = sender(w, call, &req.from_account)?;
    let mut results = Results::default();
    for item in &req.add_friend_item {
        let outcome = import_one(w, call, from, item);
        results.push(&item.to_account, outcome);
    }
    let (items, failed) = results.into_parts();
    let mut reply = friend_import::Response::new().result_item(items).error_display("");
    reply.fail_account = failed;
    Ok(reply.into())
}

fn import_one(
    w: &mut World,
    call: &Call<'_>,
    from: &str,
    item: &friend_import::ImportFriendItem,
) -> Result<(), ItemError> {
    let to = item.to_account.as_str();
    check_target(w, call, from, to)?;
    if w.friends.is_friend(from, to) {
        return Err(fail(call, ErrorRole::AlreadyExists, format!("{to} is already a friend of {from}")));
    }
    let groups = item.group_name.clone().unwrap_or_default();
    let custom = match &item.custom_item {
        Some(items) => custom_items(items).map_err(|e| fail(call, ErrorRole::InvalidField, e))?,
        None => BTreeMap::new(),
    };
    let user = w.friends.user(from);
    over_limit(call, "friend_lists", user.lists_after(&groups), "friend lists")?;
    user.create_lists(&groups);
    if !custom.is_empty() {
        user.bump_custom();
    }
    let friend = Friend {
        remark: item.remark.clone().unwrap_or_default(),
        remark_time: item.remark_time.unwrap_or(0),
        groups,
        add_source: item.add_source.clone(),
        add_wording: item.add_wording.clone().unwrap_or_default(),
        add_time: item.add_time.unwrap_or(call.now),
        custom,
    };
    user.friends.insert(to.to_owned(), friend);
    user.bump_standard();
    Ok(())
}

/// Sets remark, lists and custom fields of existing friends.
pub(super) fn friend_update(
    w: &mut World,
    call: &Call<'_>,
    req: friend_update::Request,
) -> Typed<friend_update::Request> {
    let from = sender(w, call, &req.from_account)?;
    let mut results = Results::default();
    for item in &req.update_item {
        let outcome = update_one(w, call, from, item);
        results.push(&item.to_account, outcome);
    }
    let (items, failed) = results.into_parts();
    let mut reply = friend_update::Response::new().result_item(items).error_display("");
    reply.fail_account = failed;
    Ok(reply.into())
}

fn update_one(
    w: &mut World,
    call: &Call<'_>,
    from: &str,
    item: &friend_update::UpdateItem,
) -> Result<(), ItemError> {
    let to = item.to_account.as_str();
    check_target(w, call, from, to)?;
    if !w.friends.is_friend(from, to) {
        return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
    }
    // Validate everything before changing anything, so an item is all or nothing.
    let remark_max = call.limit_max("remark_bytes");
    let mut remark = None;
    let mut groups = None;
    let mut custom = BTreeMap::new();
    for sns in &item.sns_item {
        match sns.tag.as_str() {
            TAG_REMARK => match sns.value.as_str() {
                Some(r) if r.len() as u64 <= remark_max => remark = Some(r.to_owned()),
                _ => {
                    let why = format!("the remark is a string of at most {remark_max} bytes");
                    return Err(fail(call, ErrorRole::InvalidField, why));
                }
            },
            TAG_GROUP => match sns.value.as_array() {
                Some(g) if g.iter().all(|n| n.as_str().is_some_and(|n| valid_list_name(call, n))) => {
                    groups = Some(g.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>());
                }
                _ => {
                    let why = "Tag_SNS_IM_Group takes an array of list names";
                    return Err(fail(call, ErrorRole::InvalidField, why));
                }
            },
            t if is_custom_tag(t) => {
                custom.insert(sns.tag.clone(), sns.value.clone());
            }
            t => return Err(fail(call, ErrorRole::InvalidField, format!("{t:?} cannot be updated"))),
        }
    }
    let user = w.friends.user(from);
    if let Some(g) = &groups {
        over_limit(call, "friend_lists", user.lists_after(g), "friend lists")?;
        user.create_lists(g);
    }
    let Some(friend) = user.friends.get_mut(to) else {
        return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
    };
    let standard = remark.is_some() || groups.is_some();
    if let Some(r) = remark {
        friend.remark = r;
        friend.remark_time = call.now;
    }
    if let Some(g) = groups {
        friend.groups = g;
    }
    let changed_custom = !custom.is_empty();
    friend.custom.extend(custom);
    if standard {
        user.bump_standard();
    }
    if changed_custom {
        user.bump_custom();
    }
    Ok(())
}

/// Deletes friends; both ways unless `DeleteType` is `Delete_Type_Single`.
pub(super) fn friend_delete(
    w: &mut World,
    call: &Call<'_>,
    req: friend_delete::Request,
) -> Typed<friend_delete::Request> {
    let from = sender(w, call, &req.from_account)?;
    let both = req.delete_type != Some(friend_delete::DeleteType::Single);
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for to in &req.to_account {
        let outcome = check_target(w, call, from, to).and_then(|()| {
            if !w.friends.unfriend(from, to) {
                return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
            }
            pairs.push((from.to_owned(), to.clone()));
            if both && w.friends.unfriend(to, from) {
                pairs.push((to.clone(), from.to_owned()));
            }
            Ok(())
        });
        results.push(to, outcome);
    }
    let (items, _) = results.into_parts();
    let reply = friend_delete::Response::new().result_item(items).error_display("");
    Ok(Answer::with_events(reply, friend_delete_event(pairs).into_iter().collect()))
}

/// Deletes every friend; one way unless `DeleteType` is `Delete_Type_Both`.
/// The friend lists stay.
pub(super) fn friend_delete_all(
    w: &mut World,
    call: &Call<'_>,
    req: friend_delete_all::Request,
) -> Typed<friend_delete_all::Request> {
    let from = sender(w, call, &req.from_account)?;
    let both = req.delete_type == Some(friend_delete_all::DeleteType::Both);
    let mut pairs = Vec::new();
    for to in w.friends.friends_of(from) {
        if w.friends.unfriend(from, &to) {
            pairs.push((from.to_owned(), to.clone()));
        }
        if both && w.friends.unfriend(&to, from) {
            pairs.push((to, from.to_owned()));
        }
    }
    let reply = friend_delete_all::Response::new().error_display("");
    Ok(Answer::with_events(reply, friend_delete_event(pairs).into_iter().collect()))
}

pub(super) fn friend_check(
    w: &mut World,
    call: &Call<'_>,
    req: friend_check::Request,
) -> Typed<friend_check::Request> {
    use friend_check::{CheckInfo, Relation};
    let from = sender(w, call, &req.from_account)?;
    let two_way = req.check_type == friend_check::CheckType::Both;
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for (to, r) in
        req.to_account.iter().zip(check(w, call, from, &req.to_account, two_way, Friends::is_friend))
    {
        let item = CheckInfo::new(to.as_str());
        items.push(match r {
            Ok(rel) => {
                let relation = match rel {
                    (true, Some(true)) => Relation::BothWay,
                    (true, _) => Relation::AWithB,
                    (false, Some(true)) => Relation::BWithA,
                    (false, _) => Relation::NoRelation,
                };
                item.relation(relation).result_code(0i64).result_info("")
            }
            Err((code, info)) => {
                failed.push(to.clone());
                item.result_code(code).result_info(info)
            }
        });
    }
    let mut reply = friend_check::Response::new().info_item(items).error_display("");
    if !failed.is_empty() {
        reply = reply.fail_account(failed);
    }
    Ok(reply.into())
}

/// One page of friends (the spec's `friends_per_page`) from `StartIndex`,
/// sorted by UserID. Standard (custom) data is left out when the caller's
/// `StandardSequence` (`CustomSequence`) is the current one.
pub(super) fn friend_get(
    w: &mut World,
    call: &Call<'_>,
    req: friend_get::Request,
) -> Typed<friend_get::Request> {
    let from = sender(w, call, &req.from_account)?;
    let page_size = usize::try_from(call.limit_max("friends_per_page")).unwrap_or(usize::MAX);
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let start = usize::try_from(req.start_index).unwrap_or(usize::MAX);
    let skip_standard = req.standard_sequence.is_some_and(|s| s != 0 && s == user.standard_sequence);
    let skip_custom = req.custom_sequence.is_some_and(|s| s != 0 && s == user.custom_sequence);
    let total = user.friends.len();
    let page: Vec<friend_get::FriendData> = user
        .friends
        .iter()
        .skip(start)
        .take(page_size)
        .map(|(id, f)| {
            let mut values = Vec::new();
            if !skip_standard {
                values.extend(f.standard_items());
            }
            if !skip_custom {
                values.extend(f.custom_items());
            }
            friend_get::FriendData::new(id.as_str()).value_item(values)
        })
        .collect();
    let end = start.saturating_add(page.len());
    let complete = end >= total;
    Ok(friend_get::Response::new()
        .user_data_item(page)
        .standard_sequence(user.standard_sequence)
        .custom_sequence(user.custom_sequence)
        .friend_num(wire_u32(total))
        .complete_flag(u8::from(complete))
        .next_start_index(if complete { 0 } else { end as u64 })
        .error_display("")
        .into())
}

/// Profile (`Tag_Profile_*`) and friend (`Tag_SNS_*`) fields of named
/// friends; only fields with a value are returned.
pub(super) fn friend_get_list(
    w: &mut World,
    call: &Call<'_>,
    req: friend_get_list::Request,
) -> Typed<friend_get_list::Request> {
    let from = sender(w, call, &req.from_account)?;
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for to in &req.to_account {
        let friend = check_target(w, call, from, to).and_then(|()| {
            w.friends
                .friend(from, to)
                .ok_or_else(|| fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")))
        });
        let item = friend_get_list::FriendInfo::new(to.as_str());
        items.push(match friend {
            Ok(f) => {
                let values: Vec<ProfileItem> = req
                    .tag_list
                    .iter()
                    .filter_map(|t| {
                        let v = if t.starts_with("Tag_Profile_") {
                            w.accounts.profile_value(to, t).cloned()
                        } else {
                            f.field(t)
                        };
                        v.map(|v| ProfileItem::new(t.as_str(), v))
                    })
                    .collect();
                item.sns_profile_item(values).result_code(0i64).result_info("")
            }
            Err((code, info)) => {
                failed.push(to.clone());
                item.result_code(code).result_info(info)
            }
        });
    }
    let mut reply = friend_get_list::Response::new().info_item(items).error_display("");
    if !failed.is_empty() {
        reply = reply.fail_account(failed);
    }
    Ok(reply.into())
}
