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

mod blocklist;
mod lists;
mod relations;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use self::blocklist::{black_list_add, black_list_check, black_list_delete, black_list_get};
use self::lists::{group_add, group_delete, group_get};
use self::relations::{
    friend_add, friend_check, friend_delete, friend_delete_all, friend_get, friend_get_list, friend_import,
    friend_update,
};
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

/// Friends, friend lists and blocklists of every account.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Friends {
    /// By owner UserID.
    pub users: BTreeMap<String, SnsUser>,
}

/// The relationship data one account owns.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
#[serde(default, deny_unknown_fields)]
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
#[serde(default, deny_unknown_fields)]
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

fn pair(a: &str, b: &str) -> Value {
    json!({"From_Account": a, "To_Account": b})
}

fn friend_delete_event(done: Done, pairs: Vec<Value>) -> Done {
    if pairs.is_empty() {
        return done;
    }
    done.event("Sns.CallbackFriendDelete", json!({ "PairList": pairs }))
}

fn valid_list_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_LIST_NAME_BYTES
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
