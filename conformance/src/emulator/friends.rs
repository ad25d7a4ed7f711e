//! Friends, friend lists and blocklists (the `sns` endpoints).
//!
//! Each account that has relationship data owns an [`SnsUser`]: its friends
//! (one-way entries: `a` has `b` as a friend; a two-way friendship is two
//! entries), its friend lists (named groupings of friends) and its blocklist.
//! Every call names its `From_Account`, which must exist; the targets of a
//! call get one result each, with the code the endpoint's spec gives the
//! situation's role (or, where the page documents no code for it, the
//! endpoint's catch-all code, as the service does for a bad target).
//!
//! Choices where the pages are silent: a friend request to a user without a
//! `Tag_Profile_IM_AllowType` is accepted as `AllowType_Type_AllowAny`
//! would; `friend_delete` deletes both ways unless told otherwise (as
//! `friend_add` adds both ways); `friend_get` pages hold
//! [`FRIEND_PAGE_SIZE`] friends; friend lists named when adding, importing
//! or updating a friend are created on the way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use super::accounts::{refuse_named, TAG_ADMIN_FORBID_TYPE, TAG_ALLOW_TYPE};
use super::{Call, Done, Handled, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[
    "sns/friend_add",
    "sns/friend_import",
    "sns/friend_update",
    "sns/friend_delete",
    "sns/friend_delete_all",
    "sns/friend_check",
    "sns/friend_get",
    "sns/friend_get_list",
    "sns/group_add",
    "sns/group_delete",
    "sns/group_get",
    "sns/black_list_add",
    "sns/black_list_delete",
    "sns/black_list_get",
    "sns/black_list_check",
];

/// Friends per `friend_get` page (the page takes no size).
pub const FRIEND_PAGE_SIZE: usize = 100;
/// Most friend lists a user may have (the relationship chain page's 32).
pub const MAX_FRIEND_LISTS: usize = 32;
/// Longest friend list name, bytes.
pub const MAX_LIST_NAME_BYTES: usize = 30;
/// Most users on one blocklist (the relationship chain page's 1,000).
pub const MAX_BLOCKLIST: usize = 1000;

/// Friend field tags (`Tag_SNS_IM_*`).
const TAG_REMARK: &str = "Tag_SNS_IM_Remark";
const TAG_GROUP: &str = "Tag_SNS_IM_Group";
const TAG_ADD_SOURCE: &str = "Tag_SNS_IM_AddSource";
const TAG_ADD_WORDING: &str = "Tag_SNS_IM_AddWording";
const TAG_ADD_TIME: &str = "Tag_SNS_IM_AddTime";
const TAG_REMARK_TIME: &str = "Tag_SNS_IM_RemarkTime";
const CUSTOM_PREFIX: &str = "Tag_SNS_Custom_";

/// Friends, friend lists and blocklists of every account.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Friends {
    /// By owner UserID.
    pub users: BTreeMap<String, SnsUser>,
}

/// The relationship data one account owns.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsUser {
    /// The account's friends by UserID.
    pub friends: BTreeMap<String, Friend>,
    /// Names of the account's friend lists, in creation order.
    pub lists: Vec<String>,
    /// Blocked users by UserID.
    pub blocklist: BTreeMap<String, BlockEntry>,
    /// Version of the standard friend data (`StandardSequence`).
    pub standard_sequence: u64,
    /// Version of the custom friend data (`CustomSequence`).
    pub custom_sequence: u64,
    /// Version of the friend lists (`CurrentSequence`).
    pub list_sequence: u64,
    /// Version of the blocklist (`CurruentSequence`).
    pub black_sequence: u64,
}

/// What an account stores about one of its friends.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Friend {
    /// `Tag_SNS_IM_Remark`.
    pub remark: String,
    /// When the remark was set (Unix seconds; 0: never).
    pub remark_time: u64,
    /// Friend lists the friend is in (`Tag_SNS_IM_Group`).
    pub groups: Vec<String>,
    /// `Tag_SNS_IM_AddSource`.
    pub add_source: String,
    /// `Tag_SNS_IM_AddWording`.
    pub add_wording: String,
    /// `Tag_SNS_IM_AddTime` (Unix seconds).
    pub add_time: u64,
    /// Custom friend fields (`Tag_SNS_Custom_*`).
    pub custom: BTreeMap<String, Value>,
}

/// One blocklist entry.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BlockEntry {
    /// When the user was blocked (Unix seconds, `AddBlackTimeStamp`).
    pub added_at: u64,
}

impl Friends {
    /// Removes every trace of an account: its own data and its entries in
    /// everybody's friends and blocklists.
    pub fn forget_account(&mut self, id: &str) {
        self.users.remove(id);
        for user in self.users.values_mut() {
            if user.friends.remove(id).is_some() {
                user.standard_sequence = user.standard_sequence.saturating_add(1);
            }
            if user.blocklist.remove(id).is_some() {
                user.black_sequence = user.black_sequence.saturating_add(1);
            }
        }
    }

    /// Whether the account owns relationship data or is anybody's friend or
    /// blocked user.
    pub fn mentions_account(&self, id: &str) -> bool {
        self.users.contains_key(id)
            || self.users.values().any(|u| u.friends.contains_key(id) || u.blocklist.contains_key(id))
    }

    /// Whether `b` is in `a`'s friend list (one way).
    pub fn is_friend(&self, a: &str, b: &str) -> bool {
        self.users.get(a).is_some_and(|u| u.friends.contains_key(b))
    }

    /// What `a` stores about its friend `b`.
    pub fn friend(&self, a: &str, b: &str) -> Option<&Friend> {
        self.users.get(a).and_then(|u| u.friends.get(b))
    }

    /// `a`'s friends, sorted.
    pub fn friends_of(&self, a: &str) -> Vec<String> {
        self.users.get(a).map(|u| u.friends.keys().cloned().collect()).unwrap_or_default()
    }

    /// Whether `b` is on `a`'s blocklist.
    pub fn is_blocked(&self, a: &str, b: &str) -> bool {
        self.users.get(a).is_some_and(|u| u.blocklist.contains_key(b))
    }

    /// `a`'s blocklist, sorted by UserID.
    pub fn blocklist_of(&self, a: &str) -> Vec<String> {
        self.users.get(a).map(|u| u.blocklist.keys().cloned().collect()).unwrap_or_default()
    }

    /// `a`'s friend lists, in creation order.
    pub fn lists_of(&self, a: &str) -> Vec<String> {
        self.users.get(a).map(|u| u.lists.clone()).unwrap_or_default()
    }

    fn user(&mut self, id: &str) -> &mut SnsUser {
        self.users.entry(id.to_owned()).or_default()
    }

    /// Removes `b` from `a`'s friends; whether it was there.
    fn unfriend(&mut self, a: &str, b: &str) -> bool {
        let Some(user) = self.users.get_mut(a) else { return false };
        match user.friends.remove(b) {
            Some(f) => {
                user.standard_sequence = user.standard_sequence.saturating_add(1);
                if !f.custom.is_empty() {
                    user.custom_sequence = user.custom_sequence.saturating_add(1);
                }
                true
            }
            None => false,
        }
    }
}

impl SnsUser {
    /// Whether naming `groups` would take the user past the list limit.
    fn lists_overflow(&self, groups: &[String]) -> bool {
        let mut new: Vec<&String> = groups.iter().filter(|g| !self.lists.contains(g)).collect();
        new.dedup();
        self.lists.len().saturating_add(new.len()) > MAX_FRIEND_LISTS
    }

    /// Creates the lists not there yet.
    fn create_lists(&mut self, groups: &[String]) {
        let mut created = false;
        for g in groups {
            if !self.lists.contains(g) {
                self.lists.push(g.clone());
                created = true;
            }
        }
        if created {
            self.list_sequence = self.list_sequence.saturating_add(1);
        }
    }

    fn bump_standard(&mut self) {
        self.standard_sequence = self.standard_sequence.saturating_add(1);
    }

    fn bump_custom(&mut self) {
        self.custom_sequence = self.custom_sequence.saturating_add(1);
    }
}

impl Friend {
    /// The standard fields that carry a value, as `ValueItem`s.
    fn standard_items(&self) -> Vec<Value> {
        let mut items = vec![json!({"Tag": TAG_ADD_SOURCE, "Value": self.add_source})];
        if !self.remark.is_empty() {
            items.push(json!({"Tag": TAG_REMARK, "Value": self.remark}));
        }
        if !self.groups.is_empty() {
            items.push(json!({"Tag": TAG_GROUP, "Value": self.groups}));
        }
        if !self.add_wording.is_empty() {
            items.push(json!({"Tag": TAG_ADD_WORDING, "Value": self.add_wording}));
        }
        items.push(json!({"Tag": TAG_ADD_TIME, "Value": self.add_time}));
        items
    }

    fn custom_items(&self) -> Vec<Value> {
        self.custom.iter().map(|(t, v)| json!({"Tag": t, "Value": v})).collect()
    }

    /// One friend field by tag, if it has a value.
    fn field(&self, tag: &str) -> Option<Value> {
        match tag {
            TAG_REMARK => Some(json!(self.remark)),
            TAG_GROUP => Some(json!(self.groups)),
            TAG_ADD_SOURCE => Some(json!(self.add_source)),
            TAG_ADD_WORDING => Some(json!(self.add_wording)),
            TAG_ADD_TIME => Some(json!(self.add_time)),
            TAG_REMARK_TIME => Some(json!(self.remark_time)),
            _ => self.custom.get(tag).cloned(),
        }
    }
}

/// Answers a call on one of [`PATHS`].
pub fn handle(w: &mut World, call: &Call<'_>) -> Handled {
    let from = call.str("From_Account").unwrap_or_default().to_owned();
    if !w.accounts.exists(&from) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("account {from:?} does not exist")));
    }
    match call.path {
        "sns/friend_add" => friend_add(w, call, &from),
        "sns/friend_import" => friend_import(w, call, &from),
        "sns/friend_update" => friend_update(w, call, &from),
        "sns/friend_delete" => friend_delete(w, call, &from),
        "sns/friend_delete_all" => friend_delete_all(w, call, &from),
        "sns/friend_check" => friend_check(w, call, &from),
        "sns/friend_get" => friend_get(w, call, &from),
        "sns/friend_get_list" => friend_get_list(w, call, &from),
        "sns/group_add" => group_add(w, call, &from),
        "sns/group_delete" => group_delete(w, call, &from),
        "sns/group_get" => group_get(w, call, &from),
        "sns/black_list_add" => black_list_add(w, call, &from),
        "sns/black_list_delete" => black_list_delete(w, call, &from),
        "sns/black_list_get" => black_list_get(w, call, &from),
        "sns/black_list_check" => black_list_check(w, call, &from),
        _ => Err(call.refuse(ErrorRole::UnknownPath, format!("{} is not a friend path", call.path))),
    }
}

/// Per-target results: `ResultItem` entries and the failed targets.
#[derive(Default)]
struct Results {
    items: Vec<Value>,
    failed: Vec<String>,
}

/// Why one target failed: the code and the text.
type ItemError = (i64, String);

impl Results {
    fn push(&mut self, to: &str, outcome: Result<(), ItemError>) {
        match outcome {
            Ok(()) => self.items.push(json!({"To_Account": to, "ResultCode": 0, "ResultInfo": ""})),
            Err((code, info)) => {
                self.items.push(json!({"To_Account": to, "ResultCode": code, "ResultInfo": info}));
                self.failed.push(to.to_owned());
            }
        }
    }

    /// The reply: `ResultItem`, `Fail_Account` when something failed,
    /// `ErrorDisplay`.
    fn into_done(self, with_fail_account: bool) -> Done {
        let mut done = Done::reply(json!({"ResultItem": self.items, "ErrorDisplay": ""}));
        if with_fail_account && !self.failed.is_empty() {
            done.reply.insert("Fail_Account".into(), json!(self.failed));
        }
        done
    }
}

/// A per-target failure with the code of `role` (the catch-all without).
fn fail(call: &Call<'_>, role: ErrorRole, info: impl Into<String>) -> ItemError {
    let r = call.refuse(role, info);
    (r.code, r.info)
}

/// A per-target failure with the code of the spec's error `name`.
fn fail_named(call: &Call<'_>, name: &str, info: impl Into<String>) -> ItemError {
    let r = refuse_named(call, name, info);
    (r.code, r.info)
}

/// The checks every target of a relationship call passes: not empty, not
/// the user itself, an existing account.
fn check_target(w: &World, call: &Call<'_>, from: &str, to: &str) -> Result<(), ItemError> {
    if to.is_empty() || to == from {
        return Err(fail(call, ErrorRole::InvalidField, format!("{to:?} cannot be a target of {from:?}")));
    }
    if !w.accounts.exists(to) {
        return Err(fail(call, ErrorRole::AccountNotFound, format!("account {to:?} does not exist")));
    }
    Ok(())
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

fn pair(a: &str, b: &str) -> Value {
    json!({"From_Account": a, "To_Account": b})
}

fn friend_delete_event(done: Done, pairs: Vec<Value>) -> Done {
    if pairs.is_empty() {
        return done;
    }
    done.event("Sns.CallbackFriendDelete", json!({ "PairList": pairs }))
}

/// Adds friends one way or both ways. A user whose
/// `Tag_Profile_IM_AdminForbidType` is `AdminForbid_Type_SendOut` may not add
/// friends; blocklists stop the request either way; without `ForceAddFlags: 1` the target's `AllowType` applies
/// (`NeedConfirm` leaves the request pending, so nothing is added).
fn friend_add(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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
fn friend_import(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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
fn friend_update(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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

fn valid_list_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_LIST_NAME_BYTES
}

/// Deletes friends; both ways unless `DeleteType` is `Delete_Type_Single`.
fn friend_delete(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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
fn friend_delete_all(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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

/// The `Relation` of two one-way facts, with the given value names
/// (both ways, a with b, b with a, none).
fn relation(names: [&'static str; 4], a_has_b: bool, b_has_a: Option<bool>) -> &'static str {
    let [both_way, a_with_b, b_with_a, none] = names;
    match (a_has_b, b_has_a) {
        (true, Some(true)) => both_way,
        (true, _) => a_with_b,
        (false, Some(true)) => b_with_a,
        (false, _) => none,
    }
}

const FRIEND_RELATIONS: [&str; 4] = [
    "CheckResult_Type_BothWay",
    "CheckResult_Type_AWithB",
    "CheckResult_Type_BWithA",
    "CheckResult_Type_NoRelation",
];

const BLACK_RELATIONS: [&str; 4] = [
    "BlackCheckResult_Type_BothWay",
    "BlackCheckResult_Type_AWithB",
    "BlackCheckResult_Type_BWithA",
    "BlackCheckResult_Type_NO",
];

/// `friend_check` and `black_list_check`: one `Relation` per target.
fn check(
    w: &World,
    call: &Call<'_>,
    from: &str,
    list: &str,
    two_way_type: &str,
    names: [&'static str; 4],
    has: fn(&Friends, &str, &str) -> bool,
) -> Handled {
    let two_way = call.str("CheckType") == Some(two_way_type);
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for to in call.strings("To_Account") {
        if !w.accounts.exists(&to) {
            let (code, info) =
                fail(call, ErrorRole::AccountNotFound, format!("account {to:?} does not exist"));
            items.push(json!({"To_Account": to, "ResultCode": code, "ResultInfo": info}));
            failed.push(to);
            continue;
        }
        let a_has_b = has(&w.friends, from, &to);
        let b_has_a = two_way.then(|| has(&w.friends, &to, from));
        let rel = relation(names, a_has_b, b_has_a);
        items.push(json!({"To_Account": to, "Relation": rel, "ResultCode": 0, "ResultInfo": ""}));
    }
    let mut reply = Map::new();
    reply.insert(list.into(), json!(items));
    if !failed.is_empty() {
        reply.insert("Fail_Account".into(), json!(failed));
    }
    reply.insert("ErrorDisplay".into(), json!(""));
    Ok(Done::reply(Value::Object(reply)))
}

fn friend_check(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    check(w, call, from, "InfoItem", "CheckResult_Type_Both", FRIEND_RELATIONS, Friends::is_friend)
}

fn black_list_check(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    check(
        w,
        call,
        from,
        "BlackListCheckItem",
        "BlackCheckResult_Type_Both",
        BLACK_RELATIONS,
        Friends::is_blocked,
    )
}

/// One page of [`FRIEND_PAGE_SIZE`] friends from `StartIndex`, sorted by
/// UserID. Standard (custom) data is left out when the caller's
/// `StandardSequence` (`CustomSequence`) is the current one.
fn friend_get(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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
fn friend_get_list(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
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

/// Creates lists (names already there are kept) and puts the named friends
/// into all of them.
fn group_add(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let names = call.strings("GroupName");
    if names.is_empty() || !names.iter().all(|n| valid_list_name(n)) {
        return Err(call.refuse_field(
            "GroupName",
            format!("list names are non-empty and at most {MAX_LIST_NAME_BYTES} bytes"),
        ));
    }
    let user = w.friends.user(from);
    if user.lists_overflow(&names) {
        return Err(call
            .refuse(ErrorRole::LimitReached, format!("a user has at most {MAX_FRIEND_LISTS} friend lists")));
    }
    user.create_lists(&names);
    let mut results = Results::default();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            let user = w.friends.user(from);
            let Some(friend) = user.friends.get_mut(&to) else {
                return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
            };
            for n in &names {
                if !friend.groups.contains(n) {
                    friend.groups.push(n.clone());
                }
            }
            user.bump_standard();
            Ok(())
        });
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    done.reply.insert("CurrentSequence".into(), json!(w.friends.user(from).list_sequence));
    Ok(done)
}

/// Deletes lists; their friends stay friends. Names that are no list are
/// ignored.
fn group_delete(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let names = call.strings("GroupName");
    let user = w.friends.user(from);
    let before = user.lists.len();
    user.lists.retain(|l| !names.contains(l));
    if user.lists.len() != before {
        user.list_sequence = user.list_sequence.saturating_add(1);
        let mut touched = false;
        for f in user.friends.values_mut() {
            let n = f.groups.len();
            f.groups.retain(|g| !names.contains(g));
            touched |= f.groups.len() != n;
        }
        if touched {
            user.bump_standard();
        }
    }
    Ok(Done::reply(json!({"CurrentSequence": user.list_sequence, "ErrorDisplay": ""})))
}

/// Every list (or the named ones that exist) with its size, and its friends
/// when `NeedFriend` asks for them.
fn group_get(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let wanted = call.strings("GroupName");
    let need_friend = call.str("NeedFriend") == Some("Need_Friend_Type_Yes");
    let items: Vec<Value> = user
        .lists
        .iter()
        .filter(|l| wanted.is_empty() || wanted.contains(l))
        .map(|l| {
            let members: Vec<&String> =
                user.friends.iter().filter(|(_, f)| f.groups.contains(l)).map(|(id, _)| id).collect();
            let mut item = json!({"GroupName": l, "FriendNumber": members.len()});
            if need_friend {
                item["To_Account"] = json!(members);
            }
            item
        })
        .collect();
    Ok(Done::reply(json!({"ResultItem": items, "CurrentSequence": user.list_sequence, "ErrorDisplay": ""})))
}

/// Blocks users. Blocking ends the friendship both ways (each removed pair
/// is reported by `Sns.CallbackFriendDelete`); blocking someone already
/// blocked succeeds and keeps the original time.
fn black_list_add(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let mut results = Results::default();
    let mut blocked = Vec::new();
    let mut unfriended = Vec::new();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            if w.friends.is_blocked(from, &to) {
                return Ok(());
            }
            let user = w.friends.user(from);
            if user.blocklist.len() >= MAX_BLOCKLIST {
                return Err(fail(
                    call,
                    ErrorRole::LimitReached,
                    format!("the blocklist holds {MAX_BLOCKLIST} users"),
                ));
            }
            user.blocklist.insert(to.clone(), BlockEntry { added_at: call.now });
            user.black_sequence = user.black_sequence.saturating_add(1);
            blocked.push(pair(from, &to));
            if w.friends.unfriend(from, &to) {
                unfriended.push(pair(from, &to));
            }
            if w.friends.unfriend(&to, from) {
                unfriended.push(pair(&to, from));
            }
            Ok(())
        });
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    if !blocked.is_empty() {
        done = done.event("Sns.CallbackBlackListAdd", json!({ "PairList": blocked }));
    }
    Ok(friend_delete_event(done, unfriended))
}

/// Unblocks users; one that is not blocked gets the catch-all code (the
/// page documents none for it).
fn black_list_delete(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            let user = w.friends.user(from);
            if user.blocklist.remove(&to).is_none() {
                return Err(fail(
                    call,
                    ErrorRole::InvalidField,
                    format!("{to} is not on {from}'s blocklist"),
                ));
            }
            user.black_sequence = user.black_sequence.saturating_add(1);
            pairs.push(pair(from, &to));
            Ok(())
        });
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    if !pairs.is_empty() {
        done = done.event("Sns.CallbackBlackListDelete", json!({ "PairList": pairs }));
    }
    Ok(done)
}

/// One page of at most `MaxLimited` blocked users from `StartIndex`, in
/// the order they were blocked; `StartIndex` 0 in the reply ends the list.
fn black_list_get(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let mut entries: Vec<(&String, &BlockEntry)> = user.blocklist.iter().collect();
    entries.sort_by(|a, b| a.1.added_at.cmp(&b.1.added_at).then_with(|| a.0.cmp(b.0)));
    let start = usize::try_from(call.u64("StartIndex").unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = usize::try_from(call.u64("MaxLimited").unwrap_or(0)).unwrap_or(usize::MAX).max(1);
    let page: Vec<Value> = entries
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, e)| json!({"To_Account": id, "AddBlackTimeStamp": e.added_at}))
        .collect();
    let end = start.saturating_add(page.len());
    let next = if end >= entries.len() { 0 } else { end };
    Ok(Done::reply(json!({
        "BlackListItem": page,
        "StartIndex": next,
        "CurruentSequence": user.black_sequence,
        "ErrorDisplay": "",
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &str) -> &'static tim_runtime::EndpointMeta {
        tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"))
            .map(|e| e.meta)
            .expect("endpoint exists")
    }

    /// The code `path`'s spec gives `role`.
    fn code(path: &str, role: ErrorRole) -> i64 {
        meta(path).error_with_role(role).map(|e| e.code).expect("role in spec")
    }

    fn named(path: &str, name: &str) -> i64 {
        meta(path).errors.iter().find(|e| e.name == name).map(|e| e.code).expect("code in spec")
    }

    fn run(w: &mut World, path: &str, body: Value) -> Handled {
        let call = Call { meta: meta(path), path, body: &body, operator: "admin", now: 1_700_000_000 };
        w.handle(&call).expect("stateful path")
    }

    fn world(ids: &[&str]) -> World {
        let mut w = World::new("admin");
        for id in ids {
            w.accounts.ensure(id);
        }
        w
    }

    fn add(w: &mut World, from: &str, to: &str, add_type: &str) -> Done {
        run(
            w,
            "sns/friend_add",
            json!({"From_Account": from, "AddFriendItem": [{"To_Account": to, "AddSource": "AddSource_Type_Test"}], "AddType": add_type}),
        )
        .unwrap()
    }

    fn relation_of(w: &mut World, from: &str, to: &str, check_type: &str) -> Value {
        let done = run(
            w,
            "sns/friend_check",
            json!({"From_Account": from, "To_Account": [to], "CheckType": check_type}),
        )
        .unwrap();
        done.reply["InfoItem"][0]["Relation"].clone()
    }

    #[test]
    fn add_both_and_single_then_check() {
        let mut w = world(&["a", "b", "c"]);
        let done = add(&mut w, "a", "b", "Add_Type_Both");
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_eq!(done.events[0].command, "Sns.CallbackFriendAdd");
        assert_eq!(done.events[0].payload["PairList"].as_array().map(Vec::len), Some(2));
        assert_eq!(relation_of(&mut w, "a", "b", "CheckResult_Type_Both"), "CheckResult_Type_BothWay");
        add(&mut w, "a", "c", "Add_Type_Single");
        assert_eq!(relation_of(&mut w, "a", "c", "CheckResult_Type_Both"), "CheckResult_Type_AWithB");
        assert_eq!(relation_of(&mut w, "c", "a", "CheckResult_Type_Both"), "CheckResult_Type_BWithA");
        assert_eq!(relation_of(&mut w, "c", "a", "CheckResult_Type_Single"), "CheckResult_Type_NoRelation");
        // Adding again: already a friend.
        let done = add(&mut w, "a", "c", "Add_Type_Single");
        assert_ne!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_eq!(done.reply["Fail_Account"], json!(["c"]));
        assert!(done.events.is_empty());
    }

    #[test]
    fn add_refusals() {
        let mut w = world(&["a", "b", "d", "n"]);
        let done = add(&mut w, "a", "ghost", "Add_Type_Both");
        assert_eq!(
            done.reply["ResultItem"][0]["ResultCode"],
            code("sns/friend_add", ErrorRole::AccountNotFound)
        );
        let r =
            run(&mut w, "sns/friend_add", json!({"From_Account": "ghost", "AddFriendItem": []})).unwrap_err();
        assert_eq!(r.code, code("sns/friend_add", ErrorRole::AccountNotFound));
        w.accounts
            .accounts
            .get_mut("d")
            .unwrap()
            .profile
            .insert(TAG_ALLOW_TYPE.into(), json!("AllowType_Type_DenyAny"));
        w.accounts
            .accounts
            .get_mut("n")
            .unwrap()
            .profile
            .insert(TAG_ALLOW_TYPE.into(), json!("AllowType_Type_NeedConfirm"));
        let done = add(&mut w, "a", "d", "Add_Type_Both");
        assert_eq!(
            done.reply["ResultItem"][0]["ResultCode"],
            code("sns/friend_add", ErrorRole::PermissionDenied)
        );
        let done = add(&mut w, "a", "n", "Add_Type_Both");
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], named("sns/friend_add", "PendingApproval"));
        assert!(!w.friends.is_friend("a", "n"));
        // The admin forces past the approval setting.
        let done = run(
            &mut w,
            "sns/friend_add",
            json!({"From_Account": "a", "AddFriendItem": [{"To_Account": "n"}], "ForceAddFlags": 1}),
        )
        .unwrap();
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_eq!(done.events[0].payload["ForceFlag"], 1);
        assert!(w.friends.is_friend("a", "n") && w.friends.is_friend("n", "a"));
        w.accounts
            .accounts
            .get_mut("d")
            .unwrap()
            .profile
            .insert(TAG_ADMIN_FORBID_TYPE.into(), json!("AdminForbid_Type_SendOut"));
        let done = add(&mut w, "d", "a", "Add_Type_Single");
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], named("sns/friend_add", "AddingForbidden"));
        // Blocklists stop requests both ways, forced or not.
        run(&mut w, "sns/black_list_add", json!({"From_Account": "b", "To_Account": ["a"]})).unwrap();
        let done = add(&mut w, "a", "b", "Add_Type_Both");
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], named("sns/friend_add", "BlocklistedByTarget"));
        let done = add(&mut w, "b", "a", "Add_Type_Both");
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], code("sns/friend_add", ErrorRole::Blocked));
    }

    #[test]
    fn import_update_get_list_and_groups() {
        let mut w = world(&["a", "b", "c"]);
        let done = run(
            &mut w,
            "sns/friend_import",
            json!({"From_Account": "a", "AddFriendItem": [
                {"To_Account": "b", "AddSource": "AddSource_Type_Web", "Remark": "bee", "GroupName": ["g1"], "AddTime": 5,
                 "CustomItem": [{"Tag": "Tag_SNS_Custom_X", "Value": 3}]},
                {"To_Account": "ghost", "AddSource": "AddSource_Type_Web"}
            ]}),
        )
        .unwrap();
        assert!(done.events.is_empty());
        assert_eq!(done.reply["Fail_Account"], json!(["ghost"]));
        assert!(w.friends.is_friend("a", "b") && !w.friends.is_friend("b", "a"));
        assert_eq!(w.friends.lists_of("a"), vec!["g1".to_owned()]);
        let done = run(
            &mut w,
            "sns/friend_update",
            json!({"From_Account": "a", "UpdateItem": [
                {"To_Account": "b", "SnsItem": [{"Tag": "Tag_SNS_IM_Remark", "Value": "B"}, {"Tag": "Tag_SNS_IM_Group", "Value": ["g2"]}]},
                {"To_Account": "c", "SnsItem": [{"Tag": "Tag_SNS_IM_Remark", "Value": "C"}]}
            ]}),
        )
        .unwrap();
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_eq!(done.reply["Fail_Account"], json!(["c"]));
        let f = w.friends.friend("a", "b").unwrap();
        assert_eq!((f.remark.as_str(), f.groups.clone()), ("B", vec!["g2".to_owned()]));
        w.accounts.accounts.get_mut("b").unwrap().profile.insert("Tag_Profile_IM_Nick".into(), json!("Bee"));
        let done = run(
            &mut w,
            "sns/friend_get_list",
            json!({"From_Account": "a", "To_Account": ["b"], "TagList": ["Tag_Profile_IM_Nick", "Tag_SNS_IM_Remark", "Tag_SNS_Custom_X"]}),
        )
        .unwrap();
        assert_eq!(
            done.reply["InfoItem"][0]["SnsProfileItem"],
            json!([{"Tag": "Tag_Profile_IM_Nick", "Value": "Bee"}, {"Tag": "Tag_SNS_IM_Remark", "Value": "B"}, {"Tag": "Tag_SNS_Custom_X", "Value": 3}])
        );
        // Lists: add g3 with b in it, get, delete.
        let done = run(
            &mut w,
            "sns/group_add",
            json!({"From_Account": "a", "GroupName": ["g3"], "To_Account": ["b", "c"]}),
        )
        .unwrap();
        assert_eq!(done.reply["ResultItem"][1]["ResultCode"], code("sns/group_add", ErrorRole::NotFriend));
        let done =
            run(&mut w, "sns/group_get", json!({"From_Account": "a", "NeedFriend": "Need_Friend_Type_Yes"}))
                .unwrap();
        let lists = done.reply["ResultItem"].as_array().cloned().unwrap_or_default();
        assert_eq!(lists.len(), 3);
        assert_eq!(lists[2], json!({"GroupName": "g3", "FriendNumber": 1, "To_Account": ["b"]}));
        run(&mut w, "sns/group_delete", json!({"From_Account": "a", "GroupName": ["g2", "g3"]})).unwrap();
        assert_eq!(w.friends.lists_of("a"), vec!["g1".to_owned()]);
        assert!(w.friends.friend("a", "b").unwrap().groups.is_empty());
    }

    #[test]
    fn delete_and_delete_all() {
        let mut w = world(&["a", "b", "c", "d"]);
        add(&mut w, "a", "b", "Add_Type_Both");
        add(&mut w, "a", "c", "Add_Type_Both");
        add(&mut w, "a", "d", "Add_Type_Both");
        let done = run(
            &mut w,
            "sns/friend_delete",
            json!({"From_Account": "a", "To_Account": ["b", "b"], "DeleteType": "Delete_Type_Single"}),
        )
        .unwrap();
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_eq!(
            done.reply["ResultItem"][1]["ResultCode"],
            code("sns/friend_delete", ErrorRole::NotFriend)
        );
        assert_eq!(done.events[0].payload["PairList"], json!([{"From_Account": "a", "To_Account": "b"}]));
        assert!(w.friends.is_friend("b", "a"));
        run(&mut w, "sns/friend_delete", json!({"From_Account": "a", "To_Account": ["c"]})).unwrap();
        assert!(!w.friends.is_friend("c", "a"));
        let done = run(&mut w, "sns/friend_delete_all", json!({"From_Account": "a"})).unwrap();
        assert_eq!(done.events[0].payload["PairList"], json!([{"From_Account": "a", "To_Account": "d"}]));
        assert!(w.friends.friends_of("a").is_empty() && w.friends.is_friend("d", "a"));
    }

    #[test]
    fn blocklist_round_trip() {
        let mut w = world(&["a", "b", "c"]);
        add(&mut w, "a", "b", "Add_Type_Both");
        let done = run(
            &mut w,
            "sns/black_list_add",
            json!({"From_Account": "a", "To_Account": ["b", "c", "ghost"]}),
        )
        .unwrap();
        assert_eq!(done.reply["Fail_Account"], json!(["ghost"]));
        assert_eq!(done.events[0].command, "Sns.CallbackBlackListAdd");
        assert_eq!(done.events[1].command, "Sns.CallbackFriendDelete");
        assert!(!w.friends.is_friend("a", "b") && !w.friends.is_friend("b", "a"));
        let done = run(
            &mut w,
            "sns/black_list_check",
            json!({"From_Account": "b", "To_Account": ["a", "c"], "CheckType": "BlackCheckResult_Type_Both"}),
        )
        .unwrap();
        assert_eq!(done.reply["BlackListCheckItem"][0]["Relation"], "BlackCheckResult_Type_BWithA");
        assert_eq!(done.reply["BlackListCheckItem"][1]["Relation"], "BlackCheckResult_Type_NO");
        let done = run(
            &mut w,
            "sns/black_list_get",
            json!({"From_Account": "a", "StartIndex": 0, "MaxLimited": 1, "LastSequence": 0}),
        )
        .unwrap();
        assert_eq!(
            done.reply["BlackListItem"],
            json!([{"To_Account": "b", "AddBlackTimeStamp": 1_700_000_000u64}])
        );
        assert_eq!(done.reply["StartIndex"], 1);
        let done = run(
            &mut w,
            "sns/black_list_get",
            json!({"From_Account": "a", "StartIndex": 1, "MaxLimited": 1, "LastSequence": 0}),
        )
        .unwrap();
        assert_eq!(done.reply["BlackListItem"][0]["To_Account"], "c");
        assert_eq!(done.reply["StartIndex"], 0);
        let done =
            run(&mut w, "sns/black_list_delete", json!({"From_Account": "a", "To_Account": ["b", "b"]}))
                .unwrap();
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_ne!(done.reply["ResultItem"][1]["ResultCode"], 0);
        assert_eq!(w.friends.blocklist_of("a"), vec!["c".to_owned()]);
    }

    #[test]
    fn friend_get_pages() {
        let mut w = world(&["a"]);
        let items: Vec<Value> = (0..150)
            .map(|i| {
                let id = format!("u{i:03}");
                w.accounts.ensure(&id);
                json!({"To_Account": id, "AddSource": "AddSource_Type_Test"})
            })
            .collect();
        run(&mut w, "sns/friend_import", json!({"From_Account": "a", "AddFriendItem": items})).unwrap();
        let first = run(&mut w, "sns/friend_get", json!({"From_Account": "a", "StartIndex": 0})).unwrap();
        assert_eq!(first.reply["UserDataItem"].as_array().map(Vec::len), Some(FRIEND_PAGE_SIZE));
        assert_eq!(first.reply["FriendNum"], 150);
        assert_eq!(first.reply["CompleteFlag"], 0);
        assert_eq!(first.reply["NextStartIndex"], 100);
        let second = run(&mut w, "sns/friend_get", json!({"From_Account": "a", "StartIndex": 100})).unwrap();
        assert_eq!(second.reply["UserDataItem"].as_array().map(Vec::len), Some(50));
        assert_eq!(second.reply["UserDataItem"][0]["To_Account"], "u100");
        assert_eq!(second.reply["CompleteFlag"], 1);
        assert_eq!(second.reply["NextStartIndex"], 0);
        // Unchanged sequences leave the data out.
        let seq = second.reply["StandardSequence"].clone();
        let third = run(
            &mut w,
            "sns/friend_get",
            json!({"From_Account": "a", "StartIndex": 100, "StandardSequence": seq}),
        )
        .unwrap();
        assert_eq!(third.reply["UserDataItem"][0]["ValueItem"], json!([]));
    }

    #[test]
    fn forgetting_an_account_clears_relations() {
        let mut w = world(&["a", "b", "c"]);
        add(&mut w, "a", "b", "Add_Type_Both");
        run(&mut w, "sns/black_list_add", json!({"From_Account": "c", "To_Account": ["b"]})).unwrap();
        run(&mut w, "sns/black_list_add", json!({"From_Account": "b", "To_Account": ["c"]})).unwrap();
        assert!(w.friends.mentions_account("b"));
        w.forget_account("b");
        assert!(!w.mentions_account("b"));
        assert!(w.friends.friends_of("a").is_empty() && w.friends.blocklist_of("c").is_empty());
    }
}
