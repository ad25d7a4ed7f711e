//! Groups: creation and profiles, members and their roles, mutes, group
//! messages with their sequence numbers, history, recalls, unread counts and
//! read receipts.
//!
//! A member's read position is the `MsgSeq` of its member profile; its unread
//! count is the group's latest sequence number minus that position. New
//! members start at the latest sequence number (no backlog), and the sender
//! of a message has read it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use super::{Call, Done, Event, Handled, Refusal, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[
    "group_open_http_svc/create_group",
    "group_open_http_svc/get_group_info",
    "group_open_http_svc/modify_group_base_info",
    "group_open_http_svc/destroy_group",
    "group_open_http_svc/get_appid_group_list",
    "group_open_http_svc/get_joined_group_list",
    "group_open_http_svc/add_group_member",
    "group_open_http_svc/delete_group_member",
    "group_open_http_svc/get_group_member_info",
    "group_open_http_svc/modify_group_member_info",
    "group_open_http_svc/change_group_owner",
    "group_open_http_svc/forbid_send_msg",
    "group_open_http_svc/get_group_muted_account",
    "group_open_http_svc/send_group_msg",
    "group_open_http_svc/send_group_system_notification",
    "group_open_http_svc/group_msg_get_simple",
    "group_open_http_svc/group_msg_recall",
    "group_open_http_svc/set_unread_msg_num",
    "group_open_http_svc/group_msg_receipt",
    "group_open_http_svc/get_group_msg_receipt",
    "group_open_http_svc/get_group_msg_receipt_detail",
    "group_open_http_svc/get_role_in_group",
    "group_open_http_svc/get_specified_group_member_info",
    "group_open_http_svc/import_group_member",
    "group_open_http_svc/delete_group_msg_by_sender",
    "group_open_http_svc/clear_group_msg",
    "group_open_avchatroom_http_svc/get_members",
    "group_open_avchatroom_http_svc/check_members",
];

/// A `MuteTime` that mutes for good; stored as the end time itself, as the
/// service reports it.
const MUTED_FOR_GOOD: u64 = 4_294_967_295;

/// Most messages one history call returns.
const HISTORY_PAGE_MAX: usize = 20;

/// Every group of the app.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
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
#[serde(default)]
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
}

/// One member of a group.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
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
#[serde(default)]
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
    pub body: Value,
    /// `CloudCustomData` as sent.
    pub cloud_custom_data: String,
    /// Recalled with `group_msg_recall`.
    pub recalled: bool,
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

/// Before-callbacks of a call, or why it is refused.
pub fn before(w: &World, call: &Call<'_>) -> Result<Vec<Event>, Refusal> {
    match call.path.rsplit('/').next().unwrap_or_default() {
        "create_group" => {
            let plan = plan_create(w, call)?;
            let owner = plan.owner.clone().unwrap_or_else(|| call.operator.to_owned());
            let created = w
                .groups
                .groups
                .values()
                .filter(|g| g.creator.as_deref() == Some(owner.as_str()) && g.group_type == plan.group_type)
                .count();
            let mut p = json!({
                "Operator_Account": call.operator,
                "Type": plan.group_type,
                "Name": call.str("Name").unwrap_or_default(),
                "CreateGroupNum": created,
                "MemberList": member_list(plan.members.iter().map(|m| m.account.as_str())),
                "EventTime": event_time(call),
            });
            put(&mut p, "Owner_Account", plan.owner.map(Value::from));
            Ok(vec![Event::new("Group.CallbackBeforeCreateGroup", p)])
        }
        "add_group_member" => {
            let g = group(w, call)?;
            let accounts = add_accounts(call);
            Ok(vec![Event::new(
                "Group.CallbackBeforeInviteJoinGroup",
                json!({
                    "GroupId": group_id(call),
                    "Type": g.group_type,
                    "Operator_Account": call.operator,
                    "DestinationMembers": member_list(accounts.iter().map(String::as_str)),
                    "EventTime": event_time(call),
                }),
            )])
        }
        "send_group_msg" => {
            let (g, from) = plan_send(w, call)?;
            if forbidden(call, "ForbidBeforeSendMsgCallback") {
                return Ok(Vec::new());
            }
            Ok(vec![Event::new("Group.CallbackBeforeSendMsg", Value::Object(send_payload(call, g, &from)))])
        }
        _ => Ok(Vec::new()),
    }
}

/// Answers a call on one of [`PATHS`].
pub fn handle(w: &mut World, call: &Call<'_>) -> Handled {
    match call.path.rsplit('/').next().unwrap_or_default() {
        "create_group" => create_group(w, call),
        "get_group_info" => get_group_info(w, call),
        "modify_group_base_info" => modify_group_base_info(w, call),
        "destroy_group" => destroy_group(w, call),
        "get_appid_group_list" => get_appid_group_list(w, call),
        "get_joined_group_list" => get_joined_group_list(w, call),
        "add_group_member" => add_group_member(w, call),
        "delete_group_member" => delete_group_member(w, call),
        "get_group_member_info" => get_group_member_info(w, call),
        "modify_group_member_info" => modify_group_member_info(w, call),
        "change_group_owner" => change_group_owner(w, call),
        "forbid_send_msg" => forbid_send_msg(w, call),
        "get_group_muted_account" => get_group_muted_account(w, call),
        "send_group_msg" => send_group_msg(w, call),
        "send_group_system_notification" => send_group_system_notification(w, call),
        "group_msg_get_simple" => group_msg_get_simple(w, call),
        "group_msg_recall" => group_msg_recall(w, call),
        "set_unread_msg_num" => set_unread_msg_num(w, call),
        "group_msg_receipt" => group_msg_receipt(w, call),
        "get_group_msg_receipt" => get_group_msg_receipt(w, call),
        "get_group_msg_receipt_detail" => get_group_msg_receipt_detail(w, call),
        "get_role_in_group" => get_role_in_group(w, call),
        "get_specified_group_member_info" => get_specified_group_member_info(w, call),
        "import_group_member" => import_group_member(w, call),
        "delete_group_msg_by_sender" => delete_group_msg_by_sender(w, call),
        "clear_group_msg" => clear_group_msg(w, call),
        "get_members" => get_members(w, call),
        "check_members" => check_members(w, call),
        _ => Err(call.refuse(ErrorRole::UnknownPath, format!("{} is not a group call", call.path))),
    }
}

// ---------------------------------------------------------------- helpers

fn group_id<'a>(call: &Call<'a>) -> &'a str {
    call.body.get("GroupId").and_then(Value::as_str).unwrap_or_default()
}

/// Callbacks' `EventTime` (milliseconds), from the call's clock so that
/// replays are deterministic.
fn event_time(call: &Call<'_>) -> u64 {
    call.now.saturating_mul(1000)
}

fn not_found(call: &Call<'_>, id: &str) -> Refusal {
    call.refuse(ErrorRole::GroupNotFound, format!("group {id} does not exist"))
}

fn group<'w>(w: &'w World, call: &Call<'_>) -> Result<&'w Group, Refusal> {
    let id = group_id(call);
    w.groups.groups.get(id).ok_or_else(|| not_found(call, id))
}

fn group_mut<'w>(groups: &'w mut Groups, call: &Call<'_>) -> Result<&'w mut Group, Refusal> {
    let id = group_id(call);
    groups.groups.get_mut(id).ok_or_else(|| not_found(call, id))
}

fn member_list<'a>(ids: impl Iterator<Item = &'a str>) -> Value {
    Value::Array(ids.map(|id| json!({"Member_Account": id})).collect())
}

fn put(p: &mut Value, key: &str, v: Option<Value>) {
    if let (Value::Object(m), Some(v)) = (p, v) {
        m.insert(key.to_owned(), v);
    }
}

/// Strings of a list that may be absent: `None` when absent.
fn opt_strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v {
        Some(Value::Array(items)) => {
            Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        }
        _ => None,
    }
}

fn forbidden(call: &Call<'_>, what: &str) -> bool {
    call.strings("ForbidCallbackControl").iter().any(|f| f == what)
}

/// `[{Key, Value}]` into a map; an empty value deletes the key, as the
/// service does on modification.
fn merge_app_data(into: &mut BTreeMap<String, String>, v: Option<&Value>) {
    let Some(Value::Array(items)) = v else { return };
    for item in items {
        let (Some(k), Some(val)) =
            (item.get("Key").and_then(Value::as_str), item.get("Value").and_then(Value::as_str))
        else {
            continue;
        };
        if val.is_empty() {
            into.remove(k);
        } else {
            into.insert(k.to_owned(), val.to_owned());
        }
    }
}

/// Custom fields as `[{Key, Value}]`, restricted to `keys` when given.
fn app_data_json(data: &BTreeMap<String, String>, keys: Option<&[String]>) -> Value {
    Value::Array(
        data.iter()
            .filter(|(k, _)| keys.is_none_or(|keys| keys.iter().any(|x| x == *k)))
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// The stored name of a requested group type; `None` for a type groups
/// cannot be created with.
fn canonical_type(t: &str) -> Option<&'static str> {
    match t {
        "Private" | "Work" => Some("Private"),
        "Public" => Some("Public"),
        "ChatRoom" | "Meeting" => Some("ChatRoom"),
        "AVChatRoom" => Some("AVChatRoom"),
        "Community" => Some("Community"),
        _ => None,
    }
}

/// Whether a group of stored type `stored` matches a `GroupType` filter.
fn type_matches(stored: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|f| canonical_type(f).unwrap_or(f) == stored)
}

/// The plan's default member limit when `MaxMemberCount` is not given.
fn default_max_members(t: &str) -> u32 {
    match t {
        "Private" => 200,
        "Public" => 2000,
        "ChatRoom" => 10_000,
        "Community" => 100_000,
        _ => u32::MAX,
    }
}

fn default_apply_join(t: &str) -> &'static str {
    match t {
        "Private" => "DisableApply",
        "ChatRoom" | "AVChatRoom" | "Community" => "FreeAccess",
        _ => "NeedPermission",
    }
}

fn mute_end(now: u64, seconds: u64) -> u64 {
    if seconds >= MUTED_FOR_GOOD {
        MUTED_FOR_GOOD
    } else {
        now.saturating_add(seconds)
    }
}

/// A custom group ID the service accepts: printable ASCII, not in the
/// generated `@TGS#` form, except that community IDs must start with
/// `@TGS#_`.
fn custom_id_ok(id: &str, group_type: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.len() > 48 || !id.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err("a custom group ID is 1 to 48 printable ASCII characters");
    }
    match (group_type == "Community", id.starts_with("@TGS#_"), id.starts_with("@TGS#")) {
        (true, false, _) => Err("a community's custom group ID must start with @TGS#_"),
        (false, _, true) => Err("a custom group ID may not start with @TGS#"),
        _ => Ok(()),
    }
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    for _ in 0..width {
        out.push(DIGITS.get((n % 36) as usize).copied().unwrap_or(b'0'));
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Groups {
    /// A fresh generated ID for a group of type `t`, in the service's form
    /// (`@TGS#2J4SZEAEL`, communities `@TGS#_@TGS#c...`).
    fn generate_id(&mut self, t: &str) -> String {
        loop {
            self.last_serial = self.last_serial.saturating_add(1);
            // A multiplicative scramble so that IDs do not look sequential.
            let suffix = base36(self.last_serial.wrapping_mul(2_654_435_761) % 2_821_109_907_456, 8);
            let id = match t {
                "Private" => format!("@TGS#1{suffix}"),
                "ChatRoom" => format!("@TGS#3{suffix}"),
                "AVChatRoom" => format!("@TGS#a{suffix}"),
                "Community" => format!("@TGS#_@TGS#c{suffix}"),
                _ => format!("@TGS#2{suffix}"),
            };
            if !self.groups.contains_key(&id) {
                return id;
            }
        }
    }
}

// ---------------------------------------------------------------- create

struct CreatePlan {
    group_type: &'static str,
    custom_id: Option<String>,
    owner: Option<String>,
    /// Initial members besides the owner.
    members: Vec<Member>,
}

fn plan_create(w: &World, call: &Call<'_>) -> Result<CreatePlan, Refusal> {
    let requested = call.str("Type").unwrap_or_default();
    let group_type = canonical_type(requested).ok_or_else(|| {
        call.refuse(ErrorRole::GroupTypeUnsupported, format!("groups of type {requested} cannot be created"))
    })?;
    let custom_id = match call.str("GroupId") {
        Some(id) => {
            custom_id_ok(id, group_type).map_err(|why| call.refuse_field("GroupId", why))?;
            if w.groups.groups.contains_key(id) {
                return Err(call.refuse(ErrorRole::AlreadyExists, format!("group ID {id} is in use")));
            }
            Some(id.to_owned())
        }
        None => None,
    };
    let owner = call.str("Owner_Account").map(str::to_owned);
    if let Some(o) = &owner {
        if !w.accounts.exists(o) {
            return Err(call.refuse(ErrorRole::AccountNotFound, format!("owner {o} does not exist")));
        }
    }
    let mut members: Vec<Member> = Vec::new();
    let entries = match call.body.get("MemberList") {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    if group_type == "AVChatRoom" && !entries.is_empty() {
        return Err(call.refuse(ErrorRole::PermissionDenied, "AVChatRoom groups take no members at creation"));
    }
    for e in entries {
        let Some(account) = e.get("Member_Account").and_then(Value::as_str) else { continue };
        if !w.accounts.exists(account) {
            return Err(call.refuse(ErrorRole::AccountNotFound, format!("member {account} does not exist")));
        }
        let role = e.get("Role").and_then(Value::as_str).unwrap_or("Member");
        if role != "Admin" && role != "Member" {
            return Err(
                call.refuse_field("MemberList", "only the Admin role may be given to initial members")
            );
        }
        if owner.as_deref() == Some(account) || members.iter().any(|m| m.account == account) {
            continue;
        }
        let mut m = new_member(account, role, call.now, 0);
        merge_app_data(&mut m.app_member_defined_data, e.get("AppMemberDefinedData"));
        members.push(m);
    }
    let max =
        call.u64("MaxMemberCount").filter(|n| *n > 0).map_or(default_max_members(group_type), |n| n as u32);
    let initial = members.len() + usize::from(owner.is_some() && group_type != "AVChatRoom");
    if initial > max as usize {
        return Err(call.refuse(ErrorRole::LimitReached, format!("{initial} initial members exceed {max}")));
    }
    Ok(CreatePlan { group_type, custom_id, owner, members })
}

fn new_member(account: &str, role: &str, now: u64, read: u64) -> Member {
    Member {
        account: account.to_owned(),
        role: role.to_owned(),
        join_time: now,
        msg_seq: read,
        msg_flag: "AcceptAndNotify".to_owned(),
        ..Member::default()
    }
}

fn create_group(w: &mut World, call: &Call<'_>) -> Handled {
    let plan = plan_create(w, call)?;
    let groups = &mut w.groups;
    let id = match plan.custom_id {
        Some(id) => {
            groups.last_serial = groups.last_serial.saturating_add(1);
            id
        }
        None => groups.generate_id(plan.group_type),
    };
    let t = plan.group_type;
    let mut members = Vec::new();
    if let Some(o) = plan.owner.as_deref().filter(|_| t != "AVChatRoom") {
        let mut m = new_member(o, "Owner", call.now, 0);
        merge_app_data(&mut m.app_member_defined_data, call.body.get("AppMemberDefinedData"));
        members.push(m);
    }
    members.extend(plan.members.iter().cloned());
    let mut g = Group {
        group_type: t.to_owned(),
        name: call.str("Name").unwrap_or_default().to_owned(),
        introduction: call.str("Introduction").unwrap_or_default().to_owned(),
        notification: call.str("Notification").unwrap_or_default().to_owned(),
        face_url: call.str("FaceUrl").unwrap_or_default().to_owned(),
        owner: plan.owner.clone(),
        creator: plan.owner.clone(),
        create_time: call.now,
        info_seq: 1,
        last_info_time: call.now,
        max_member_num: call
            .u64("MaxMemberCount")
            .filter(|n| *n > 0)
            .map_or(default_max_members(t), |n| n as u32),
        apply_join_option: call.str("ApplyJoinOption").unwrap_or(default_apply_join(t)).to_owned(),
        members,
        serial: groups.last_serial,
        ..Group::default()
    };
    merge_app_data(&mut g.app_defined_data, call.body.get("AppDefinedData"));
    let mut p = json!({
        "GroupId": id,
        "Operator_Account": call.operator,
        "Type": t,
        "Name": g.name,
        "MemberList": member_list(plan.members.iter().map(|m| m.account.as_str())),
        "EventTime": event_time(call),
    });
    put(&mut p, "Owner_Account", plan.owner.map(Value::from));
    put(&mut p, "UserDefinedDataList", call.body.get("AppDefinedData").cloned());
    groups.groups.insert(id.clone(), g);
    let mut reply = json!({"GroupId": id});
    if t == "Community" {
        put(&mut reply, "Type", Some(json!("Community")));
    }
    Ok(Done::reply(reply).event("Group.CallbackAfterCreateGroup", p))
}

// ---------------------------------------------------------------- profiles

/// The basic fields of a group, restricted to `fields` when given.
fn base_info(g: &Group, fields: Option<&[String]>) -> Map<String, Value> {
    let all = json!({
        "Type": g.group_type,
        "Name": g.name,
        "Introduction": g.introduction,
        "Notification": g.notification,
        "FaceUrl": g.face_url,
        "Owner_Account": g.owner.clone().unwrap_or_default(),
        "CreateTime": g.create_time,
        "InfoSeq": g.info_seq,
        "LastInfoTime": g.last_info_time,
        "LastMsgTime": g.last_msg_time,
        "NextMsgSeq": g.msg_seq.saturating_add(1),
        "MemberNum": g.members.len(),
        "MaxMemberNum": g.max_member_num,
        "ApplyJoinOption": g.apply_join_option,
        "MuteAllMember": if g.mute_all_member { "On" } else { "Off" },
    });
    let Value::Object(mut m) = all else { return Map::new() };
    if let Some(fields) = fields {
        m.retain(|k, _| fields.iter().any(|f| f == k));
    }
    m
}

/// A member's profile, restricted to `fields` (`Member_Account` always
/// comes, `Account` names it too) and to the custom fields `app_keys`.
fn member_json(
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

fn get_group_info(w: &mut World, call: &Call<'_>) -> Handled {
    let filter = call.body.get("ResponseFilter");
    let sub = |name: &str| opt_strings(filter.and_then(|f| f.get(name)));
    let (base_f, member_f, app_f, member_app_f) = (
        sub("GroupBaseInfoFilter"),
        sub("MemberInfoFilter"),
        sub("AppDefinedDataFilter_Group"),
        sub("AppDefinedDataFilter_GroupMember"),
    );
    let mut out = Vec::new();
    for id in call.strings("GroupIdList") {
        let Some(g) = w.groups.groups.get(&id) else {
            let code = call.meta.error_with_role(ErrorRole::GroupNotFound).map_or(-1, |e| e.code);
            out.push(json!({"GroupId": id, "ErrorCode": code, "ErrorInfo": "group does not exist"}));
            continue;
        };
        let mut item = Map::new();
        item.insert("GroupId".into(), json!(id));
        item.insert("ErrorCode".into(), json!(0));
        item.insert("ErrorInfo".into(), json!(""));
        // An empty filter filters nothing.
        if base_f.is_none() && member_f.is_none() && app_f.is_none() && member_app_f.is_none() {
            item.extend(base_info(g, None));
            item.insert("AppDefinedData".into(), app_data_json(&g.app_defined_data, None));
            let members = g.members.iter().map(|m| member_json(g, m, call.now, None, Some(None)));
            item.insert("MemberList".into(), Value::Array(members.collect()));
        } else {
            item.extend(base_info(g, Some(base_f.as_deref().unwrap_or(&[]))));
            if let Some(keys) = &app_f {
                item.insert("AppDefinedData".into(), app_data_json(&g.app_defined_data, Some(keys)));
            }
            if member_f.is_some() || member_app_f.is_some() {
                let fields = member_f.as_deref().map(|f| {
                    let mut f = f.to_vec();
                    if f.iter().any(|x| x == "Account") {
                        f.push("Member_Account".into());
                    }
                    f
                });
                let members = g.members.iter().map(|m| {
                    member_json(
                        g,
                        m,
                        call.now,
                        Some(fields.as_deref().unwrap_or(&[])),
                        member_app_f.as_deref().map(Some),
                    )
                });
                item.insert("MemberList".into(), Value::Array(members.collect()));
            }
        }
        out.push(Value::Object(item));
    }
    Ok(Done::reply(json!({"GroupInfo": out})))
}

fn modify_group_base_info(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    if let Some(max) = call.u64("MaxMemberNum") {
        if (max as usize) < g.members.len() {
            return Err(call.refuse_field("MaxMemberNum", "fewer than the current members"));
        }
    }
    let mut changed = json!({
        "GroupId": group_id(call),
        "Type": g.group_type,
        "Operator_Account": call.operator,
        "EventTime": event_time(call),
    });
    let mut any_notified = false;
    for (field, slot) in [
        ("Name", &mut g.name),
        ("Introduction", &mut g.introduction),
        ("Notification", &mut g.notification),
        ("FaceUrl", &mut g.face_url),
    ] {
        if let Some(v) = call.str(field) {
            *slot = v.to_owned();
            put(&mut changed, field, Some(json!(v)));
            any_notified = true;
        }
    }
    if let Some(max) = call.u64("MaxMemberNum") {
        g.max_member_num = max as u32;
    }
    if let Some(o) = call.str("ApplyJoinOption") {
        g.apply_join_option = o.to_owned();
    }
    if let Some(m) = call.str("MuteAllMember") {
        g.mute_all_member = m == "On";
    }
    merge_app_data(&mut g.app_defined_data, call.body.get("AppDefinedData"));
    g.info_seq = g.info_seq.saturating_add(1);
    g.last_info_time = call.now;
    let done = Done::ok();
    Ok(if any_notified { done.event("Group.CallbackAfterGroupInfoChanged", changed) } else { done })
}

fn destroy_group(w: &mut World, call: &Call<'_>) -> Handled {
    let id = group_id(call);
    let g = w.groups.groups.remove(id).ok_or_else(|| not_found(call, id))?;
    let mut p = json!({
        "GroupId": id,
        "Type": g.group_type,
        "Name": g.name,
        "EventTime": event_time(call),
    });
    put(&mut p, "Owner_Account", g.owner.clone().map(Value::from));
    // The callback lists no members for communities.
    if g.group_type != "Community" {
        put(&mut p, "MemberList", Some(member_list(g.members.iter().map(|m| m.account.as_str()))));
    }
    Ok(Done::ok().event("Group.CallbackAfterGroupDestroyed", p))
}

fn get_appid_group_list(w: &mut World, call: &Call<'_>) -> Handled {
    let filter = call.str("GroupType");
    let limit = call.u64("Limit").filter(|l| *l > 0).unwrap_or(10_000) as usize;
    let after = call.u64("Next").unwrap_or(0);
    let mut matching: Vec<(u64, &String)> = w
        .groups
        .groups
        .iter()
        .filter(|(_, g)| type_matches(&g.group_type, filter))
        .map(|(id, g)| (g.serial, id))
        .collect();
    matching.sort();
    let total = matching.len();
    let rest: Vec<&(u64, &String)> = matching.iter().filter(|(s, _)| *s > after).collect();
    let page: Vec<&(u64, &String)> = rest.iter().take(limit).copied().collect();
    let next = match (rest.len() > page.len(), page.last()) {
        (true, Some((s, _))) => *s,
        _ => 0,
    };
    let ids: Vec<Value> = page.iter().map(|(_, id)| json!({"GroupId": id})).collect();
    Ok(Done::reply(json!({"TotalCount": total, "GroupIdList": ids, "Next": next})))
}

fn get_joined_group_list(w: &mut World, call: &Call<'_>) -> Handled {
    let account = call.str("Member_Account").unwrap_or_default();
    let filter = call.str("GroupType");
    let huge = call.u64("WithHugeGroups") == Some(1);
    let inactive = call.u64("WithNoActiveGroups") == Some(1);
    let rf = call.body.get("ResponseFilter");
    let base_f = opt_strings(rf.and_then(|f| f.get("GroupBaseInfoFilter")));
    let self_f = opt_strings(rf.and_then(|f| f.get("SelfInfoFilter")));
    let mut joined: Vec<(u64, &String, &Group)> = w
        .groups
        .groups
        .iter()
        .filter(|(_, g)| g.is_member(account) && type_matches(&g.group_type, filter))
        .filter(|(_, g)| huge || g.group_type != "AVChatRoom")
        // A work group is not active until its first message.
        .filter(|(_, g)| inactive || g.group_type != "Private" || g.msg_seq > 0)
        // No community here holds topics.
        .filter(|_| call.u64("SupportTopic") != Some(1))
        .map(|(id, g)| (g.serial, id, g))
        .collect();
    joined.sort_by_key(|(s, _, _)| *s);
    let total = joined.len();
    let offset = call.u64("Offset").unwrap_or(0) as usize;
    let limit = call.u64("Limit").filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
    let list: Vec<Value> = joined
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(_, id, g)| {
            let mut item = Map::new();
            item.insert("GroupId".into(), json!(id));
            if let Some(f) = &base_f {
                item.extend(base_info(g, Some(f)));
            }
            if let (Some(f), Some(m)) = (&self_f, g.member(account)) {
                if let Value::Object(mut o) = member_json(g, m, call.now, Some(f), None) {
                    o.remove("Member_Account");
                    item.insert("SelfInfo".into(), Value::Object(o));
                }
            }
            Value::Object(item)
        })
        .collect();
    Ok(Done::reply(json!({"TotalCount": total, "GroupIdList": list})))
}

// ---------------------------------------------------------------- members

fn add_accounts(call: &Call<'_>) -> Vec<String> {
    match call.body.get("MemberList") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.get("Member_Account").and_then(Value::as_str))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn add_group_member(w: &mut World, call: &Call<'_>) -> Handled {
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

fn delete_group_member(w: &mut World, call: &Call<'_>) -> Handled {
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

fn get_group_member_info(w: &mut World, call: &Call<'_>) -> Handled {
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

fn modify_group_member_info(w: &mut World, call: &Call<'_>) -> Handled {
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

fn change_group_owner(w: &mut World, call: &Call<'_>) -> Handled {
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

fn forbid_send_msg(w: &mut World, call: &Call<'_>) -> Handled {
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

fn get_group_muted_account(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let list: Vec<Value> = g
        .muted
        .iter()
        .filter(|(_, until)| **until > call.now)
        .map(|(a, until)| json!({"Member_Account": a, "MutedUntil": until}))
        .collect();
    Ok(Done::reply(json!({"GroupId": group_id(call), "MutedAccountList": list})))
}

// ---------------------------------------------------------------- messages

/// The group and the sender of a `send_group_msg`, or why it is refused.
fn plan_send<'w>(w: &'w World, call: &Call<'_>) -> Result<(&'w Group, String), Refusal> {
    let g = group(w, call)?;
    let from = call.str("From_Account").unwrap_or(call.operator).to_owned();
    if from == call.operator {
        return Ok((g, from));
    }
    if !w.accounts.exists(&from) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("sender {from} does not exist")));
    }
    let role = match g.member(&from) {
        Some(m) => m.role.as_str(),
        None if g.has_member_list() => {
            return Err(call.refuse(ErrorRole::NotGroupMember, format!("sender {from} is not a member")));
        }
        None => "Member",
    };
    if let Some(until) = g.muted_until(&from, call.now) {
        return Err(call.refuse(ErrorRole::PermissionDenied, format!("sender {from} is muted until {until}")));
    }
    if g.mute_all_member && role == "Member" {
        return Err(call.refuse(ErrorRole::PermissionDenied, "the whole group is muted"));
    }
    Ok((g, from))
}

fn send_payload(call: &Call<'_>, g: &Group, from: &str) -> Map<String, Value> {
    let mut p = json!({
        "GroupId": group_id(call),
        "Type": g.group_type,
        "From_Account": from,
        "Operator_Account": call.operator,
        "OnlineOnlyFlag": call.u64("OnlineOnlyFlag").unwrap_or(0),
        "EventTime": event_time(call),
    });
    for f in ["Random", "MsgBody", "CloudCustomData", "TopicId"] {
        put(&mut p, f, call.body.get(f).cloned());
    }
    match p {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn send_group_msg(w: &mut World, call: &Call<'_>) -> Handled {
    let (g, from) = plan_send(w, call)?;
    let mut payload = send_payload(call, g, &from);
    let g = group_mut(&mut w.groups, call)?;
    let seq = g.msg_seq.saturating_add(1);
    g.msg_seq = seq;
    g.last_msg_time = call.now;
    let online_only = call.u64("OnlineOnlyFlag") == Some(1);
    if !online_only && g.has_member_list() {
        g.messages.push(GroupMessage {
            seq,
            from: from.clone(),
            random: call.u64("Random").unwrap_or(0),
            priority: call.str("MsgPriority").unwrap_or("Normal").to_owned(),
            time: call.now,
            body: call.body.get("MsgBody").cloned().unwrap_or(Value::Array(Vec::new())),
            cloud_custom_data: call.str("CloudCustomData").unwrap_or_default().to_owned(),
            recalled: false,
        });
    }
    // Messages kept out of unread counts leave caught-up members caught up.
    let not_unread = call.strings("SendMsgControl").iter().any(|c| c == "NoUnread")
        || !call.strings("To_Account").is_empty()
        || online_only;
    for m in &mut g.members {
        if m.account == from {
            m.msg_seq = seq;
            m.last_send_msg_time = call.now;
        } else if not_unread && m.msg_seq.saturating_add(1) == seq {
            m.msg_seq = seq;
        }
    }
    // Members who deleted the conversation see it again.
    let conversation = super::conversations::group_id(group_id(call));
    for m in &g.members {
        w.conversations.message_arrived(&m.account, &conversation);
    }
    let done = Done::reply(json!({"MsgTime": call.now, "MsgSeq": seq}));
    if forbidden(call, "ForbidAfterSendMsgCallback") {
        return Ok(done);
    }
    payload.insert("MsgSeq".into(), json!(seq));
    payload.insert("MsgTime".into(), json!(call.now));
    Ok(done.event("Group.CallbackAfterSendMsg", Value::Object(payload)))
}

fn send_group_system_notification(w: &mut World, call: &Call<'_>) -> Handled {
    group(w, call)?;
    // System notifications are delivered, not stored: no state changes (a
    // listed non-member simply receives nothing; the page names no code).
    Ok(Done::ok())
}

fn priority_number(p: &str) -> u32 {
    match p {
        "High" => 1,
        "Low" => 3,
        "Lowest" => 4,
        _ => 2,
    }
}

fn group_msg_get_simple(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let wanted = call.u64("ReqMsgNumber").unwrap_or(0) as usize;
    let upto = call.u64("ReqMsgSeq").unwrap_or(g.msg_seq);
    let with_recalled = call.u64("WithRecalledMsg") == Some(1);
    let list: Vec<Value> = g
        .messages
        .iter()
        .rev()
        .filter(|m| m.seq <= upto && (with_recalled || !m.recalled))
        .take(wanted.min(HISTORY_PAGE_MAX))
        .map(|m| {
            json!({
                "From_Account": m.from,
                "IsPlaceMsg": if m.recalled { 2 } else { 0 },
                "MsgBody": if m.recalled { json!([]) } else { m.body.clone() },
                "MsgPriority": priority_number(&m.priority),
                "MsgRandom": m.random,
                "MsgSeq": m.seq,
                "MsgTimeStamp": m.time,
            })
        })
        .collect();
    let finished = u32::from(wanted <= HISTORY_PAGE_MAX);
    Ok(Done::reply(json!({"GroupId": group_id(call), "IsFinished": finished, "RspMsgList": list})))
}

fn seq_list(call: &Call<'_>) -> Vec<u64> {
    match call.body.get("MsgSeqList") {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|i| i.get("MsgSeq").and_then(Value::as_u64)).collect()
        }
        _ => Vec::new(),
    }
}

fn group_msg_recall(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let missing = call.meta.error_with_role(ErrorRole::MessageNotFound).map_or(-1, |e| e.code);
    let mut results = Vec::new();
    let mut recalled = Vec::new();
    for seq in seq_list(call) {
        let code = match g.messages.iter_mut().find(|m| m.seq == seq && !m.recalled) {
            Some(m) => {
                m.recalled = true;
                recalled.push(json!({"MsgSeq": seq}));
                0
            }
            None => missing,
        };
        results.push(json!({"MsgSeq": seq, "RetCode": code}));
    }
    let done = Done::reply(json!({"RecallRetList": results}));
    if recalled.is_empty() {
        return Ok(done);
    }
    let mut p = json!({
        "Operator_Account": call.operator,
        "Type": g.group_type,
        "GroupId": group_id(call),
        "MsgSeqList": recalled,
        "EventTime": event_time(call),
    });
    put(&mut p, "TopicId", call.body.get("TopicId").cloned());
    Ok(done.event("Group.CallbackAfterRecallMsg", p))
}

fn set_unread_msg_num(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let account = call.str("Member_Account").unwrap_or_default();
    let latest = g.msg_seq;
    // More than the group holds counts as every message of the group.
    let unread = call.u64("UnreadMsgNum").unwrap_or(0).min(latest);
    let Some(m) = g.member_mut(account) else {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{account} is not a member")));
    };
    m.msg_seq = latest.saturating_sub(unread);
    Ok(Done::ok())
}

fn group_msg_receipt(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let reader = call.str("From_Account").unwrap_or_default().to_owned();
    if !g.is_member(&reader) {
        return Err(call.refuse(ErrorRole::NotGroupMember, format!("{reader} is not a member")));
    }
    let seqs = seq_list(call);
    if let Some(seq) = seqs.iter().find(|s| g.message(**s).is_none_or(|m| m.recalled)) {
        return Err(call.refuse(ErrorRole::MessageNotFound, format!("no message {seq}")));
    }
    let mut changed = Vec::new();
    for seq in seqs {
        let sender = g.message(seq).map(|m| m.from.clone()).unwrap_or_default();
        if sender == reader {
            continue;
        }
        let readers = g.receipts.entry(seq.to_string()).or_default();
        if !readers.contains(&reader) {
            readers.push(reader.clone());
            changed.push(seq);
        }
    }
    if changed.is_empty() {
        return Ok(Done::ok());
    }
    let list: Vec<Value> = changed
        .into_iter()
        .filter_map(|seq| {
            let (read, unread) = receipt_lists(g, seq)?;
            Some(json!({
                "MsgSeq": seq,
                "ReadNum": read.len(),
                "UnreadNum": unread.len(),
                "ReadReceiptMembers": member_list(read.iter().map(String::as_str)),
            }))
        })
        .collect();
    Ok(Done::ok().event(
        "Group.CallbackAfterReadReceipt",
        json!({"GroupId": group_id(call), "Type": g.group_type, "GroupMsgReceiptList": list, "EventTime": event_time(call)}),
    ))
}

/// Readers and non-readers of a message (members besides its sender), or
/// `None` when there is no such message.
fn receipt_lists(g: &Group, seq: u64) -> Option<(Vec<String>, Vec<String>)> {
    let msg = g.message(seq).filter(|m| !m.recalled)?;
    let readers = g.receipts.get(&seq.to_string()).cloned().unwrap_or_default();
    let unread = g
        .members
        .iter()
        .filter(|m| m.account != msg.from && !readers.contains(&m.account))
        .map(|m| m.account.clone())
        .collect();
    Some((readers, unread))
}

fn get_group_msg_receipt(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let missing = call.meta.error_with_role(ErrorRole::MessageNotFound).map_or(-1, |e| e.code);
    let list: Vec<Value> = seq_list(call)
        .into_iter()
        .map(|seq| match receipt_lists(g, seq) {
            Some((r, u)) => json!({"Code": 0, "MsgSeq": seq, "ReadNum": r.len(), "UnreadNum": u.len()}),
            None => json!({"Code": missing, "MsgSeq": seq, "ReadNum": 0, "UnreadNum": 0}),
        })
        .collect();
    Ok(Done::reply(json!({"GroupMsgReceiptList": list})))
}

fn get_group_msg_receipt_detail(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let seq = call.u64("MsgSeq").unwrap_or(0);
    let Some((read, unread)) = receipt_lists(g, seq) else {
        return Err(call.refuse(ErrorRole::MessageNotFound, format!("no message {seq}")));
    };
    let want_read = call.u64("Filter") == Some(0);
    let all = if want_read { read } else { unread };
    let start = call.str("Cursor").and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let count = call.u64("Count").filter(|c| *c > 0).map_or(usize::MAX, |c| c as usize);
    let end = start.saturating_add(count);
    let finished = end >= all.len();
    let page = all.iter().skip(start).take(count);
    let mut reply = json!({
        "MsgSeq": seq,
        "IsFinished": u32::from(finished),
        "IsFinish": u32::from(finished),
        // The sample answers a finished listing with the cursor "0".
        "Cursor": if finished { "0".to_owned() } else { end.to_string() },
    });
    if want_read {
        put(&mut reply, "ReadList", Some(Value::Array(page.map(|a| json!({"Read_Account": a})).collect())));
    } else {
        put(
            &mut reply,
            "UnreadList",
            Some(Value::Array(page.map(|a| json!({"Unread_Account": a})).collect())),
        );
    }
    Ok(Done::reply(reply))
}

// ---------------------------------------------------------------- more members

fn get_role_in_group(w: &mut World, call: &Call<'_>) -> Handled {
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

fn get_specified_group_member_info(w: &mut World, call: &Call<'_>) -> Handled {
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
fn import_group_member(w: &mut World, call: &Call<'_>) -> Handled {
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

/// Recalls silently: no callback, no notification.
fn delete_group_msg_by_sender(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let sender = call.str("Sender_Account").unwrap_or_default();
    let start = g.messages.len().saturating_sub(1000);
    for m in g.messages.iter_mut().skip(start).filter(|m| m.from == sender) {
        m.recalled = true;
    }
    Ok(Done::ok())
}

fn clear_group_msg(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group_mut(&mut w.groups, call)?;
    let upto = call.u64("MsgSeq").unwrap_or(g.msg_seq).min(g.msg_seq);
    g.cleared_seq = g.cleared_seq.max(upto);
    Ok(Done::ok())
}

// ---------------------------------------------------------------- AVChatRoom

fn get_members(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    // Users join live groups through the SDK, which the emulator does not
    // see: the online list holds whoever the state lists.
    let list: Vec<Value> =
        g.members.iter().map(|m| json!({"Member_Account": m.account, "JoinTime": m.join_time})).collect();
    Ok(Done::reply(json!({"MemberList": list, "NextTimestamp": 0})))
}

fn check_members(w: &mut World, call: &Call<'_>) -> Handled {
    let g = group(w, call)?;
    let present: Vec<String> =
        call.strings("Member_Account").into_iter().filter(|a| g.is_member(a)).collect();
    Ok(Done::reply(json!({"Member_Account": present})))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use tim_runtime::api::callbacks::Callback;
    use tim_runtime::api::ENDPOINTS;
    use tim_runtime::callback::CallbackSet;
    use tim_runtime::dynamic::find;

    use super::*;

    const ADMIN: &str = "admin";

    fn world() -> World {
        let mut w = World::new(ADMIN);
        for a in ["alice", "bob", "carol", "dave"] {
            w.accounts.ensure(a);
        }
        w
    }

    /// Runs `before` then `handle` the way the mock does, with the body
    /// canonicalized and the reply checked against the spec.
    fn run_at(w: &mut World, path: &str, body: Value, now: u64) -> Result<(Value, Vec<Event>), Refusal> {
        let entry = find(ENDPOINTS, &format!("v4/{path}")).expect("endpoint");
        let canon = (entry.parse_request)(body.to_string().as_bytes()).expect("valid request");
        let call = Call { meta: entry.meta, path, body: &canon, operator: ADMIN, now };
        let mut events = w.before(&call).expect("stateful")?;
        let done = w.handle(&call).expect("stateful")?;
        let reply = done.body();
        (entry.parse_reply)(reply.to_string().as_bytes()).expect("reply fits the spec");
        events.extend(done.events);
        for e in &events {
            let mut body = e.payload.clone();
            body.insert("CallbackCommand".into(), json!(e.command));
            let parsed =
                <Callback as CallbackSet>::parse(e.command, Value::Object(body).to_string().as_bytes())
                    .expect("callback payload fits its spec");
            assert!(!matches!(parsed, Callback::Unknown { .. }), "{} is a known callback", e.command);
            // Only fields the spec declares: the typed payload keeps them all.
            let typed = parsed.to_json();
            for key in e.payload.keys() {
                assert!(typed.get(key).is_some(), "{}: `{key}` is not a payload field", e.command);
            }
        }
        Ok((reply, events))
    }

    fn run(w: &mut World, path: &str, body: Value) -> Result<(Value, Vec<Event>), Refusal> {
        run_at(w, path, body, 1_000)
    }

    fn ok(w: &mut World, path: &str, body: Value) -> Value {
        run(w, path, body).expect("call succeeds").0
    }

    fn code(path: &str, role: ErrorRole) -> i64 {
        find(ENDPOINTS, &format!("v4/{path}")).and_then(|e| e.meta.error_with_role(role)).expect("role").code
    }

    fn create(w: &mut World, body: Value) -> String {
        ok(w, "group_open_http_svc/create_group", body)["GroupId"].as_str().expect("id").to_owned()
    }

    fn send(w: &mut World, gid: &str, from: &str, text: &str) -> Value {
        ok(
            w,
            "group_open_http_svc/send_group_msg",
            json!({"GroupId": gid, "Random": 7, "From_Account": from,
                   "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}),
        )
    }

    fn public_group(w: &mut World) -> String {
        create(
            w,
            json!({"Owner_Account": "alice", "Type": "Public", "Name": "g",
                   "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol", "Role": "Admin"}]}),
        )
    }

    #[test]
    fn create_generates_ids_and_fires_callbacks() {
        let mut w = world();
        let (reply, events) = run(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "alice", "Type": "Public", "Name": "g", "MemberList": [{"Member_Account": "bob"}]}),
        )
        .unwrap();
        let id = reply["GroupId"].as_str().unwrap();
        assert!(id.starts_with("@TGS#2"), "{id}");
        let names: Vec<_> = events.iter().map(|e| e.command).collect();
        assert_eq!(names, ["Group.CallbackBeforeCreateGroup", "Group.CallbackAfterCreateGroup"]);
        assert_eq!(events[0].payload["CreateGroupNum"], json!(0));
        assert_eq!(events[1].payload["GroupId"], json!(id));
        let g = w.groups.get(id).unwrap();
        assert_eq!(g.members().len(), 2);
        assert_eq!(g.member("alice").unwrap().role, "Owner");
        let second = create(&mut w, json!({"Owner_Account": "alice", "Type": "Public", "Name": "h"}));
        assert_ne!(second, id);
        let (_, events) = run(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "alice", "Type": "Public", "Name": "i"}),
        )
        .unwrap();
        assert_eq!(events[0].payload["CreateGroupNum"], json!(2));
        let community = create(&mut w, json!({"Type": "Community", "Name": "c"}));
        assert!(community.starts_with("@TGS#_"), "{community}");
        assert_eq!(w.groups.get(&community).unwrap().owner, None);
    }

    #[test]
    fn custom_ids_follow_the_rules() {
        let mut w = world();
        let path = "group_open_http_svc/create_group";
        assert_eq!(
            create(&mut w, json!({"Type": "Public", "Name": "g", "GroupId": "MyFirstGroup"})),
            "MyFirstGroup"
        );
        let dup = run(&mut w, path, json!({"Type": "Private", "Name": "g", "GroupId": "MyFirstGroup"}))
            .unwrap_err();
        assert_eq!(dup.code, code(path, ErrorRole::AlreadyExists));
        let invalid = find(ENDPOINTS, "v4/group_open_http_svc/create_group")
            .and_then(|e| e.meta.error_for_field("GroupId"))
            .expect("catch-all")
            .code;
        for bad in ["@TGS#mine", "tab\there", "caf\u{e9}"] {
            let r = run(&mut w, path, json!({"Type": "Public", "Name": "g", "GroupId": bad})).unwrap_err();
            assert_eq!(r.code, invalid, "{bad}");
        }
        let r = run(&mut w, path, json!({"Type": "Community", "Name": "g", "GroupId": "plain"})).unwrap_err();
        assert_eq!(r.code, invalid);
        assert_eq!(
            create(&mut w, json!({"Type": "Community", "Name": "g", "GroupId": "@TGS#_mine"})),
            "@TGS#_mine"
        );
        assert_eq!(w.groups.groups.len(), 2);
    }

    #[test]
    fn create_checks_accounts_and_avchatroom_members() {
        let mut w = world();
        let path = "group_open_http_svc/create_group";
        assert!(run(&mut w, path, json!({"Owner_Account": "ghost", "Type": "Public", "Name": "g"})).is_err());
        assert!(run(
            &mut w,
            path,
            json!({"Type": "Public", "Name": "g", "MemberList": [{"Member_Account": "ghost"}]})
        )
        .is_err());
        let r = run(
            &mut w,
            path,
            json!({"Type": "AVChatRoom", "Name": "g", "MemberList": [{"Member_Account": "bob"}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, code(path, ErrorRole::PermissionDenied));
        let live = create(&mut w, json!({"Owner_Account": "alice", "Type": "AVChatRoom", "Name": "live"}));
        let g = w.groups.get(&live).unwrap();
        assert_eq!(g.owner.as_deref(), Some("alice"));
        assert!(g.members().is_empty());
        assert!(w.groups.groups.len() == 1);
    }

    #[test]
    fn group_info_filters_and_unknown_groups() {
        let mut w = world();
        let gid = public_group(&mut w);
        send(&mut w, &gid, "bob", "hi");
        let reply = ok(&mut w, "group_open_http_svc/get_group_info", json!({"GroupIdList": [gid, "nope"]}));
        let info = &reply["GroupInfo"];
        assert_eq!(info[0]["MemberNum"], json!(3));
        assert_eq!(info[0]["NextMsgSeq"], json!(2));
        assert_eq!(info[0]["Owner_Account"], json!("alice"));
        assert_eq!(info[0]["MemberList"][1]["MsgSeq"], json!(1));
        assert_eq!(
            info[1]["ErrorCode"],
            json!(code("group_open_http_svc/get_group_info", ErrorRole::GroupNotFound))
        );
        let reply = ok(
            &mut w,
            "group_open_http_svc/get_group_info",
            json!({"GroupIdList": [gid], "ResponseFilter": {"GroupBaseInfoFilter": ["Name"], "MemberInfoFilter": ["Account", "Role"]}}),
        );
        let item = reply["GroupInfo"][0].as_object().unwrap();
        assert_eq!(item["Name"], json!("g"));
        assert!(!item.contains_key("Type"));
        assert_eq!(item["MemberList"][0], json!({"Member_Account": "alice", "Role": "Owner"}));
    }

    #[test]
    fn modify_and_destroy() {
        let mut w = world();
        let gid = public_group(&mut w);
        let (_, events) = run(
            &mut w,
            "group_open_http_svc/modify_group_base_info",
            json!({"GroupId": gid, "Notification": "new", "MuteAllMember": "On",
                   "AppDefinedData": [{"Key": "k", "Value": "v"}]}),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].payload["Notification"], json!("new"));
        assert!(!events[0].payload.contains_key("Name"));
        let g = w.groups.get(&gid).unwrap();
        assert!(g.mute_all_member);
        assert_eq!(g.notification, "new");
        assert_eq!(g.app_defined_data.get("k").map(String::as_str), Some("v"));
        let (_, events) = run(&mut w, "group_open_http_svc/destroy_group", json!({"GroupId": gid})).unwrap();
        assert_eq!(events[0].command, "Group.CallbackAfterGroupDestroyed");
        assert_eq!(events[0].payload["MemberList"].as_array().unwrap().len(), 3);
        assert!(w.groups.get(&gid).is_none());
        let r = run(&mut w, "group_open_http_svc/destroy_group", json!({"GroupId": gid})).unwrap_err();
        assert_eq!(r.code, code("group_open_http_svc/destroy_group", ErrorRole::GroupNotFound));
    }

    #[test]
    fn appid_group_list_pages_by_next() {
        let mut w = world();
        for i in 0..5 {
            let t = if i % 2 == 0 { "Public" } else { "ChatRoom" };
            create(&mut w, json!({"Type": t, "Name": format!("g{i}")}));
        }
        let path = "group_open_http_svc/get_appid_group_list";
        let mut next = 0;
        let mut seen = Vec::new();
        loop {
            let r = ok(&mut w, path, json!({"Limit": 2, "Next": next}));
            assert_eq!(r["TotalCount"], json!(5));
            seen.extend(r["GroupIdList"].as_array().unwrap().iter().map(|g| g["GroupId"].clone()));
            next = r["Next"].as_u64().unwrap();
            if next == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5);
        let r = ok(&mut w, path, json!({"GroupType": "Meeting"}));
        assert_eq!(r["TotalCount"], json!(2));
    }

    #[test]
    fn joined_group_list() {
        let mut w = world();
        let gid = public_group(&mut w);
        let work = create(&mut w, json!({"Type": "Private", "Name": "w", "Owner_Account": "bob"}));
        let path = "group_open_http_svc/get_joined_group_list";
        let r = ok(&mut w, path, json!({"Member_Account": "bob"}));
        // The work group has no message yet: not active.
        assert_eq!(r["GroupIdList"], json!([{"GroupId": gid}]));
        let r = ok(
            &mut w,
            path,
            json!({"Member_Account": "bob", "WithNoActiveGroups": 1,
            "ResponseFilter": {"GroupBaseInfoFilter": ["Type"], "SelfInfoFilter": ["Role", "MsgSeq"]}}),
        );
        assert_eq!(r["TotalCount"], json!(2));
        assert_eq!(
            r["GroupIdList"][1],
            json!({"GroupId": work, "Type": "Private", "SelfInfo": {"Role": "Owner", "MsgSeq": 0}})
        );
        let r = ok(
            &mut w,
            path,
            json!({"Member_Account": "bob", "WithNoActiveGroups": 1, "Limit": 1, "Offset": 1}),
        );
        assert_eq!(r["GroupIdList"], json!([{"GroupId": work}]));
        assert_eq!(w.groups.joined_by("bob").len(), 2);
    }

    #[test]
    fn members_add_delete_and_page() {
        let mut w = world();
        let gid = public_group(&mut w);
        let (reply, events) = run(
            &mut w,
            "group_open_http_svc/add_group_member",
            json!({"GroupId": gid, "MemberList": [{"Member_Account": "dave"}, {"Member_Account": "bob"}, {"Member_Account": "ghost"}]}),
        )
        .unwrap();
        assert_eq!(
            reply["MemberList"],
            json!([{"Member_Account": "dave", "Result": 1}, {"Member_Account": "bob", "Result": 2}, {"Member_Account": "ghost", "Result": 0}])
        );
        assert_eq!(events[0].command, "Group.CallbackBeforeInviteJoinGroup");
        assert_eq!(events[1].payload["NewMemberList"], json!([{"Member_Account": "dave"}]));
        let path = "group_open_http_svc/get_group_member_info";
        let r =
            ok(&mut w, path, json!({"GroupId": gid, "Limit": 2, "Offset": 2, "MemberInfoFilter": ["Role"]}));
        assert_eq!(r["MemberNum"], json!(4));
        assert_eq!(
            r["MemberList"],
            json!([{"Member_Account": "carol", "Role": "Admin"}, {"Member_Account": "dave", "Role": "Member"}])
        );
        assert!(r.get("Next").is_none());
        let r = ok(&mut w, path, json!({"GroupId": gid, "MemberRoleFilter": ["Admin"]}));
        assert_eq!(r["MemberList"].as_array().unwrap().len(), 1);
        let (_, events) = run(
            &mut w,
            "group_open_http_svc/delete_group_member",
            json!({"GroupId": gid, "MemberToDel_Account": ["dave", "nobody"]}),
        )
        .unwrap();
        assert_eq!(events[0].payload["ExitMemberList"], json!([{"Member_Account": "dave"}]));
        assert_eq!(events[0].payload["ExitType"], json!("Kicked"));
        let r = run(
            &mut w,
            "group_open_http_svc/delete_group_member",
            json!({"GroupId": gid, "MemberToDel_Account": ["alice"]}),
        )
        .unwrap_err();
        assert_eq!(r.code, code("group_open_http_svc/delete_group_member", ErrorRole::PermissionDenied));
    }

    #[test]
    fn community_members_page_with_next() {
        let mut w = world();
        let gid = create(
            &mut w,
            json!({"Type": "Community", "Name": "c", "Owner_Account": "alice",
                   "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}, {"Member_Account": "dave"}]}),
        );
        let path = "group_open_http_svc/get_group_member_info";
        let mut next = String::new();
        let mut seen = Vec::new();
        loop {
            let r = ok(&mut w, path, json!({"GroupId": gid, "Limit": 3, "Next": next}));
            seen.extend(r["MemberList"].as_array().unwrap().iter().map(|m| m["Member_Account"].clone()));
            next = r["Next"].as_str().unwrap().to_owned();
            if next.is_empty() {
                break;
            }
        }
        assert_eq!(seen, [json!("alice"), json!("bob"), json!("carol"), json!("dave")]);
    }

    #[test]
    fn member_profile_owner_change_and_mutes() {
        let mut w = world();
        let gid = public_group(&mut w);
        let (_, events) = run(
            &mut w,
            "group_open_http_svc/modify_group_member_info",
            json!({"GroupId": gid, "Member_Account": "bob", "Role": "Admin", "NameCard": "B", "MsgFlag": "Discard"}),
        )
        .unwrap();
        assert_eq!(events[0].command, "Group.CallbackAfterMemberFieldChanged");
        assert_eq!(events[0].payload["Role"], json!("Admin"));
        let bob = w.groups.get(&gid).unwrap().member("bob").unwrap();
        assert_eq!(
            (bob.role.as_str(), bob.name_card.as_str(), bob.msg_flag.as_str()),
            ("Admin", "B", "Discard")
        );
        let (_, events) = run(
            &mut w,
            "group_open_http_svc/change_group_owner",
            json!({"GroupId": gid, "NewOwner_Account": "bob"}),
        )
        .unwrap();
        assert_eq!(events[0].payload["OldOwner_Account"], json!("alice"));
        let g = w.groups.get(&gid).unwrap();
        assert_eq!(g.owner.as_deref(), Some("bob"));
        assert_eq!(g.member("alice").unwrap().role, "Member");
        ok(
            &mut w,
            "group_open_http_svc/forbid_send_msg",
            json!({"GroupId": gid, "Members_Account": ["carol"], "MuteTime": 60}),
        );
        let r = ok(&mut w, "group_open_http_svc/get_group_muted_account", json!({"GroupId": gid}));
        assert_eq!(r["MutedAccountList"], json!([{"Member_Account": "carol", "MutedUntil": 1060}]));
        let refused = run(
            &mut w,
            "group_open_http_svc/send_group_msg",
            json!({"GroupId": gid, "Random": 1, "From_Account": "carol", "MsgBody": []}),
        )
        .unwrap_err();
        assert_eq!(refused.code, code("group_open_http_svc/send_group_msg", ErrorRole::PermissionDenied));
        // The mute ends by itself.
        assert!(run_at(
            &mut w,
            "group_open_http_svc/send_group_msg",
            json!({"GroupId": gid, "Random": 1, "From_Account": "carol", "MsgBody": []}),
            1_061
        )
        .is_ok());
        ok(
            &mut w,
            "group_open_http_svc/forbid_send_msg",
            json!({"GroupId": gid, "Members_Account": ["carol"], "MuteTime": 0}),
        );
        let r = ok(&mut w, "group_open_http_svc/get_group_muted_account", json!({"GroupId": gid}));
        assert_eq!(r["MutedAccountList"], json!([]));
    }

    #[test]
    fn messages_sequence_history_and_unread() {
        let mut w = world();
        let gid = public_group(&mut w);
        let first = send(&mut w, &gid, "bob", "one");
        let second = send(&mut w, &gid, "alice", "two");
        assert_eq!(first["MsgSeq"], json!(1));
        assert_eq!(second["MsgSeq"], json!(2));
        assert_eq!(w.groups.unread("g", "bob"), None);
        assert_eq!(w.groups.unread(&gid, "bob"), Some(1));
        assert_eq!(w.groups.unread(&gid, "alice"), Some(0));
        assert_eq!(w.groups.unread(&gid, "carol"), Some(2));
        ok(
            &mut w,
            "group_open_http_svc/set_unread_msg_num",
            json!({"GroupId": gid, "Member_Account": "bob", "UnreadMsgNum": 5}),
        );
        assert_eq!(w.groups.unread(&gid, "bob"), Some(2));
        ok(
            &mut w,
            "group_open_http_svc/set_unread_msg_num",
            json!({"GroupId": gid, "Member_Account": "bob", "UnreadMsgNum": 1}),
        );
        assert_eq!(w.groups.unread(&gid, "bob"), Some(1));
        send(&mut w, &gid, "carol", "three");
        let path = "group_open_http_svc/group_msg_get_simple";
        let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 2}));
        let seqs: Vec<_> = r["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgSeq"].clone()).collect();
        assert_eq!(seqs, [json!(3), json!(2)]);
        assert_eq!(r["RspMsgList"][0]["From_Account"], json!("carol"));
        let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 2, "ReqMsgSeq": 1}));
        assert_eq!(r["RspMsgList"][0]["MsgBody"][0]["MsgContent"]["Text"], json!("one"));
        assert_eq!(r["IsFinished"], json!(1));
    }

    #[test]
    fn send_checks_sender_and_fires_callbacks() {
        let mut w = world();
        let gid = public_group(&mut w);
        let path = "group_open_http_svc/send_group_msg";
        let r =
            run(&mut w, path, json!({"GroupId": gid, "Random": 1, "From_Account": "dave", "MsgBody": []}))
                .unwrap_err();
        assert_eq!(r.code, code(path, ErrorRole::NotGroupMember));
        let r = run(&mut w, path, json!({"GroupId": "nope", "Random": 1, "MsgBody": []})).unwrap_err();
        assert_eq!(r.code, code(path, ErrorRole::GroupNotFound));
        let (reply, events) = run(&mut w, path, json!({"GroupId": gid, "Random": 9, "MsgBody": []})).unwrap();
        assert_eq!(events[0].command, "Group.CallbackBeforeSendMsg");
        assert_eq!(events[1].command, "Group.CallbackAfterSendMsg");
        assert_eq!(events[1].payload["MsgSeq"], reply["MsgSeq"]);
        assert_eq!(events[1].payload["From_Account"], json!(ADMIN));
        let (_, events) = run(
            &mut w,
            path,
            json!({"GroupId": gid, "Random": 9, "MsgBody": [],
                   "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]}),
        )
        .unwrap();
        assert!(events.is_empty());
        assert_eq!(w.groups.get(&gid).unwrap().latest_seq(), 2);
    }

    #[test]
    fn recall_and_receipts() {
        let mut w = world();
        let gid = public_group(&mut w);
        send(&mut w, &gid, "bob", "one");
        send(&mut w, &gid, "bob", "two");
        let (reply, events) = run(
            &mut w,
            "group_open_http_svc/group_msg_recall",
            json!({"GroupId": gid, "MsgSeqList": [{"MsgSeq": 1}, {"MsgSeq": 7}]}),
        )
        .unwrap();
        let missing = code("group_open_http_svc/group_msg_recall", ErrorRole::MessageNotFound);
        assert_eq!(
            reply["RecallRetList"],
            json!([{"MsgSeq": 1, "RetCode": 0}, {"MsgSeq": 7, "RetCode": missing}])
        );
        assert_eq!(events[0].payload["MsgSeqList"], json!([{"MsgSeq": 1}]));
        let path = "group_open_http_svc/group_msg_get_simple";
        let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 5}));
        assert_eq!(r["RspMsgList"].as_array().unwrap().len(), 1);
        let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 5, "WithRecalledMsg": 1}));
        assert_eq!(r["RspMsgList"][1]["IsPlaceMsg"], json!(2));
        let (_, events) = run(
            &mut w,
            "group_open_http_svc/group_msg_receipt",
            json!({"GroupId": gid, "From_Account": "alice", "MsgSeqList": [{"MsgSeq": 2}]}),
        )
        .unwrap();
        assert_eq!(events[0].command, "Group.CallbackAfterReadReceipt");
        assert_eq!(
            events[0].payload["GroupMsgReceiptList"],
            json!([{"MsgSeq": 2, "ReadNum": 1, "UnreadNum": 1, "ReadReceiptMembers": [{"Member_Account": "alice"}]}])
        );
        let r = ok(
            &mut w,
            "group_open_http_svc/get_group_msg_receipt",
            json!({"GroupId": gid, "MsgSeqList": [{"MsgSeq": 2}]}),
        );
        assert_eq!(r["GroupMsgReceiptList"], json!([{"Code": 0, "MsgSeq": 2, "ReadNum": 1, "UnreadNum": 1}]));
        let r = ok(
            &mut w,
            "group_open_http_svc/get_group_msg_receipt_detail",
            json!({"GroupId": gid, "MsgSeq": 2, "Filter": 1, "Cursor": "", "Count": 10}),
        );
        assert_eq!(r["UnreadList"], json!([{"Unread_Account": "carol"}]));
    }

    #[test]
    fn group_type_rules_apply() {
        let mut w = world();
        let room = create(
            &mut w,
            json!({"Type": "ChatRoom", "Name": "r", "Owner_Account": "alice", "MemberList": [{"Member_Account": "bob"}]}),
        );
        send(&mut w, &room, "alice", "x");
        send(&mut w, &room, "alice", "y");
        ok(
            &mut w,
            "group_open_http_svc/set_unread_msg_num",
            json!({"GroupId": room, "Member_Account": "bob", "UnreadMsgNum": 0}),
        );
        assert_eq!(w.groups.unread(&room, "bob"), Some(2));
        let live = create(&mut w, json!({"Type": "AVChatRoom", "Name": "l"}));
        let r = run(
            &mut w,
            "group_open_http_svc/add_group_member",
            json!({"GroupId": live, "MemberList": [{"Member_Account": "bob"}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, code("group_open_http_svc/add_group_member", ErrorRole::GroupTypeUnsupported));
    }

    #[test]
    fn roles_specified_members_imports_and_sender_deletion() {
        let mut w = world();
        let gid = public_group(&mut w);
        let r = ok(
            &mut w,
            "group_open_http_svc/get_role_in_group",
            json!({"GroupId": gid, "User_Account": ["alice", "carol", "dave"]}),
        );
        assert_eq!(
            r["UserIdList"],
            json!([{"Member_Account": "alice", "Role": "Owner"}, {"Member_Account": "carol", "Role": "Admin"},
                   {"Member_Account": "dave", "Role": "NotMember"}])
        );
        let r = ok(
            &mut w,
            "group_open_http_svc/get_specified_group_member_info",
            json!({"GroupId": gid, "Member_List_Account": ["bob", "dave"], "MemberInfoFilter": ["Role"]}),
        );
        assert_eq!(r["MemberList"], json!([{"Member_Account": "bob", "Role": "Member"}]));
        send(&mut w, &gid, "bob", "one");
        send(&mut w, &gid, "alice", "two");
        send(&mut w, &gid, "bob", "three");
        let (reply, events) = run(
            &mut w,
            "group_open_http_svc/import_group_member",
            json!({"GroupId": gid, "MemberList": [{"Member_Account": "dave", "UnreadMsgNum": 9, "JoinTime": 900},
                                                   {"Member_Account": "bob"}, {"Member_Account": "ghost"}]}),
        )
        .unwrap();
        assert!(events.is_empty());
        assert_eq!(
            reply["MemberList"],
            json!([{"Member_Account": "dave", "Result": 1}, {"Member_Account": "bob", "Result": 2},
                   {"Member_Account": "ghost", "Result": 0}])
        );
        assert_eq!(w.groups.unread(&gid, "dave"), Some(3));
        assert_eq!(w.groups.get(&gid).unwrap().member("dave").unwrap().join_time, 900);
        ok(
            &mut w,
            "group_open_http_svc/delete_group_msg_by_sender",
            json!({"GroupId": gid, "Sender_Account": "bob"}),
        );
        let r = ok(
            &mut w,
            "group_open_http_svc/group_msg_get_simple",
            json!({"GroupId": gid, "ReqMsgNumber": 10}),
        );
        assert_eq!(r["RspMsgList"].as_array().unwrap().len(), 1);
        assert_eq!(r["RspMsgList"][0]["From_Account"], json!("alice"));
        ok(&mut w, "group_open_http_svc/clear_group_msg", json!({"GroupId": gid, "MsgSeq": 2}));
        assert_eq!(w.groups.get(&gid).unwrap().cleared_seq, 2);
    }

    #[test]
    fn forgetting_an_account() {
        let mut w = world();
        let gid = public_group(&mut w);
        send(&mut w, &gid, "bob", "one");
        ok(
            &mut w,
            "group_open_http_svc/forbid_send_msg",
            json!({"GroupId": gid, "Members_Account": ["alice"], "MuteTime": 60}),
        );
        ok(
            &mut w,
            "group_open_http_svc/group_msg_receipt",
            json!({"GroupId": gid, "From_Account": "alice", "MsgSeqList": [{"MsgSeq": 1}]}),
        );
        assert!(w.groups.mentions_account("alice"));
        w.forget_account("alice");
        assert!(!w.groups.mentions_account("alice"));
        let g = w.groups.get(&gid).unwrap();
        assert_eq!(g.owner, None);
        assert_eq!(g.members().len(), 2);
        assert!(w.groups.mentions_account("bob"));
    }
}
