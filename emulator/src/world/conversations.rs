//! Conversation lists (recent contacts), conversation deletion, conversation
//! groups and marks.
//!
//! The list itself is not stored: it is computed from the one-to-one threads
//! ([`C2c::conversations_of`](super::C2c::conversations_of)) and the groups
//! the account belongs to ([`Groups::joined_by`](super::Groups::joined_by)).
//! This family stores only what the account did to it: deletions, pins (from
//! a state file; no REST call pins), conversation groups and marks.
//!
//! A conversation is named by its client-side ID: `c2c_<UserID>` or
//! `group_<GroupId>`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_runtime::api::recentcontact::{
    create_contact_group, del_contact_group, delete, get_contact_group, get_list, mark_contact,
    search_contact_group, update_contact_group,
};
use tim_runtime::api::types::{
    ContactGroupItem, ContactItem, ContactMarkInfo, ContactOptType, ContactResultItem, ConversationType,
    MarkOptType,
};
use tim_runtime::ErrorRole;

use super::typed::{route, Route, Typed};
use super::{Call, Refusal, World};
use crate::world::{wire_i32, wire_u32};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(get_list::Request, list),
    route!(delete::Request, delete_conversation),
    route!(create_contact_group::Request, create_group),
    route!(del_contact_group::Request, del_group),
    route!(update_contact_group::Request, update_group),
    route!(get_contact_group::Request, get_groups),
    route!(search_contact_group::Request, search_groups),
    route!(mark_contact::Request, mark),
];

/// `AssistFlags` bits of `get_list` (its spec's field documentation).
const PINNED_SUPPORT: u32 = 1;
const WITH_EMPTY: u32 = 2;
const PINNED_PAGING: u32 = 4;

/// What accounts did to their conversations.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Conversations {
    /// By UserID.
    pub users: BTreeMap<String, UserConversations>,
}

/// One account's conversation data.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct UserConversations {
    /// Deleted conversations (by conversation ID), hidden until a newer
    /// message arrives.
    pub deleted: BTreeMap<String, Deletion>,
    /// Pinned conversations (by conversation ID): the time they were pinned.
    pub pinned: BTreeMap<String, u64>,
    /// Conversation groups, in creation order.
    pub contact_groups: Vec<ContactGroup>,
    /// Last conversation group ID handed out.
    pub last_contact_group_id: u32,
    /// Marks of conversations (by conversation ID).
    pub marks: BTreeMap<String, Marks>,
}

/// A deleted conversation.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Deletion {
    /// When it was deleted (Unix seconds).
    pub at: u64,
    /// Its latest message time then: a group conversation comes back when
    /// the group has a later message.
    pub last_msg_time: u64,
}

/// A conversation group: a named folder of conversations.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ContactGroup {
    /// Numeric ID (from 1, per account).
    pub id: u32,
    /// Name.
    pub name: String,
    /// Conversation IDs it holds.
    pub conversations: Vec<String>,
}

/// The marks of one conversation.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Marks {
    /// Standard mark bits (bit n of the API is `1 << (n - 1)`).
    pub standard: u64,
    /// Custom mark.
    pub custom: Option<String>,
    /// Last change of the conversation's group or mark data (Unix seconds).
    pub timestamp: u64,
}

/// The conversation ID of a one-to-one conversation with `peer`.
pub fn c2c_id(peer: &str) -> String {
    format!("c2c_{peer}")
}

/// The conversation ID of a group conversation.
pub fn group_id(group: &str) -> String {
    format!("group_{group}")
}

/// A conversation ID as the API's `ContactItem` (`Type` 1 with `To_Account`
/// or 2 with `ToGroupId`).
fn contact_item(id: &str) -> ContactItem {
    match id.strip_prefix("c2c_") {
        Some(peer) => ContactItem::new(ConversationType::C2c).to_account(peer),
        None => {
            ContactItem::new(ConversationType::Group).to_group_id(id.strip_prefix("group_").unwrap_or(id))
        }
    }
}

/// The conversation ID a `ContactItem` names.
fn item_id(item: &ContactItem) -> Option<String> {
    match item.r#type {
        ConversationType::C2c => item.to_account.as_deref().map(c2c_id),
        ConversationType::Group => item.to_group_id.as_deref().map(group_id),
        _ => None,
    }
}

impl Conversations {
    /// Removes every trace of an account: its own data and every deletion,
    /// pin, group entry and mark of a conversation with it.
    pub fn forget_account(&mut self, id: &str) {
        self.users.remove(id);
        let conv = c2c_id(id);
        for u in self.users.values_mut() {
            u.deleted.remove(&conv);
            u.pinned.remove(&conv);
            u.marks.remove(&conv);
            for g in &mut u.contact_groups {
                g.conversations.retain(|c| *c != conv);
            }
        }
    }

    /// Whether the state names the account (its own data, or a conversation
    /// with it in someone's data).
    pub fn mentions_account(&self, id: &str) -> bool {
        let conv = c2c_id(id);
        self.users.contains_key(id)
            || self.users.values().any(|u| {
                u.deleted.contains_key(&conv)
                    || u.pinned.contains_key(&conv)
                    || u.marks.contains_key(&conv)
                    || u.contact_groups.iter().any(|g| g.conversations.contains(&conv))
            })
    }

    /// A new message in `conversation` of `account`: a deleted conversation
    /// shows again. Called by the message families.
    pub fn message_arrived(&mut self, account: &str, conversation: &str) {
        if let Some(u) = self.users.get_mut(account) {
            u.deleted.remove(conversation);
        }
    }

    /// Whether `account` deleted the conversation (and no message came since).
    pub fn is_deleted(&self, account: &str, conversation: &str) -> bool {
        self.users.get(account).is_some_and(|u| u.deleted.contains_key(conversation))
    }

    /// The conversation groups of an account.
    pub fn contact_groups_of(&self, account: &str) -> &[ContactGroup] {
        self.users.get(account).map_or(&[], |u| u.contact_groups.as_slice())
    }

    /// The marks of a conversation of an account.
    pub fn marks_of(&self, account: &str, conversation: &str) -> Option<&Marks> {
        self.users.get(account)?.marks.get(conversation)
    }

    fn user(&mut self, account: &str) -> &mut UserConversations {
        self.users.entry(account.to_owned()).or_default()
    }
}

impl UserConversations {
    fn groups_holding(&self, conv: &str) -> Vec<u32> {
        self.contact_groups
            .iter()
            .filter(|g| g.conversations.iter().any(|c| c == conv))
            .map(|g| g.id)
            .collect()
    }

    fn grouped(&self) -> usize {
        self.contact_groups.iter().map(|g| g.conversations.len()).sum()
    }

    fn touch(&mut self, conv: &str, now: u64) {
        self.marks.entry(conv.to_owned()).or_default().timestamp = now;
    }

    /// Conversations with group or mark data, in ID order.
    fn described(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .marks
            .iter()
            .filter(|(id, m)| m.standard != 0 || m.custom.is_some() || !self.groups_holding(id).is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        for g in &self.contact_groups {
            ids.extend(g.conversations.iter().cloned());
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// `ContactMarkInfo` of a conversation.
    fn mark_info(&self, conv: &str) -> ContactMarkInfo {
        let item = contact_item(conv);
        let mut info = ContactMarkInfo::new().r#type(item.r#type);
        info.to_account = item.to_account;
        info.to_group_id = item.to_group_id;
        let marks = self.marks.get(conv).cloned().unwrap_or_default();
        if marks.standard != 0 {
            info = info.standard_mark(format!("{:b}", marks.standard));
        }
        info.custom_mark = marks.custom;
        let groups = self.groups_holding(conv);
        if !groups.is_empty() {
            info = info.contact_group_id(groups);
        }
        info.timestamp(marks.timestamp)
    }

    fn group_items(&self) -> Vec<ContactGroupItem> {
        self.contact_groups
            .iter()
            .map(|g| ContactGroupItem::new().group_name(g.name.as_str()).group_id(g.id))
            .collect()
    }
}

/// The `From_Account` of a call, which must exist.
fn owner<'a>(w: &World, call: &Call<'_>, account: &'a str) -> Result<&'a str, Refusal> {
    if !w.accounts.exists(account) {
        return Err(
            call.refuse(ErrorRole::AccountNotFound, format!("From_Account {account} has not been imported"))
        );
    }
    Ok(account)
}

/// One conversation of a list.
#[derive(Debug, Clone)]
struct Entry {
    id: String,
    time: u64,
}

/// The conversations of `account` its list shows, newest first.
fn visible_conversations(w: &World, account: &str) -> Vec<Entry> {
    let user = w.conversations.users.get(account);
    let mut out: Vec<Entry> = Vec::new();
    for c in w.c2c.conversations_of(account) {
        let id = c2c_id(&c.peer);
        if user.is_some_and(|u| u.deleted.contains_key(&id)) {
            continue;
        }
        out.push(Entry { id, time: c.last_msg_time });
    }
    for g in w.groups.joined_by(account) {
        let id = group_id(&g.group_id);
        // Group messages do not reach this family; a later message than the
        // one the deletion saw brings the conversation back.
        let hidden =
            user.and_then(|u| u.deleted.get(&id)).is_some_and(|d| g.last_msg_time <= d.last_msg_time);
        if !hidden {
            out.push(Entry { id, time: g.last_msg_time });
        }
    }
    out.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.id.cmp(&b.id)));
    out
}

/// One page of `entries` (newest first) from the cursor (`time`, `index`):
/// `time` 0 with `index` 0 is the start; otherwise entries newer than `time`
/// were on earlier pages, and so were the first `index` entries of `time`.
/// Returns the page, the next cursor and whether the list is exhausted.
fn page(entries: &[Entry], time: u64, index: u64, size: usize) -> (Vec<Entry>, u64, u64, bool) {
    let fresh = time == 0 && index == 0;
    let mut skipped_at_time = 0u64;
    let rest: Vec<&Entry> = entries
        .iter()
        .filter(|e| {
            if fresh || e.time < time {
                return true;
            }
            if e.time > time {
                return false;
            }
            skipped_at_time = skipped_at_time.saturating_add(1);
            skipped_at_time > index
        })
        .collect();
    let taken: Vec<Entry> = rest.iter().take(size).map(|e| (*e).clone()).collect();
    let complete = rest.len() <= size;
    let (next_time, next_index) = match taken.last() {
        None => (time, index),
        Some(last) => {
            let same = taken.iter().filter(|e| e.time == last.time).count() as u64;
            let carried = if !fresh && last.time == time { index } else { 0 };
            (last.time, same.saturating_add(carried))
        }
    };
    (taken, next_time, next_index, complete)
}

fn session_item(e: &Entry, top: bool) -> get_list::SessionItem {
    let item = match e.id.strip_prefix("c2c_") {
        Some(peer) => get_list::SessionItem::new().r#type(ConversationType::C2c).to_account(peer),
        None => get_list::SessionItem::new()
            .r#type(ConversationType::Group)
            .group_id(e.id.strip_prefix("group_").unwrap_or(&e.id)),
    };
    item.msg_time(e.time).top_flag(u32::from(top))
}

fn list(w: &mut World, call: &Call<'_>, req: get_list::Request) -> Typed<get_list::Request> {
    let account = owner(w, call, &req.from_account)?;
    let size = usize::try_from(call.limit_max("conversations_per_page")).unwrap_or(usize::MAX);
    let flags = req.assist_flags;
    let mut all = visible_conversations(w, account);
    if flags & WITH_EMPTY == 0 {
        all.retain(|e| e.time != 0);
    }
    let pinned_ids = w.conversations.users.get(account).map(|u| u.pinned.clone()).unwrap_or_default();
    let (pinned, ordinary): (Vec<Entry>, Vec<Entry>) = if flags & PINNED_SUPPORT != 0 {
        all.into_iter().partition(|e| pinned_ids.contains_key(&e.id))
    } else {
        (Vec::new(), all)
    };
    let (ts, idx) = (req.time_stamp, u64::from(req.start_index));
    let (top_ts, top_idx) = (req.top_time_stamp, u64::from(req.top_start_index));
    let (top_page, next_top_ts, next_top_idx, top_done) = if flags & PINNED_PAGING != 0 {
        page(&pinned, top_ts, top_idx, size)
    } else if ts == 0 && idx == 0 {
        // Without pinned paging every pinned conversation comes on the first page.
        (pinned, 0, 0, true)
    } else {
        (Vec::new(), 0, 0, true)
    };
    let (ord_page, next_ts, next_idx, ord_done) = page(&ordinary, ts, idx, size);
    let items: Vec<get_list::SessionItem> = top_page
        .iter()
        .map(|e| session_item(e, true))
        .chain(ord_page.iter().map(|e| session_item(e, false)))
        .collect();
    let index32 = |n: u64| wire_u32(n);
    Ok(get_list::Response::new()
        .session_item(items)
        .complete_flag(u32::from(top_done && ord_done))
        .time_stamp(next_ts)
        .start_index(index32(next_idx))
        .top_time_stamp(next_top_ts)
        .top_start_index(index32(next_top_idx))
        .error_display("")
        .into())
}

/// Deleting a conversation also clears its unread count; with `ClearRamble`
/// 1 a one-to-one conversation's history is removed on this side (group
/// history belongs to the group family and stays).
fn delete_conversation(w: &mut World, call: &Call<'_>, req: delete::Request) -> Typed<delete::Request> {
    let account = owner(w, call, &req.from_account)?;
    let id = match req.r#type {
        ConversationType::C2c => match &req.to_account {
            Some(peer) => c2c_id(peer),
            None => {
                return Err(
                    call.refuse_field("To_Account", "To_Account is required for a one-to-one conversation")
                )
            }
        },
        ConversationType::Group => match &req.to_groupid {
            Some(g) => group_id(g),
            None => {
                return Err(call.refuse_field("ToGroupid", "ToGroupid is required for a group conversation"))
            }
        },
        _ => return Err(call.refuse_field("Type", "Type must be 1 or 2")),
    };
    let last_msg_time = match id.strip_prefix("c2c_") {
        Some(peer) => {
            let peer = peer.to_owned();
            let last = w
                .c2c
                .conversations_of(account)
                .iter()
                .find(|c| c.peer == peer)
                .map_or(0, |c| c.last_msg_time);
            w.c2c.mark_read(account, &peer, u64::MAX);
            if req.clear_ramble == Some(1) {
                w.c2c.clear_history_of(account, &peer);
            }
            last
        }
        None => {
            let gid = id.strip_prefix("group_").unwrap_or(&id);
            w.groups.joined_by(account).iter().find(|g| g.group_id == gid).map_or(0, |g| g.last_msg_time)
        }
    };
    let user = w.conversations.user(account);
    user.deleted.insert(id.clone(), Deletion { at: call.now, last_msg_time });
    user.pinned.remove(&id);
    Ok(delete::Response::new().error_display("").into())
}

/// Why a conversation cannot be named (its peer or group does not exist),
/// as a per-item code and text; `None` when it can.
type Problem = Option<(i32, String)>;

fn contact_problem(w: &World, call: &Call<'_>, item: &ContactItem) -> Problem {
    let code = |role: ErrorRole| {
        let code =
            call.meta.error_with_role(role).or_else(|| call.meta.error_for_field("*")).map_or(-1, |e| e.code);
        wire_i32(code)
    };
    match item.r#type {
        ConversationType::C2c => {
            let peer = item.to_account.as_deref().unwrap_or_default();
            (!w.accounts.exists(peer))
                .then(|| (code(ErrorRole::AccountNotFound), format!("account {peer} has not been imported")))
        }
        ConversationType::Group => {
            let g = item.to_group_id.as_deref().unwrap_or_default();
            w.groups
                .type_of(g)
                .is_none()
                .then(|| (code(ErrorRole::GroupNotFound), format!("group {g} does not exist")))
        }
        _ => Some((code(ErrorRole::InvalidField), "Type must be 1 or 2".to_owned())),
    }
}

/// The code and text of a per-item result.
fn outcome(problem: Problem) -> (i32, String) {
    problem.unwrap_or((0, String::new()))
}

fn create_group(
    w: &mut World,
    call: &Call<'_>,
    req: create_contact_group::Request,
) -> Typed<create_contact_group::Request> {
    let account = owner(w, call, &req.from_account)?;
    let Some(spec) = req.group_contact_item.into_iter().next() else {
        return Err(
            call.refuse_field("GroupContactItem", "GroupContactItem must name one conversation group")
        );
    };
    let name = spec.group_name;
    let checked: Vec<(ContactItem, Problem)> = spec
        .contact_item
        .into_iter()
        .map(|i| {
            let p = contact_problem(w, call, &i);
            (i, p)
        })
        .collect();
    let user = w.conversations.user(account);
    if user.contact_groups.iter().any(|g| g.name == name) {
        return Err(
            call.refuse(ErrorRole::AlreadyExists, format!("conversation group {name} exists already"))
        );
    }
    call.within_limit("contact_groups", user.contact_groups.len() as u64 + 1, "conversation groups")?;
    let mut members: Vec<String> = Vec::new();
    for (item, problem) in &checked {
        if let (None, Some(id)) = (problem, item_id(item)) {
            if !members.contains(&id) {
                members.push(id);
            }
        }
    }
    let grouped = user.grouped().saturating_add(members.len()) as u64;
    call.within_limit("grouped_conversations", grouped, "conversations in conversation groups")?;
    user.last_contact_group_id = user.last_contact_group_id.saturating_add(1);
    let id = user.last_contact_group_id;
    for m in &members {
        user.touch(m, call.now);
    }
    user.contact_groups.push(ContactGroup { id, name: name.clone(), conversations: members });
    let results: Vec<ContactResultItem> = checked
        .into_iter()
        .map(|(i, p)| {
            let (code, info) = outcome(p);
            ContactResultItem::new().contact_item(i).result_code(code).result_info(info)
        })
        .collect();
    let group = create_contact_group::GroupResultItem::new()
        .group_item(ContactGroupItem::new().group_name(name).group_id(id))
        .result_item(results);
    Ok(create_contact_group::Response::new().group_result_item(vec![group]).error_display("").into())
}

fn del_group(
    w: &mut World,
    call: &Call<'_>,
    req: del_contact_group::Request,
) -> Typed<del_contact_group::Request> {
    let account = owner(w, call, &req.from_account)?;
    let names = &req.group_name;
    let user = w.conversations.user(account);
    if let Some(missing) = names.iter().find(|n| !user.contact_groups.iter().any(|g| g.name == **n)) {
        return Err(call.refuse_field("GroupName", format!("conversation group {missing} does not exist")));
    }
    let mut deleted = Vec::new();
    let mut touched = Vec::new();
    user.contact_groups.retain(|g| {
        let gone = names.contains(&g.name);
        if gone {
            deleted.push(ContactGroupItem::new().group_name(g.name.as_str()).group_id(g.id));
            touched.extend(g.conversations.iter().cloned());
        }
        !gone
    });
    for t in &touched {
        user.touch(t, call.now);
    }
    Ok(del_contact_group::Response::new().group_item(deleted).into())
}

fn update_group(
    w: &mut World,
    call: &Call<'_>,
    req: update_contact_group::Request,
) -> Typed<update_contact_group::Request> {
    use update_contact_group::{ContactOptResult, UpdateGroupResult, UpdateGroupType};
    let account = owner(w, call, &req.from_account)?;
    let update = req.update_group;
    let old = update.old_group_name.clone().unwrap_or_default();
    let checked: Vec<(update_contact_group::ContactUpdateItem, Problem)> = update
        .contact_update_item
        .unwrap_or_default()
        .into_iter()
        .map(|op| {
            let problem = contact_problem(w, call, &op.contact_item);
            (op, problem)
        })
        .collect();
    let max_grouped = usize::try_from(call.limit_max("grouped_conversations")).unwrap_or(usize::MAX);
    let user = w.conversations.user(account);
    let Some(pos) = user.contact_groups.iter().position(|g| g.name == old) else {
        return Err(call.refuse_field("OldGroupName", format!("conversation group {old} does not exist")));
    };
    let mut results = Vec::new();
    match update.update_group_type {
        UpdateGroupType::Rename => {
            let Some(new) = update.new_group_name else {
                return Err(call.refuse_field("*", "NewGroupName is required to rename a conversation group"));
            };
            if new != old && user.contact_groups.iter().any(|g| g.name == new) {
                return Err(
                    call.refuse(ErrorRole::AlreadyExists, format!("conversation group {new} exists already"))
                );
            }
            if let Some(g) = user.contact_groups.get_mut(pos) {
                g.name = new;
            }
        }
        UpdateGroupType::Contacts => {
            let mut grouped = user.grouped();
            for (op, problem) in checked {
                let mut problem = problem;
                if let (None, Some(id)) = (&problem, item_id(&op.contact_item)) {
                    let Some(g) = user.contact_groups.get_mut(pos) else { break };
                    let present = g.conversations.contains(&id);
                    match op.contact_opt_type {
                        ContactOptType::Add if !present && grouped >= max_grouped => {
                            let r = call
                                .within_limit(
                                    "grouped_conversations",
                                    grouped as u64 + 1,
                                    "grouped conversations",
                                )
                                .err();
                            problem = r.map(|r| (wire_i32(r.code), r.info));
                        }
                        ContactOptType::Add if !present => {
                            g.conversations.push(id.clone());
                            grouped = grouped.saturating_add(1);
                        }
                        ContactOptType::Remove if present => {
                            g.conversations.retain(|c| *c != id);
                            grouped = grouped.saturating_sub(1);
                        }
                        _ => {}
                    }
                    user.touch(&id, call.now);
                }
                let (code, info) = outcome(problem);
                results.push(
                    ContactOptResult::new()
                        .contact_opt_type(op.contact_opt_type)
                        .contact_item(op.contact_item)
                        .result_code(code)
                        .result_info(info),
                );
            }
        }
        _ => return Err(call.refuse_field("*", "UpdateGroupType must be 1 or 2")),
    }
    let (name, id) = user.contact_groups.get(pos).map_or((old.clone(), 0), |g| (g.name.clone(), g.id));
    let kind = u32::try_from(update.update_group_type.value()).unwrap_or(0);
    let mut result =
        UpdateGroupResult::new().update_group_type(kind).group_name(name).old_group_name(old).group_id(id);
    if update.update_group_type == UpdateGroupType::Contacts {
        result = result.contact_result_item(results);
    }
    Ok(update_contact_group::Response::new().update_type(req.update_type).update_group_result(result).into())
}

fn get_groups(
    w: &mut World,
    call: &Call<'_>,
    req: get_contact_group::Request,
) -> Typed<get_contact_group::Request> {
    let account = owner(w, call, &req.from_account)?;
    let size = usize::try_from(call.limit_max("conversations_per_page")).unwrap_or(usize::MAX);
    let user = w.conversations.users.get(account).cloned().unwrap_or_default();
    let start = usize::try_from(req.start_index).unwrap_or(usize::MAX);
    let ids = user.described();
    let page: Vec<ContactMarkInfo> = ids.iter().skip(start).take(size).map(|id| user.mark_info(id)).collect();
    let next = start.saturating_add(page.len());
    let complete = next >= ids.len();
    Ok(get_contact_group::Response::new()
        .contact_item(page)
        .group_item(user.group_items())
        .complete_flag(u32::from(complete))
        .next_start_index(if complete { 0 } else { wire_u32(next) })
        .into())
}

fn search_groups(
    w: &mut World,
    call: &Call<'_>,
    req: search_contact_group::Request,
) -> Typed<search_contact_group::Request> {
    let account = owner(w, call, &req.from_account)?;
    let user = w.conversations.users.get(account).cloned().unwrap_or_default();
    let described = user.described();
    let wanted: Vec<String> = match &req.contact_item {
        Some(items) => items.iter().filter_map(item_id).collect(),
        None => described.clone(),
    };
    let found: Vec<ContactMarkInfo> =
        wanted.iter().filter(|id| described.contains(id)).map(|id| user.mark_info(id)).collect();
    Ok(search_contact_group::Response::new()
        .contact_result_item(found)
        .group_item(user.group_items())
        .error_display("")
        .into())
}

/// Standard mark bit `n` (1..=64) as a mask.
fn mark_bit(n: u32) -> Option<u64> {
    (1..=64).contains(&n).then(|| 1u64 << (n - 1))
}

fn mark(w: &mut World, call: &Call<'_>, req: mark_contact::Request) -> Typed<mark_contact::Request> {
    let account = owner(w, call, &req.from_account)?;
    if req.mark_item.is_empty() {
        return Err(call.refuse_field("MarkItem", "MarkItem must list 1 to 100 conversations"));
    }
    let invalid = wire_i32(call.meta.error_for_field("*").map_or(-1, |e| e.code));
    let mut results = Vec::new();
    for entry in req.mark_item {
        let bits = |b: &Option<Vec<u32>>| -> Option<Vec<u64>> {
            b.as_ref().map_or(Some(Vec::new()), |a| a.iter().map(|v| mark_bit(*v)).collect())
        };
        let mut problem = contact_problem(w, call, &entry.contact_item);
        let (set, clear) = (bits(&entry.set_mark), bits(&entry.clear_mark));
        if problem.is_none() && (set.is_none() || clear.is_none()) {
            problem = Some((invalid, "mark bits are numbered 1 to 64".into()));
        }
        let standard = matches!(entry.opt_type, MarkOptType::Standard | MarkOptType::Both);
        let custom = matches!(entry.opt_type, MarkOptType::Custom | MarkOptType::Both);
        if let (None, Some(id)) = (&problem, item_id(&entry.contact_item)) {
            let user = w.conversations.user(account);
            let m = user.marks.entry(id).or_default();
            if standard {
                for b in set.unwrap_or_default() {
                    m.standard |= b;
                }
                for b in clear.unwrap_or_default() {
                    m.standard &= !b;
                }
            }
            if custom {
                if let Some(c) = &entry.custom_mark {
                    m.custom = Some(c.clone());
                }
            }
            m.timestamp = call.now;
        }
        let (code, info) = outcome(problem);
        results.push(
            mark_contact::MarkResultItem::new()
                .opt_type(entry.opt_type)
                .contact_item(entry.contact_item)
                .result_code(code)
                .result_info(info),
        );
    }
    Ok(mark_contact::Response::new().result_item(results).error_display("").into())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::{Done, Handled, World};
    use super::{page, Entry};

    use super::super::testing::{exec, exec_ok, world};

    fn run(w: &mut World, path: &str, body: Value, now: u64) -> Handled {
        exec(w, path, body, now)
    }

    fn ok(w: &mut World, path: &str, body: Value, now: u64) -> Done {
        exec_ok(w, path, body, now)
    }

    fn code_of(path: &str, name: &str) -> i64 {
        let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"));
        let meta = entry.map(|e| e.meta).unwrap_or_else(|| panic!("no endpoint {path}"));
        meta.errors.iter().find(|e| e.name == name).map(|e| e.code).unwrap_or_else(|| panic!("no {name}"))
    }

    fn send(w: &mut World, from: &str, to: &str, now: u64) {
        ok(
            w,
            "openim/sendmsg",
            json!({"From_Account": from, "To_Account": to, "MsgRandom": 1, "MsgBody": []}),
            now,
        );
    }

    fn list(w: &mut World, account: &str) -> Vec<Value> {
        let body = json!({"From_Account": account, "TimeStamp": 0, "StartIndex": 0, "TopTimeStamp": 0,
                          "TopStartIndex": 0, "AssistFlags": 7});
        let d = ok(w, "recentcontact/get_list", body, 5000);
        assert_eq!(d.reply["CompleteFlag"], json!(1));
        d.reply["SessionItem"].as_array().cloned().unwrap_or_default()
    }

    #[test]
    fn list_is_newest_first_and_deletion_lasts_until_a_new_message() {
        let mut w = world(&["a", "b", "c"]);
        send(&mut w, "b", "a", 100);
        send(&mut w, "a", "c", 200);
        let items = list(&mut w, "a");
        assert_eq!(
            items,
            [
                json!({"Type": 1, "To_Account": "c", "MsgTime": 200, "TopFlag": 0}),
                json!({"Type": 1, "To_Account": "b", "MsgTime": 100, "TopFlag": 0}),
            ]
        );
        ok(&mut w, "recentcontact/delete", json!({"From_Account": "a", "Type": 1, "To_Account": "b"}), 300);
        assert_eq!(list(&mut w, "a").len(), 1);
        assert_eq!(w.c2c.unread("a", "b"), 0, "deleting a conversation clears its unread count");
        assert_eq!(w.c2c.messages_between("a", "b").len(), 1, "history stays without ClearRamble");
        send(&mut w, "b", "a", 300);
        assert_eq!(list(&mut w, "a")[0]["To_Account"], json!("b"));
        ok(
            &mut w,
            "recentcontact/delete",
            json!({"From_Account": "a", "Type": 1, "To_Account": "b", "ClearRamble": 1}),
            400,
        );
        assert!(w.c2c.messages_between("a", "b").iter().all(|m| !m.visible_to("a")));
        assert_eq!(list(&mut w, "b").len(), 1, "the peer keeps the conversation");
        let missing = run(
            &mut w,
            "recentcontact/get_list",
            json!({"From_Account": "ghost", "TimeStamp": 0,
            "StartIndex": 0, "TopTimeStamp": 0, "TopStartIndex": 0, "AssistFlags": 0}),
            1,
        );
        assert_eq!(missing.err().map(|r| r.code), Some(code_of("recentcontact/get_list", "UserNotImported")));
    }

    #[test]
    fn pinned_conversations_come_first() {
        let mut w = world(&["a", "b", "c"]);
        send(&mut w, "b", "a", 100);
        send(&mut w, "c", "a", 200);
        w.conversations.user("a").pinned.insert("c2c_b".into(), 50);
        let items = list(&mut w, "a");
        assert_eq!(items[0]["To_Account"], json!("b"));
        assert_eq!(items[0]["TopFlag"], json!(1));
        assert_eq!(items[1]["TopFlag"], json!(0));
    }

    #[test]
    fn paging_returns_everything_once() {
        let entries: Vec<Entry> = [9, 8, 8, 8, 5, 5, 1]
            .iter()
            .enumerate()
            .map(|(i, t)| Entry { id: format!("c2c_{i}"), time: *t })
            .collect();
        let (mut ts, mut idx, mut seen) = (0, 0, Vec::new());
        for _ in 0..10 {
            let (p, nts, nidx, done) = page(&entries, ts, idx, 2);
            seen.extend(p.into_iter().map(|e| e.id));
            (ts, idx) = (nts, nidx);
            if done {
                break;
            }
        }
        let all: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn contact_groups_and_marks() {
        let mut w = world(&["u", "p1", "p2"]);
        let d = ok(
            &mut w,
            "recentcontact/create_contact_group",
            json!({"From_Account": "u", "GroupContactItem": [{"GroupName": "work",
                   "ContactItem": [{"Type": 1, "To_Account": "p1"}, {"Type": 1, "To_Account": "nobody"}]}]}),
            10,
        );
        let result = &d.reply["GroupResultItem"][0];
        assert_eq!(result["GroupItem"], json!({"GroupName": "work", "GroupId": 1}));
        assert_eq!(result["ResultItem"][0]["ResultCode"], json!(0));
        assert_eq!(
            result["ResultItem"][1]["ResultCode"],
            json!(code_of("recentcontact/create_contact_group", "UserNotImported"))
        );
        ok(
            &mut w,
            "recentcontact/update_contact_group",
            json!({"From_Account": "u", "UpdateType": 1, "UpdateGroup": {"UpdateGroupType": 2, "OldGroupName": "work",
                   "ContactUpdateItem": [{"ContactOptType": 1, "ContactItem": {"Type": 1, "To_Account": "p2"}}]}}),
            11,
        );
        ok(
            &mut w,
            "recentcontact/update_contact_group",
            json!({"From_Account": "u", "UpdateType": 1,
                   "UpdateGroup": {"UpdateGroupType": 1, "OldGroupName": "work", "NewGroupName": "job"}}),
            12,
        );
        ok(
            &mut w,
            "recentcontact/mark_contact",
            json!({"From_Account": "u", "MarkItem": [{"OptType": 3, "ContactItem": {"Type": 1, "To_Account": "p1"},
                   "SetMark": [1, 3], "CustomMark": "vip"}]}),
            13,
        );
        let d =
            ok(&mut w, "recentcontact/get_contact_group", json!({"From_Account": "u", "StartIndex": 0}), 14);
        assert_eq!(d.reply["GroupItem"], json!([{"GroupName": "job", "GroupId": 1}]));
        assert_eq!(
            d.reply["ContactItem"][0],
            json!({"Type": 1, "To_Account": "p1", "StandardMark": "101", "CustomMark": "vip",
                   "ContactGroupId": [1], "Timestamp": 13})
        );
        assert_eq!(d.reply["ContactItem"][1]["To_Account"], json!("p2"));
        let d = ok(
            &mut w,
            "recentcontact/search_contact_group",
            json!({"From_Account": "u", "ContactItem": [{"Type": 1, "To_Account": "p2"}]}),
            15,
        );
        assert_eq!(d.reply["ContactResultItem"][0]["ContactGroupId"], json!([1]));
        let gone = run(
            &mut w,
            "recentcontact/del_contact_group",
            json!({"From_Account": "u", "GroupName": ["work"]}),
            16,
        );
        assert_eq!(
            gone.err().map(|r| r.code),
            Some(code_of("recentcontact/del_contact_group", "ContactGroupNotFound"))
        );
        let d = ok(
            &mut w,
            "recentcontact/del_contact_group",
            json!({"From_Account": "u", "GroupName": ["job"]}),
            16,
        );
        assert_eq!(d.reply["GroupItem"], json!([{"GroupName": "job", "GroupId": 1}]));
        assert!(w.conversations.contact_groups_of("u").is_empty());

        assert!(w.mentions_account("p1"));
        w.forget_account("p1");
        assert!(!w.mentions_account("p1"));
        w.forget_account("u");
        assert!(!w.mentions_account("u"));
    }

    #[test]
    fn at_most_twenty_contact_groups() {
        let mut w = world(&["u"]);
        for i in 0..20 {
            ok(
                &mut w,
                "recentcontact/create_contact_group",
                json!({"From_Account": "u", "GroupContactItem": [{"GroupName": format!("g{i}"), "ContactItem": []}]}),
                1,
            );
        }
        let over = run(
            &mut w,
            "recentcontact/create_contact_group",
            json!({"From_Account": "u", "GroupContactItem": [{"GroupName": "g20", "ContactItem": []}]}),
            1,
        );
        assert_eq!(
            over.err().map(|r| r.code),
            Some(code_of("recentcontact/create_contact_group", "TooManyContactGroups"))
        );
    }
}
