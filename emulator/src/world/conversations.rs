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
use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::{Call, Done, Event, Handled, Refusal, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[
    "recentcontact/get_list",
    "recentcontact/delete",
    "recentcontact/create_contact_group",
    "recentcontact/del_contact_group",
    "recentcontact/update_contact_group",
    "recentcontact/get_contact_group",
    "recentcontact/search_contact_group",
    "recentcontact/mark_contact",
];

/// Conversations one `get_list` page returns, for pinned and for ordinary
/// ones each (the page does not say; the SDKs pull 100 at a time).
pub const LIST_PAGE: usize = 100;

/// Conversations one `get_contact_group` page returns.
pub const CONTACT_PAGE: usize = 100;

/// Conversation groups one account may have (documented).
const MAX_CONTACT_GROUPS: usize = 20;

/// Conversations all of an account's conversation groups may hold (documented).
const MAX_GROUPED: usize = 1000;

/// `AssistFlags` bits of `get_list`.
const PINNED_SUPPORT: u64 = 1;
const WITH_EMPTY: u64 = 2;
const PINNED_PAGING: u64 = 4;

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
fn contact_item(id: &str) -> Value {
    match id.strip_prefix("c2c_") {
        Some(peer) => json!({"Type": 1, "To_Account": peer}),
        None => json!({"Type": 2, "ToGroupId": id.strip_prefix("group_").unwrap_or(id)}),
    }
}

/// The conversation ID a `ContactItem` names.
fn item_id(item: &Value) -> Option<String> {
    match item.get("Type").and_then(Value::as_u64)? {
        1 => item.get("To_Account").and_then(Value::as_str).map(c2c_id),
        2 => item.get("ToGroupId").and_then(Value::as_str).map(group_id),
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
    fn mark_info(&self, conv: &str) -> Value {
        let mut info = contact_item(conv);
        let marks = self.marks.get(conv).cloned().unwrap_or_default();
        if marks.standard != 0 {
            info["StandardMark"] = json!(format!("{:b}", marks.standard));
        }
        if let Some(c) = &marks.custom {
            info["CustomMark"] = json!(c);
        }
        let groups = self.groups_holding(conv);
        if !groups.is_empty() {
            info["ContactGroupId"] = json!(groups);
        }
        info["Timestamp"] = json!(marks.timestamp);
        info
    }

    fn group_items(&self) -> Vec<Value> {
        self.contact_groups.iter().map(|g| json!({"GroupName": g.name, "GroupId": g.id})).collect()
    }
}

/// Before-callbacks of a call, or why it is refused.
pub fn before(_w: &World, _call: &Call<'_>) -> Result<Vec<Event>, Refusal> {
    Ok(Vec::new())
}

/// Answers a call on one of [`PATHS`].
pub fn handle(w: &mut World, call: &Call<'_>) -> Handled {
    let account = call.str("From_Account").unwrap_or_default();
    if !w.accounts.exists(account) {
        return Err(
            call.refuse(ErrorRole::AccountNotFound, format!("From_Account {account} has not been imported"))
        );
    }
    match call.path {
        "recentcontact/get_list" => get_list(w, call, account),
        "recentcontact/delete" => delete(w, call, account),
        "recentcontact/create_contact_group" => create_group(w, call, account),
        "recentcontact/del_contact_group" => del_group(w, call, account),
        "recentcontact/update_contact_group" => update_group(w, call, account),
        "recentcontact/get_contact_group" => get_groups(w, call, account),
        "recentcontact/search_contact_group" => search_groups(w, call, account),
        "recentcontact/mark_contact" => mark(w, call, account),
        _ => Err(call.refuse(ErrorRole::UnknownPath, format!("{} is not a conversation call", call.path))),
    }
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

fn session_item(e: &Entry, top: bool) -> Value {
    let mut item = match e.id.strip_prefix("c2c_") {
        Some(peer) => json!({"Type": 1, "To_Account": peer}),
        None => json!({"Type": 2, "GroupId": e.id.strip_prefix("group_").unwrap_or(&e.id)}),
    };
    item["MsgTime"] = json!(e.time);
    item["TopFlag"] = json!(u32::from(top));
    item
}

fn get_list(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let flags = call.u64("AssistFlags").unwrap_or(0);
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
    let ts = call.u64("TimeStamp").unwrap_or(0);
    let idx = call.u64("StartIndex").unwrap_or(0);
    let top_ts = call.u64("TopTimeStamp").unwrap_or(0);
    let top_idx = call.u64("TopStartIndex").unwrap_or(0);
    let (top_page, next_top_ts, next_top_idx, top_done) = if flags & PINNED_PAGING != 0 {
        page(&pinned, top_ts, top_idx, LIST_PAGE)
    } else if ts == 0 && idx == 0 {
        // Without pinned paging every pinned conversation comes on the first page.
        (pinned, 0, 0, true)
    } else {
        (Vec::new(), 0, 0, true)
    };
    let (ord_page, next_ts, next_idx, ord_done) = page(&ordinary, ts, idx, LIST_PAGE);
    let items: Vec<Value> = top_page
        .iter()
        .map(|e| session_item(e, true))
        .chain(ord_page.iter().map(|e| session_item(e, false)))
        .collect();
    Ok(Done::reply(json!({
        "SessionItem": items,
        "CompleteFlag": u32::from(top_done && ord_done),
        "TimeStamp": next_ts,
        "StartIndex": next_idx,
        "TopTimeStamp": next_top_ts,
        "TopStartIndex": next_top_idx,
        "ErrorDisplay": "",
    })))
}

/// Deleting a conversation also clears its unread count; with `ClearRamble`
/// 1 a one-to-one conversation's history is removed on this side (group
/// history belongs to the group family and stays).
fn delete(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let id = match call.u64("Type") {
        Some(1) => match call.str("To_Account") {
            Some(peer) => c2c_id(peer),
            None => {
                return Err(
                    call.refuse_field("To_Account", "To_Account is required for a one-to-one conversation")
                )
            }
        },
        Some(2) => match call.str("ToGroupid") {
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
            if call.u64("ClearRamble") == Some(1) {
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
    Ok(Done::reply(json!({"ErrorDisplay": ""})))
}

/// The per-item result code of a conversation that cannot be named: its
/// peer or group does not exist. `None` when it can.
fn contact_problem(w: &World, call: &Call<'_>, item: &Value) -> Option<(i64, String)> {
    let code = |role: ErrorRole| {
        call.meta.error_with_role(role).or_else(|| call.meta.error_for_field("*")).map_or(-1, |e| e.code)
    };
    match item.get("Type").and_then(Value::as_u64) {
        Some(1) => {
            let peer = item.get("To_Account").and_then(Value::as_str).unwrap_or_default();
            (!w.accounts.exists(peer))
                .then(|| (code(ErrorRole::AccountNotFound), format!("account {peer} has not been imported")))
        }
        Some(2) => {
            let g = item.get("ToGroupId").and_then(Value::as_str).unwrap_or_default();
            w.groups
                .type_of(g)
                .is_none()
                .then(|| (code(ErrorRole::GroupNotFound), format!("group {g} does not exist")))
        }
        _ => Some((code(ErrorRole::InvalidField), "Type must be 1 or 2".to_owned())),
    }
}

fn result_item(item: &Value, problem: Option<(i64, String)>) -> Value {
    let (code, info) = problem.unwrap_or((0, String::new()));
    json!({"ContactItem": item, "ResultCode": code, "ResultInfo": info})
}

fn create_group(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let Some(spec) =
        call.body.get("GroupContactItem").and_then(Value::as_array).and_then(|a| a.first()).cloned()
    else {
        return Err(
            call.refuse_field("GroupContactItem", "GroupContactItem must name one conversation group")
        );
    };
    let name = spec.get("GroupName").and_then(Value::as_str).unwrap_or_default().to_owned();
    let items = spec.get("ContactItem").and_then(Value::as_array).cloned().unwrap_or_default();
    let checked: Vec<(Value, Option<(i64, String)>)> =
        items.into_iter().map(|i| (i.clone(), contact_problem(w, call, &i))).collect();
    let user = w.conversations.user(account);
    if user.contact_groups.iter().any(|g| g.name == name) {
        return Err(
            call.refuse(ErrorRole::AlreadyExists, format!("conversation group {name} exists already"))
        );
    }
    if user.contact_groups.len() >= MAX_CONTACT_GROUPS {
        return Err(
            call.refuse(ErrorRole::LimitReached, "an account may have at most 20 conversation groups")
        );
    }
    let mut members: Vec<String> = Vec::new();
    for (item, problem) in &checked {
        if let (None, Some(id)) = (problem, item_id(item)) {
            if !members.contains(&id) {
                members.push(id);
            }
        }
    }
    if user.grouped().saturating_add(members.len()) > MAX_GROUPED {
        return Err(call.refuse_field(
            "GroupContactItem",
            "conversation groups may hold at most 1000 conversations in all",
        ));
    }
    user.last_contact_group_id = user.last_contact_group_id.saturating_add(1);
    let id = user.last_contact_group_id;
    for m in &members {
        user.touch(m, call.now);
    }
    user.contact_groups.push(ContactGroup { id, name: name.clone(), conversations: members });
    let results: Vec<Value> = checked.into_iter().map(|(i, p)| result_item(&i, p)).collect();
    Ok(Done::reply(json!({
        "GroupResultItem": [{"GroupItem": {"GroupName": name, "GroupId": id}, "ResultItem": results}],
        "ErrorDisplay": "",
    })))
}

fn del_group(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let names = call.strings("GroupName");
    let user = w.conversations.user(account);
    if let Some(missing) = names.iter().find(|n| !user.contact_groups.iter().any(|g| g.name == **n)) {
        return Err(call.refuse_field("GroupName", format!("conversation group {missing} does not exist")));
    }
    let mut deleted = Vec::new();
    let mut touched = Vec::new();
    user.contact_groups.retain(|g| {
        let gone = names.contains(&g.name);
        if gone {
            deleted.push(json!({"GroupName": g.name, "GroupId": g.id}));
            touched.extend(g.conversations.iter().cloned());
        }
        !gone
    });
    for t in &touched {
        user.touch(t, call.now);
    }
    Ok(Done::reply(json!({"GroupItem": deleted})))
}

fn update_group(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let update = call.body.get("UpdateGroup").cloned().unwrap_or(Value::Null);
    let kind = update.get("UpdateGroupType").and_then(Value::as_u64).unwrap_or(0);
    let old = update.get("OldGroupName").and_then(Value::as_str).unwrap_or_default().to_owned();
    let ops = update.get("ContactUpdateItem").and_then(Value::as_array).cloned().unwrap_or_default();
    let checked: Vec<(Value, Option<(i64, String)>)> = ops
        .iter()
        .map(|op| {
            let item = op.get("ContactItem").cloned().unwrap_or(Value::Null);
            let problem = contact_problem(w, call, &item);
            (op.clone(), problem)
        })
        .collect();
    let user = w.conversations.user(account);
    let Some(pos) = user.contact_groups.iter().position(|g| g.name == old) else {
        return Err(call.refuse_field("OldGroupName", format!("conversation group {old} does not exist")));
    };
    let mut results = Vec::new();
    match kind {
        1 => {
            let Some(new) = update.get("NewGroupName").and_then(Value::as_str).map(str::to_owned) else {
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
        2 => {
            let mut grouped = user.grouped();
            for (op, problem) in checked {
                let opt = op.get("ContactOptType").and_then(Value::as_u64).unwrap_or(0);
                let item = op.get("ContactItem").cloned().unwrap_or(Value::Null);
                let mut problem = problem;
                if let (None, Some(id)) = (&problem, item_id(&item)) {
                    let Some(g) = user.contact_groups.get_mut(pos) else { break };
                    let present = g.conversations.contains(&id);
                    match opt {
                        1 if !present && grouped >= MAX_GROUPED => {
                            let code = call.meta.error_for_field("*").map_or(-1, |e| e.code);
                            problem =
                                Some((code, "conversation groups hold 1000 conversations already".into()));
                        }
                        1 if !present => {
                            g.conversations.push(id.clone());
                            grouped = grouped.saturating_add(1);
                        }
                        2 if present => {
                            g.conversations.retain(|c| *c != id);
                            grouped = grouped.saturating_sub(1);
                        }
                        _ => {}
                    }
                    user.touch(&id, call.now);
                }
                let (code, info) = problem.unwrap_or((0, String::new()));
                results.push(json!({"ContactOptType": opt, "ContactItem": item, "ResultCode": code, "ResultInfo": info}));
            }
        }
        _ => return Err(call.refuse_field("*", "UpdateGroupType must be 1 or 2")),
    }
    let (name, id) = user.contact_groups.get(pos).map_or((old.clone(), 0), |g| (g.name.clone(), g.id));
    let mut result = json!({"UpdateGroupType": kind, "GroupName": name, "OldGroupName": old, "GroupId": id});
    if kind == 2 {
        result["ContactResultItem"] = json!(results);
    }
    Ok(Done::reply(json!({"UpdateType": call.u64("UpdateType").unwrap_or(1), "UpdateGroupResult": result})))
}

fn get_groups(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let user = w.conversations.users.get(account).cloned().unwrap_or_default();
    let start = usize::try_from(call.u64("StartIndex").unwrap_or(0)).unwrap_or(usize::MAX);
    let ids = user.described();
    let page: Vec<Value> = ids.iter().skip(start).take(CONTACT_PAGE).map(|id| user.mark_info(id)).collect();
    let next = start.saturating_add(page.len());
    let complete = next >= ids.len();
    Ok(Done::reply(json!({
        "ContactItem": page,
        "GroupItem": user.group_items(),
        "CompleteFlag": u32::from(complete),
        "NextStartIndex": if complete { 0 } else { next },
    })))
}

fn search_groups(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let user = w.conversations.users.get(account).cloned().unwrap_or_default();
    let described = user.described();
    let wanted: Vec<String> = match call.body.get("ContactItem").and_then(Value::as_array) {
        Some(items) => items.iter().filter_map(item_id).collect(),
        None => described.clone(),
    };
    let found: Vec<Value> =
        wanted.iter().filter(|id| described.contains(id)).map(|id| user.mark_info(id)).collect();
    Ok(Done::reply(json!({"ContactResultItem": found, "GroupItem": user.group_items(), "ErrorDisplay": ""})))
}

/// Standard mark bit `n` (1..=64) as a mask.
fn mark_bit(n: u64) -> Option<u64> {
    (1..=64).contains(&n).then(|| 1u64 << (n - 1))
}

fn mark(w: &mut World, call: &Call<'_>, account: &str) -> Handled {
    let items = call.body.get("MarkItem").and_then(Value::as_array).cloned().unwrap_or_default();
    if items.is_empty() {
        return Err(call.refuse_field("MarkItem", "MarkItem must list 1 to 100 conversations"));
    }
    let invalid = call.meta.error_for_field("*").map_or(-1, |e| e.code);
    let mut results = Vec::new();
    for entry in items {
        let opt = entry.get("OptType").and_then(Value::as_u64).unwrap_or(0);
        let item = entry.get("ContactItem").cloned().unwrap_or(Value::Null);
        let bits = |name: &str| -> Option<Vec<u64>> {
            entry
                .get(name)
                .and_then(Value::as_array)
                .map_or(Some(Vec::new()), |a| a.iter().map(|v| v.as_u64().and_then(mark_bit)).collect())
        };
        let mut problem = contact_problem(w, call, &item);
        let (set, clear) = (bits("SetMark"), bits("ClearMark"));
        if problem.is_none() && (set.is_none() || clear.is_none()) {
            problem = Some((invalid, "mark bits are numbered 1 to 64".into()));
        }
        if let (None, Some(id)) = (&problem, item_id(&item)) {
            let user = w.conversations.user(account);
            let m = user.marks.entry(id).or_default();
            if opt & 1 != 0 {
                for b in set.unwrap_or_default() {
                    m.standard |= b;
                }
                for b in clear.unwrap_or_default() {
                    m.standard &= !b;
                }
            }
            if opt & 2 != 0 {
                if let Some(c) = entry.get("CustomMark").and_then(Value::as_str) {
                    m.custom = Some(c.to_owned());
                }
            }
            m.timestamp = call.now;
        }
        let (code, info) = problem.unwrap_or((0, String::new()));
        results.push(json!({"OptType": opt, "ContactItem": item, "ResultCode": code, "ResultInfo": info}));
    }
    Ok(Done::reply(json!({"ResultItem": results, "ErrorDisplay": ""})))
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
