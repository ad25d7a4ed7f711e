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
//! `friend_add` adds both ways); `friend_get` pages hold as
//! many friends as its spec's `friends_per_page` limit; friend lists named when adding, importing
//! or updating a friend are created on the way.

mod blocklist;
mod lists;
mod relations;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tim_runtime::api::sns;
use tim_runtime::api::types::{FriendResultItem, ProfileItem};
use tim_runtime::ErrorRole;

use super::typed::{route, Route};
use super::{Call, Refusal, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(sns::friend_add::Request, relations::friend_add),
    route!(sns::friend_import::Request, relations::friend_import),
    route!(sns::friend_update::Request, relations::friend_update),
    route!(sns::friend_delete::Request, relations::friend_delete),
    route!(sns::friend_delete_all::Request, relations::friend_delete_all),
    route!(sns::friend_check::Request, relations::friend_check),
    route!(sns::friend_get::Request, relations::friend_get),
    route!(sns::friend_get_list::Request, relations::friend_get_list),
    route!(sns::group_add::Request, lists::group_add),
    route!(sns::group_delete::Request, lists::group_delete),
    route!(sns::group_get::Request, lists::group_get),
    route!(sns::black_list_add::Request, blocklist::black_list_add),
    route!(sns::black_list_delete::Request, blocklist::black_list_delete),
    route!(sns::black_list_get::Request, blocklist::black_list_get),
    route!(sns::black_list_check::Request, blocklist::black_list_check),
];

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
    /// How many lists the user would have after naming `groups`.
    fn lists_after(&self, groups: &[String]) -> u64 {
        let mut new: Vec<&String> = groups.iter().filter(|g| !self.lists.contains(g)).collect();
        new.sort_unstable();
        new.dedup();
        self.lists.len().saturating_add(new.len()) as u64
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
    fn standard_items(&self) -> Vec<ProfileItem> {
        let mut items = vec![ProfileItem::new(TAG_ADD_SOURCE, json!(self.add_source))];
        if !self.remark.is_empty() {
            items.push(ProfileItem::new(TAG_REMARK, json!(self.remark)));
        }
        if !self.groups.is_empty() {
            items.push(ProfileItem::new(TAG_GROUP, json!(self.groups)));
        }
        if !self.add_wording.is_empty() {
            items.push(ProfileItem::new(TAG_ADD_WORDING, json!(self.add_wording)));
        }
        items.push(ProfileItem::new(TAG_ADD_TIME, json!(self.add_time)));
        items
    }

    fn custom_items(&self) -> Vec<ProfileItem> {
        self.custom.iter().map(|(t, v)| ProfileItem::new(t.as_str(), v.clone())).collect()
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

/// The `From_Account` of a call, which must exist.
fn sender<'a>(w: &World, call: &Call<'_>, from: &'a str) -> Result<&'a str, Refusal> {
    if !w.accounts.exists(from) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("account {from:?} does not exist")));
    }
    Ok(from)
}

/// Per-target results: `ResultItem` entries and the failed targets.
#[derive(Default)]
struct Results {
    items: Vec<FriendResultItem>,
    failed: Vec<String>,
}

/// Why one target failed: the code and the text.
type ItemError = (i64, String);

impl Results {
    fn push(&mut self, to: &str, outcome: Result<(), ItemError>) {
        match outcome {
            Ok(()) => self.items.push(FriendResultItem::new(to, 0i64).result_info("")),
            Err((code, info)) => {
                self.items.push(FriendResultItem::new(to, code).result_info(info));
                self.failed.push(to.to_owned());
            }
        }
    }

    /// `ResultItem` and `Fail_Account` (`None` when nothing failed).
    fn into_parts(self) -> (Vec<FriendResultItem>, Option<Vec<String>>) {
        let failed = (!self.failed.is_empty()).then_some(self.failed);
        (self.items, failed)
    }
}

/// A per-target failure with the code of `role` (the catch-all without).
fn fail(call: &Call<'_>, role: ErrorRole, info: impl Into<String>) -> ItemError {
    let r = call.refuse(role, info);
    (r.code, r.info)
}

/// A per-target failure when `value` passes the endpoint's limit `name`.
fn over_limit(call: &Call<'_>, name: &str, value: u64, what: &str) -> Result<(), ItemError> {
    call.within_limit(name, value, what).map_err(|r| (r.code, r.info))
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

/// The `Sns.CallbackFriendDelete` of the removed pairs, if any.
fn friend_delete_event(pairs: Vec<(String, String)>) -> Option<super::Event> {
    use tim_runtime::api::callbacks::sns::friend_delete::{FriendPair, Payload};
    if pairs.is_empty() {
        return None;
    }
    let pairs: Vec<FriendPair> = pairs.into_iter().map(|(a, b)| FriendPair::new(a, b)).collect();
    Some(super::Event::typed(&Payload::new(pairs)))
}

fn valid_list_name(call: &Call<'_>, name: &str) -> bool {
    !name.is_empty() && name.len() as u64 <= call.limit_max("list_name_bytes")
}

/// One target of `friend_check` or `black_list_check`: whether `from` has
/// it, and (two-way checks) whether it has `from`; or why it failed.
type Relation = Result<(bool, Option<bool>), ItemError>;

/// `friend_check` and `black_list_check`: the relation of `from` with each
/// target, by the one-way fact `has`.
fn check(
    w: &World,
    call: &Call<'_>,
    from: &str,
    targets: &[String],
    two_way: bool,
    has: fn(&Friends, &str, &str) -> bool,
) -> Vec<Relation> {
    targets
        .iter()
        .map(|to| {
            if !w.accounts.exists(to) {
                return Err(fail(call, ErrorRole::AccountNotFound, format!("account {to:?} does not exist")));
            }
            Ok((has(&w.friends, from, to), two_way.then(|| has(&w.friends, to, from))))
        })
        .collect()
}
