//! Friendships: adding, importing, updating, deleting, checking and getting friends.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::{
    check, check_target, fail, friend_delete_event, pair, valid_list_name, Friend, Friends, ItemError,
    Results, FRIEND_PAGE_SIZE, MAX_FRIEND_LISTS, TAG_GROUP, TAG_REMARK,
};
use crate::world::accounts::{TAG_ADMIN_FORBID_TYPE, TAG_ALLOW_TYPE};
use crate::world::{Call, Done, Handled, World};

const CUSTOM_PREFIX: &str = "Tag_SNS_Custom_";

/// A per-target failure with the code of the spec's error `name`.
fn fail_named(call: &Call<'_>, name: &str, info: impl Into<String>) -> ItemError {
    let r = call.refuse_named(name, info);
    (r.code, r.info)
}

fn objects<'a>(call: &Call<'a>, name: &str) -> &'a [Value] {
    match call.body.get(name) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

fn text(item: &Value, name: &str) -> String {
    item.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Adds friends one way or both ways. A user whose
/// `Tag_Profile_IM_AdminForbidType` is `AdminForbid_Type_SendOut` may not add
/// friends; blocklists stop the request either way; without `ForceAddFlags: 1` the target's `AllowType` applies
/// (`NeedConfirm` leaves the request pending, so nothing is added).
pub(super) fn friend_add(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let both = call.str("AddType") != Some("Add_Type_Single");
    let force = call.u64("ForceAddFlags") == Some(1);
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for item in objects(call, "AddFriendItem") {
        let to = text(item, "To_Account");
        let outcome = add_one(w, call, from, &to, item, both, force, &mut pairs);
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    if !pairs.is_empty() {
        done = done.event(
            "Sns.CallbackFriendAdd",
            json!({
                "PairList": pairs,
                "ClientCmd": "friend_add",
                "Admin_Account": call.operator,
                "ForceFlag": u8::from(force),
            }),
        );
    }
    Ok(done)
}

#[allow(clippy::too_many_arguments)]
fn add_one(
    w: &mut World,
    call: &Call<'_>,
    from: &str,
    to: &str,
    item: &Value,
    both: bool,
    force: bool,
    pairs: &mut Vec<Value>,
) -> Result<(), ItemError> {
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
    let groups: Vec<String> = Some(text(item, "GroupName")).filter(|g| !g.is_empty()).into_iter().collect();
    if !has {
        let user = w.friends.user(from);
        if user.lists_overflow(&groups) {
            return Err(fail(
                call,
                ErrorRole::LimitReached,
                format!("{from} has {MAX_FRIEND_LISTS} friend lists"),
            ));
        }
        user.create_lists(&groups);
        let remark = text(item, "Remark");
        let friend = Friend {
            remark_time: if remark.is_empty() { 0 } else { call.now },
            remark,
            groups,
            add_source: text(item, "AddSource"),
            add_wording: text(item, "AddWording"),
            add_time: call.now,
            custom: BTreeMap::new(),
        };
        user.friends.insert(to.to_owned(), friend);
        user.bump_standard();
        pairs.push(json!({"From_Account": from, "To_Account": to, "Initiator_Account": from}));
    }
    if both && !reverse {
        let user = w.friends.user(to);
        let friend = Friend { add_source: text(item, "AddSource"), add_time: call.now, ..Friend::default() };
        user.friends.insert(from.to_owned(), friend);
        user.bump_standard();
        pairs.push(json!({"From_Account": to, "To_Account": from, "Initiator_Account": from}));
    }
    Ok(())
}

/// Whether a tag names a custom friend field (`Tag_SNS_Custom_` and a key).
fn is_custom_tag(tag: &str) -> bool {
    tag.len() > CUSTOM_PREFIX.len() && tag.starts_with(CUSTOM_PREFIX)
}

/// The tags of a `ProfileItem` list that are custom friend fields; an item
/// with another tag is refused.
fn custom_items(items: &[Value]) -> Result<BTreeMap<String, Value>, String> {
    let mut custom = BTreeMap::new();
    for item in items {
        let tag = text(item, "Tag");
        if !is_custom_tag(&tag) {
            return Err(format!("{tag:?} is not a custom friend field"));
        }
        custom.insert(tag, item.get("Value").cloned().unwrap_or(Value::Null));
    }
    Ok(custom)
}

/// Imports one-way friendships with their data; fires no callback.
pub(super) fn friend_import(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let mut results = Results::default();
    for item in objects(call, "AddFriendItem") {
        let to = text(item, "To_Account");
        let outcome = import_one(w, call, from, &to, item);
        results.push(&to, outcome);
    }
    Ok(results.into_done(true))
}

fn import_one(w: &mut World, call: &Call<'_>, from: &str, to: &str, item: &Value) -> Result<(), ItemError> {
    check_target(w, call, from, to)?;
    if w.friends.is_friend(from, to) {
        return Err(fail(call, ErrorRole::AlreadyExists, format!("{to} is already a friend of {from}")));
    }
    let groups: Vec<String> = match item.get("GroupName") {
        Some(Value::Array(g)) => g.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let custom = match item.get("CustomItem") {
        Some(Value::Array(items)) => {
            custom_items(items).map_err(|e| fail(call, ErrorRole::InvalidField, e))?
        }
        _ => BTreeMap::new(),
    };
    let user = w.friends.user(from);
    if user.lists_overflow(&groups) {
        return Err(fail(
            call,
            ErrorRole::LimitReached,
            format!("{from} has {MAX_FRIEND_LISTS} friend lists"),
        ));
    }
    user.create_lists(&groups);
    if !custom.is_empty() {
        user.bump_custom();
    }
    let friend = Friend {
        remark: text(item, "Remark"),
        remark_time: item.get("RemarkTime").and_then(Value::as_u64).unwrap_or(0),
        groups,
        add_source: text(item, "AddSource"),
        add_wording: text(item, "AddWording"),
        add_time: item.get("AddTime").and_then(Value::as_u64).unwrap_or(call.now),
        custom,
    };
    user.friends.insert(to.to_owned(), friend);
    user.bump_standard();
    Ok(())
}

/// Sets remark, lists and custom fields of existing friends.
pub(super) fn friend_update(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let mut results = Results::default();
    for item in objects(call, "UpdateItem") {
        let to = text(item, "To_Account");
        let outcome = update_one(w, call, from, &to, item);
        results.push(&to, outcome);
    }
    Ok(results.into_done(true))
}

fn update_one(w: &mut World, call: &Call<'_>, from: &str, to: &str, item: &Value) -> Result<(), ItemError> {
    check_target(w, call, from, to)?;
    if !w.friends.is_friend(from, to) {
        return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
    }
    // Validate everything before changing anything, so an item is all or nothing.
    let mut remark = None;
    let mut groups = None;
    let mut custom = BTreeMap::new();
    for sns in item.get("SnsItem").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let tag = text(sns, "Tag");
        let value = sns.get("Value").cloned().unwrap_or(Value::Null);
        match tag.as_str() {
            TAG_REMARK => match value.as_str() {
                Some(r) if r.len() <= 96 => remark = Some(r.to_owned()),
                _ => {
                    return Err(fail(
                        call,
                        ErrorRole::InvalidField,
                        "the remark is a string of at most 96 bytes",
                    ))
                }
            },
            TAG_GROUP => match value.as_array() {
                Some(g) if g.iter().all(|n| n.as_str().is_some_and(valid_list_name)) => {
                    groups = Some(g.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>());
                }
                _ => {
                    return Err(fail(
                        call,
                        ErrorRole::InvalidField,
                        "Tag_SNS_IM_Group takes an array of list names",
                    ))
                }
            },
            t if is_custom_tag(t) => {
                custom.insert(tag.clone(), value);
            }
            _ => return Err(fail(call, ErrorRole::InvalidField, format!("{tag:?} cannot be updated"))),
        }
    }
    let user = w.friends.user(from);
    if let Some(g) = &groups {
        if user.lists_overflow(g) {
            return Err(fail(
                call,
                ErrorRole::LimitReached,
                format!("{from} has {MAX_FRIEND_LISTS} friend lists"),
            ));
        }
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
pub(super) fn friend_delete(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let both = call.str("DeleteType") != Some("Delete_Type_Single");
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            if !w.friends.unfriend(from, &to) {
                return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
            }
            pairs.push(pair(from, &to));
            if both && w.friends.unfriend(&to, from) {
                pairs.push(pair(&to, from));
            }
            Ok(())
        });
        results.push(&to, outcome);
    }
    Ok(friend_delete_event(results.into_done(false), pairs))
}

/// Deletes every friend; one way unless `DeleteType` is `Delete_Type_Both`.
/// The friend lists stay.
pub(super) fn friend_delete_all(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let both = call.str("DeleteType") == Some("Delete_Type_Both");
    let mut pairs = Vec::new();
    for to in w.friends.friends_of(from) {
        if w.friends.unfriend(from, &to) {
            pairs.push(pair(from, &to));
        }
        if both && w.friends.unfriend(&to, from) {
            pairs.push(pair(&to, from));
        }
    }
    Ok(friend_delete_event(Done::reply(json!({"ErrorDisplay": ""})), pairs))
}

const FRIEND_RELATIONS: [&str; 4] = [
    "CheckResult_Type_BothWay",
    "CheckResult_Type_AWithB",
    "CheckResult_Type_BWithA",
    "CheckResult_Type_NoRelation",
];

pub(super) fn friend_check(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    check(w, call, from, "InfoItem", "CheckResult_Type_Both", FRIEND_RELATIONS, Friends::is_friend)
}

/// One page of [`FRIEND_PAGE_SIZE`] friends from `StartIndex`, sorted by
/// UserID. Standard (custom) data is left out when the caller's
/// `StandardSequence` (`CustomSequence`) is the current one.
pub(super) fn friend_get(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let start = usize::try_from(call.u64("StartIndex").unwrap_or(0)).unwrap_or(usize::MAX);
    let skip_standard = call.u64("StandardSequence").is_some_and(|s| s != 0 && s == user.standard_sequence);
    let skip_custom = call.u64("CustomSequence").is_some_and(|s| s != 0 && s == user.custom_sequence);
    let total = user.friends.len();
    let page: Vec<Value> = user
        .friends
        .iter()
        .skip(start)
        .take(FRIEND_PAGE_SIZE)
        .map(|(id, f)| {
            let mut values = Vec::new();
            if !skip_standard {
                values.extend(f.standard_items());
            }
            if !skip_custom {
                values.extend(f.custom_items());
            }
            json!({"To_Account": id, "ValueItem": values})
        })
        .collect();
    let end = start.saturating_add(page.len());
    let complete = end >= total;
    Ok(Done::reply(json!({
        "UserDataItem": page,
        "StandardSequence": user.standard_sequence,
        "CustomSequence": user.custom_sequence,
        "FriendNum": u32::try_from(total).unwrap_or(u32::MAX),
        "CompleteFlag": u8::from(complete),
        "NextStartIndex": if complete { 0 } else { end },
        "ErrorDisplay": "",
    })))
}

/// Profile (`Tag_Profile_*`) and friend (`Tag_SNS_*`) fields of named
/// friends; only fields with a value are returned.
pub(super) fn friend_get_list(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let tags = call.strings("TagList");
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for to in call.strings("To_Account") {
        let friend = check_target(w, call, from, &to).and_then(|()| {
            w.friends
                .friend(from, &to)
                .ok_or_else(|| fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")))
        });
        match friend {
            Ok(f) => {
                let values: Vec<Value> = tags
                    .iter()
                    .filter_map(|t| {
                        let v = if t.starts_with("Tag_Profile_") {
                            w.accounts.profile_value(&to, t).cloned()
                        } else {
                            f.field(t)
                        };
                        v.map(|v| json!({"Tag": t, "Value": v}))
                    })
                    .collect();
                items.push(
                    json!({"To_Account": to, "SnsProfileItem": values, "ResultCode": 0, "ResultInfo": ""}),
                );
            }
            Err((code, info)) => {
                items.push(json!({"To_Account": to, "ResultCode": code, "ResultInfo": info}));
                failed.push(to);
            }
        }
    }
    let mut done = Done::reply(json!({"InfoItem": items, "ErrorDisplay": ""}));
    if !failed.is_empty() {
        done.reply.insert("Fail_Account".into(), json!(failed));
    }
    Ok(done)
}
