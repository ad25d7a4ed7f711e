//! Groups: creation and profiles, members and their roles, mutes, group
//! messages with their sequence numbers, history, recalls, unread counts and
//! read receipts.
//!
//! A member's read position is the `MsgSeq` of its member profile; its unread
//! count is the group's latest sequence number minus that position. New
//! members start at the latest sequence number (no backlog), and the sender
//! of a message has read it.

mod lifecycle;
pub(crate) mod live;
mod members;
pub(crate) mod message_ops;
mod messages;
pub(crate) mod permissions;
#[cfg(test)]
mod tests;
pub(crate) mod topics;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_runtime::api::group_open_avchatroom_http_svc as live_svc;
use tim_runtime::api::group_open_http_svc as svc;
use tim_runtime::api::types::{AppDefinedDataItem, MsgBody};
use tim_runtime::ErrorRole;

use super::typed::{route, Route};
use super::{Call, Refusal};

/// The endpoints of this family (topics, permission groups, live groups
/// and message extensions have their own lists).
pub static ROUTES: &[Route] = &[
    route!(svc::create_group::Request, lifecycle::create_group, before = lifecycle::before_create),
    route!(svc::import_group::Request, lifecycle::import_group),
    route!(svc::get_group_info::Request, lifecycle::get_group_info),
    route!(svc::modify_group_base_info::Request, lifecycle::modify_group_base_info),
    route!(svc::destroy_group::Request, lifecycle::destroy_group),
    route!(svc::get_appid_group_list::Request, lifecycle::get_appid_group_list),
    route!(svc::get_joined_group_list::Request, lifecycle::get_joined_group_list),
    route!(svc::add_group_member::Request, members::add_group_member, before = members::before_add),
    route!(svc::delete_group_member::Request, members::delete_group_member),
    route!(svc::get_group_member_info::Request, members::get_group_member_info),
    route!(svc::modify_group_member_info::Request, members::modify_group_member_info),
    route!(svc::change_group_owner::Request, members::change_group_owner),
    route!(svc::forbid_send_msg::Request, members::forbid_send_msg),
    route!(svc::get_group_muted_account::Request, members::get_group_muted_account),
    route!(svc::get_role_in_group::Request, members::get_role_in_group),
    route!(svc::get_specified_group_member_info::Request, members::get_specified_group_member_info),
    route!(svc::import_group_member::Request, members::import_group_member),
    route!(live_svc::get_members::Request, members::get_members),
    route!(live_svc::check_members::Request, members::check_members),
    route!(svc::send_group_msg::Request, messages::send_group_msg, before = messages::before_send),
    route!(svc::send_group_system_notification::Request, messages::send_group_system_notification),
    route!(svc::group_msg_get_simple::Request, messages::group_msg_get_simple),
    route!(svc::group_msg_recall::Request, messages::group_msg_recall),
    route!(svc::set_unread_msg_num::Request, messages::set_unread_msg_num),
    route!(svc::group_msg_receipt::Request, messages::group_msg_receipt),
    route!(svc::get_group_msg_receipt::Request, messages::get_group_msg_receipt),
    route!(svc::get_group_msg_receipt_detail::Request, messages::get_group_msg_receipt_detail),
    route!(svc::delete_group_msg_by_sender::Request, messages::delete_group_msg_by_sender),
    route!(svc::clear_group_msg::Request, messages::clear_group_msg),
    route!(svc::import_group_msg::Request, messages::import_group_msg),
];

/// Every group of the app.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Groups {
    /// By group ID.
    pub groups: BTreeMap<String, Group>,
    /// Last creation serial handed out (generated IDs, `get_appid_group_list`
    /// paging).
    pub last_serial: u64,
}

/// One group.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Group {
    /// `Private`, `Public`, `ChatRoom`, `AVChatRoom` or `Community` (the
    /// newer names `Work` and `Meeting` are stored as `Private` and
    /// `ChatRoom`, the names the specs' group-type tables use).
    pub group_type: String,
    /// Name.
    pub name: String,
    /// Introduction.
    pub introduction: String,
    /// Notice.
    pub notification: String,
    /// Profile photo URL.
    pub face_url: String,
    /// Owner; `None` for an ownerless group (none given, or the owner's
    /// account was deleted).
    pub owner: Option<String>,
    /// Who was the owner at creation (`CreateGroupNum` of the
    /// before-create callback counts these).
    pub creator: Option<String>,
    /// Creation time (Unix seconds).
    pub create_time: u64,
    /// Grows with every profile change.
    pub info_seq: u64,
    /// Last profile change (Unix seconds).
    pub last_info_time: u64,
    /// Time of the latest message (Unix seconds; 0 without one).
    pub last_msg_time: u64,
    /// Largest number of members.
    pub max_member_num: u32,
    /// `FreeAccess`, `NeedPermission` or `DisableApply`.
    pub apply_join_option: String,
    /// Whether the group-wide mute is on.
    pub mute_all_member: bool,
    /// Group-level custom fields.
    pub app_defined_data: BTreeMap<String, String>,
    /// Members in join order (the owner first). AVChatRoom groups keep none:
    /// their users join through the SDK.
    pub members: Vec<Member>,
    /// Mute end times (Unix seconds) by account; kept when a member leaves,
    /// as the service does.
    pub muted: BTreeMap<String, u64>,
    /// Sequence number of the latest message (0 before the first).
    pub msg_seq: u64,
    /// Stored messages, oldest first (AVChatRoom and online-only messages
    /// are not stored).
    pub messages: Vec<GroupMessage>,
    /// Read receipts: readers by message sequence number (decimal).
    pub receipts: BTreeMap<String, Vec<String>>,
    /// History up to this sequence number is hidden from clients
    /// (`clear_group_msg`); the admin's history query still returns it.
    pub cleared_seq: u64,
    /// Creation order in the app.
    pub serial: u64,
    /// Custom group attributes (the attribute store, not the profile's
    /// custom fields).
    pub attributes: BTreeMap<String, String>,
    /// Group counters.
    pub counters: BTreeMap<String, i64>,
    /// Whether the group holds topics (a community created with
    /// `SupportTopic: 1`).
    pub support_topic: bool,
    /// Its topics by ID.
    pub topics: BTreeMap<String, Topic>,
    /// Its permission groups by ID.
    pub permission_groups: BTreeMap<String, permissions::PermissionGroup>,
    /// Administrators, marks and bans of a live group.
    pub live: live::Live,
}

/// One topic of a community.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Topic {
    /// Name.
    pub name: String,
    /// Profile photo URL.
    pub face_url: String,
    /// Notice.
    pub notification: String,
    /// Introduction.
    pub introduction: String,
    /// Custom string.
    pub custom_string: String,
    /// Creation time (Unix seconds).
    pub create_time: u64,
    /// Time of the latest message (Unix seconds; 0 without one).
    pub last_msg_time: u64,
    /// Sequence number of the latest message (0 before the first).
    pub msg_seq: u64,
    /// Whether the topic-wide mute is on.
    pub mute_all: bool,
    /// Stored messages, oldest first.
    pub messages: Vec<GroupMessage>,
    /// Read positions (sequence numbers) by member.
    pub reads: BTreeMap<String, u64>,
}

/// One member of a group.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Member {
    /// UserID.
    pub account: String,
    /// `Owner`, `Admin` or `Member`.
    pub role: String,
    /// When the member joined (Unix seconds).
    pub join_time: u64,
    /// Read position: sequence number of the last message read.
    pub msg_seq: u64,
    /// `AcceptAndNotify`, `AcceptNotNotify` or `Discard`.
    pub msg_flag: String,
    /// When the member last sent a message (Unix seconds).
    pub last_send_msg_time: u64,
    /// Name card.
    pub name_card: String,
    /// Member-level custom fields.
    pub app_member_defined_data: BTreeMap<String, String>,
}

/// One stored group message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct GroupMessage {
    /// Sequence number in the group.
    pub seq: u64,
    /// Sender.
    pub from: String,
    /// `Random` of the request.
    pub random: u64,
    /// `High`, `Normal` or `Low`.
    pub priority: String,
    /// Send time (Unix seconds).
    pub time: u64,
    /// `MsgBody` as sent.
    pub body: MsgBody,
    /// `CloudCustomData` as sent.
    pub cloud_custom_data: String,
    /// Recalled with `group_msg_recall`.
    pub recalled: bool,
    /// Sent with `SupportMessageExtension: 1`.
    pub supports_extension: bool,
    /// Its extension key-values.
    pub extension: super::c2c::Extension,
}

impl Group {
    /// The members in join order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// One member.
    pub fn member(&self, account: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.account == account)
    }

    fn member_mut(&mut self, account: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.account == account)
    }

    /// Whether `account` is a member.
    pub fn is_member(&self, account: &str) -> bool {
        self.member(account).is_some()
    }

    /// The stored messages, oldest first.
    pub fn messages(&self) -> &[GroupMessage] {
        &self.messages
    }

    /// Sequence number of the latest message (0 before the first).
    pub fn latest_seq(&self) -> u64 {
        self.msg_seq
    }

    /// A member's unread count (never negative).
    pub fn unread_of(&self, account: &str) -> Option<u64> {
        self.member(account).map(|m| self.msg_seq.saturating_sub(m.msg_seq))
    }

    /// When `account`'s mute ends, if it is muted at `now`.
    pub fn muted_until(&self, account: &str, now: u64) -> Option<u64> {
        self.muted.get(account).copied().filter(|until| *until > now)
    }

    fn message(&self, seq: u64) -> Option<&GroupMessage> {
        self.messages.iter().find(|m| m.seq == seq)
    }

    fn has_member_list(&self) -> bool {
        self.group_type != "AVChatRoom"
    }
}

impl Groups {
    /// A group by ID.
    pub fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// A group, or the group-not-found refusal of `call`.
    pub(crate) fn get_or_not_found(&self, call: &Call<'_>, id: &str) -> Result<&Group, Refusal> {
        self.groups
            .get(id)
            .ok_or_else(|| call.refuse(ErrorRole::GroupNotFound, format!("group {id} does not exist")))
    }

    /// A group to change, or the group-not-found refusal of `call`.
    pub(crate) fn get_or_refuse(&mut self, call: &Call<'_>, id: &str) -> Result<&mut Group, Refusal> {
        self.groups
            .get_mut(id)
            .ok_or_else(|| call.refuse(ErrorRole::GroupNotFound, format!("group {id} does not exist")))
    }

    /// The type of an existing group (`Public`, `ChatRoom`, ...).
    pub fn type_of(&self, id: &str) -> Option<&str> {
        self.groups.get(id).map(|g| g.group_type.as_str())
    }

    /// `member`'s unread count in `group`; `None` when either is unknown.
    pub fn unread(&self, group: &str, member: &str) -> Option<u64> {
        self.groups.get(group).and_then(|g| g.unread_of(member))
    }

    /// The groups `account` is a member of, as conversations.
    pub fn joined_by(&self, account: &str) -> Vec<GroupConversation> {
        self.groups
            .iter()
            .filter_map(|(id, g)| {
                g.unread_of(account).map(|unread| GroupConversation {
                    group_id: id.clone(),
                    last_msg_time: g.last_msg_time,
                    unread,
                })
            })
            .collect()
    }

    /// Removes the account from every member list, mute list and receipt;
    /// a group it owned is left without owner. Messages it sent stay in the
    /// history with their sender.
    pub fn forget_account(&mut self, id: &str) {
        for g in self.groups.values_mut() {
            g.members.retain(|m| m.account != id);
            if g.owner.as_deref() == Some(id) {
                g.owner = None;
            }
            if g.creator.as_deref() == Some(id) {
                g.creator = None;
            }
            g.muted.remove(id);
            for readers in g.receipts.values_mut() {
                readers.retain(|r| r != id);
            }
            for t in g.topics.values_mut() {
                t.reads.remove(id);
            }
            for pg in g.permission_groups.values_mut() {
                pg.members.remove(id);
            }
            g.live.admins.remove(id);
            g.live.marks.remove(id);
            g.live.banned.remove(id);
        }
    }

    /// Whether a membership, ownership, mute or read receipt names the
    /// account (message senders in the history are not counted: the history
    /// keeps them).
    pub fn mentions_account(&self, id: &str) -> bool {
        self.groups.values().any(|g| {
            g.is_member(id)
                || g.owner.as_deref() == Some(id)
                || g.creator.as_deref() == Some(id)
                || g.muted.contains_key(id)
                || g.receipts.values().any(|r| r.iter().any(|a| a == id))
                || g.topics.values().any(|t| t.reads.contains_key(id))
                || g.permission_groups.values().any(|pg| pg.members.contains(id))
                || g.live.admins.contains(id)
                || g.live.marks.contains_key(id)
                || g.live.banned.contains_key(id)
        })
    }
}

/// A group as a conversation of one member (recent contacts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConversation {
    /// The group.
    pub group_id: String,
    /// Time of the group's latest message (Unix seconds; 0 without one).
    pub last_msg_time: u64,
    /// The member's unread count.
    pub unread: u64,
}

/// Callbacks' `EventTime` (milliseconds), from the call's clock so that
/// replays are deterministic.
fn event_time(call: &Call<'_>) -> u64 {
    call.now.saturating_mul(1000)
}

/// `[{Key, Value}]` into a map; an empty value deletes the key, as the
/// service does on modification.
fn merge_app_data(into: &mut BTreeMap<String, String>, items: Option<&[AppDefinedDataItem]>) {
    for item in items.unwrap_or_default() {
        if item.value.is_empty() {
            into.remove(&item.key);
        } else {
            into.insert(item.key.clone(), item.value.clone());
        }
    }
}

/// Custom fields as `[{Key, Value}]`, restricted to `keys` when given.
fn app_data(data: &BTreeMap<String, String>, keys: Option<&[String]>) -> Vec<AppDefinedDataItem> {
    data.iter()
        .filter(|(k, _)| keys.is_none_or(|keys| keys.iter().any(|x| x == *k)))
        .map(|(k, v)| AppDefinedDataItem::new(k.as_str(), v.as_str()))
        .collect()
}
