//! Group lifecycle: creation and custom IDs, profiles, modification, destruction, group lists.

use tim_runtime::api::callbacks::group::{
    after_create_group, after_group_destroyed, after_group_info_changed, before_create_group,
};
use tim_runtime::api::group_open_http_svc::{
    create_group, destroy_group, get_appid_group_list as appid_list, get_group_info,
    get_joined_group_list as joined, import_group, modify_group_base_info,
};
use tim_runtime::api::types::{
    AppDefinedDataItem, GroupApplyJoinOption, GroupMemberRole, GroupMuteAllMember, GroupType,
};
use tim_runtime::ErrorRole;

use super::members::{member_info, new_member};
use super::{app_data, event_time, merge_app_data, Group, Groups, Member};
use crate::world::typed::{Answer, Typed};
use crate::world::wire_u32;
use crate::world::{Call, Event, Refusal, World};

/// The stored name of a requested group type; `None` for a type groups
/// cannot be created with.
fn canonical_type(t: &GroupType) -> Option<&'static str> {
    match t {
        GroupType::Private | GroupType::Work => Some("Private"),
        GroupType::Public => Some("Public"),
        GroupType::ChatRoom | GroupType::Meeting => Some("ChatRoom"),
        GroupType::AvChatRoom => Some("AVChatRoom"),
        GroupType::Community => Some("Community"),
        _ => None,
    }
}

/// Whether a group of stored type `stored` matches a group-type filter
/// (its wire value). An empty filter is every type, as the service reads it.
fn type_matches(stored: &str, filter: Option<&str>) -> bool {
    filter
        .filter(|f| !f.is_empty())
        .is_none_or(|f| canonical_type(&GroupType::from_raw(f.to_owned())).unwrap_or(f) == stored)
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

/// What `create_group` and `import_group` both give.
struct NewGroup<'a> {
    group_type: &'a GroupType,
    group_id: Option<&'a str>,
    owner: Option<&'a str>,
    name: &'a str,
    introduction: Option<&'a str>,
    notification: Option<&'a str>,
    face_url: Option<&'a str>,
    max_member_count: Option<u32>,
    apply_join_option: Option<&'a GroupApplyJoinOption>,
    app_defined_data: Option<&'a [AppDefinedDataItem]>,
    members: &'a [create_group::InitialMember],
    owner_data: Option<&'a [AppDefinedDataItem]>,
    support_topic: Option<u8>,
}

impl<'a> From<&'a create_group::Request> for NewGroup<'a> {
    fn from(r: &'a create_group::Request) -> Self {
        Self {
            group_type: &r.r#type,
            group_id: r.group_id.as_deref(),
            owner: r.owner_account.as_deref(),
            name: &r.name,
            introduction: r.introduction.as_deref(),
            notification: r.notification.as_deref(),
            face_url: r.face_url.as_deref(),
            max_member_count: r.max_member_count,
            apply_join_option: r.apply_join_option.as_ref(),
            app_defined_data: r.app_defined_data.as_deref(),
            members: r.member_list.as_deref().unwrap_or_default(),
            owner_data: r.app_member_defined_data.as_deref(),
            support_topic: r.support_topic,
        }
    }
}

impl<'a> From<&'a import_group::Request> for NewGroup<'a> {
    fn from(r: &'a import_group::Request) -> Self {
        Self {
            group_type: &r.r#type,
            group_id: r.group_id.as_deref(),
            owner: r.owner_account.as_deref(),
            name: &r.name,
            introduction: r.introduction.as_deref(),
            notification: r.notification.as_deref(),
            face_url: r.face_url.as_deref(),
            max_member_count: r.max_member_count,
            apply_join_option: r.apply_join_option.as_ref(),
            app_defined_data: r.app_defined_data.as_deref(),
            members: &[],
            owner_data: None,
            support_topic: r.support_topic,
        }
    }
}

/// A checked creation: the stored type and the initial members besides
/// the owner.
struct CreatePlan {
    group_type: &'static str,
    members: Vec<Member>,
}

impl NewGroup<'_> {
    fn max_members(&self, group_type: &str) -> u32 {
        self.max_member_count.filter(|n| *n > 0).unwrap_or_else(|| default_max_members(group_type))
    }

    fn plan(&self, w: &World, call: &Call<'_>) -> Result<CreatePlan, Refusal> {
        let group_type = canonical_type(self.group_type).ok_or_else(|| {
            let t = self.group_type.as_str();
            call.refuse(ErrorRole::GroupTypeUnsupported, format!("groups of type {t} cannot be created"))
        })?;
        if let Some(id) = self.group_id {
            custom_id_ok(id, group_type).map_err(|why| call.refuse_field("GroupId", why))?;
            if w.groups.groups.contains_key(id) {
                return Err(call.refuse(ErrorRole::AlreadyExists, format!("group ID {id} is in use")));
            }
        }
        if let Some(o) = self.owner {
            if !w.accounts.exists(o) {
                return Err(call.refuse(ErrorRole::AccountNotFound, format!("owner {o} does not exist")));
            }
        }
        if group_type == "AVChatRoom" && !self.members.is_empty() {
            return Err(
                call.refuse(ErrorRole::PermissionDenied, "AVChatRoom groups take no members at creation")
            );
        }
        let mut members: Vec<Member> = Vec::new();
        for e in self.members {
            let account = e.member_account.as_str();
            if !w.accounts.exists(account) {
                return Err(
                    call.refuse(ErrorRole::AccountNotFound, format!("member {account} does not exist"))
                );
            }
            let role = match &e.role {
                None | Some(GroupMemberRole::Member) => "Member",
                Some(GroupMemberRole::Admin) => "Admin",
                Some(_) => {
                    return Err(call
                        .refuse_field("MemberList", "only the Admin role may be given to initial members"))
                }
            };
            if self.owner == Some(account) || members.iter().any(|m| m.account == account) {
                continue;
            }
            let mut m = new_member(account, role, call.now, 0);
            merge_app_data(&mut m.app_member_defined_data, e.app_member_defined_data.as_deref());
            members.push(m);
        }
        let max = self.max_members(group_type);
        let initial = members.len() + usize::from(self.owner.is_some() && group_type != "AVChatRoom");
        if initial > max as usize {
            return Err(
                call.refuse(ErrorRole::LimitReached, format!("{initial} initial members exceed {max}"))
            );
        }
        Ok(CreatePlan { group_type, members })
    }

    /// Stores the group; its ID.
    fn create(&self, w: &mut World, call: &Call<'_>, created: u64) -> Result<(String, CreatePlan), Refusal> {
        let plan = self.plan(w, call)?;
        let groups = &mut w.groups;
        let id = match self.group_id {
            Some(id) => {
                groups.last_serial = groups.last_serial.saturating_add(1);
                id.to_owned()
            }
            None => groups.generate_id(plan.group_type),
        };
        let t = plan.group_type;
        let mut members = Vec::new();
        if let Some(o) = self.owner.filter(|_| t != "AVChatRoom") {
            let mut m = new_member(o, "Owner", created, 0);
            merge_app_data(&mut m.app_member_defined_data, self.owner_data);
            members.push(m);
        }
        members.extend(plan.members.iter().map(|m| Member { join_time: created, ..m.clone() }));
        let mut g = Group {
            group_type: t.to_owned(),
            name: self.name.to_owned(),
            introduction: self.introduction.unwrap_or_default().to_owned(),
            notification: self.notification.unwrap_or_default().to_owned(),
            face_url: self.face_url.unwrap_or_default().to_owned(),
            owner: self.owner.map(str::to_owned),
            creator: self.owner.map(str::to_owned),
            create_time: created,
            info_seq: 1,
            last_info_time: created,
            max_member_num: self.max_members(t),
            apply_join_option: self
                .apply_join_option
                .map_or(default_apply_join(t), GroupApplyJoinOption::as_str)
                .to_owned(),
            members,
            serial: groups.last_serial,
            support_topic: t == "Community" && self.support_topic == Some(1),
            ..Group::default()
        };
        merge_app_data(&mut g.app_defined_data, self.app_defined_data);
        groups.groups.insert(id.clone(), g);
        Ok((id, plan))
    }
}

/// `Group.CallbackBeforeCreateGroup`.
pub(super) fn before_create(
    w: &World,
    call: &Call<'_>,
    req: &create_group::Request,
) -> Result<Vec<Event>, Refusal> {
    let new = NewGroup::from(req);
    let plan = new.plan(w, call)?;
    let owner = new.owner.unwrap_or(call.operator);
    let created = w
        .groups
        .groups
        .values()
        .filter(|g| g.creator.as_deref() == Some(owner) && g.group_type == plan.group_type)
        .count();
    let mut p = before_create_group::Payload::new(call.operator)
        .r#type(GroupType::from_raw(plan.group_type.to_owned()))
        .name(req.name.as_str())
        .create_group_num(wire_u32(created))
        .member_list(
            plan.members
                .iter()
                .map(|m| before_create_group::InitialMember::new(m.account.as_str()))
                .collect::<Vec<_>>(),
        )
        .event_time(event_time(call));
    p.owner_account = new.owner.map(str::to_owned);
    Ok(vec![Event::typed(&p)])
}

pub(super) fn create_group(
    w: &mut World,
    call: &Call<'_>,
    req: create_group::Request,
) -> Typed<create_group::Request> {
    let (id, plan) = NewGroup::from(&req).create(w, call, call.now)?;
    let t = GroupType::from_raw(plan.group_type.to_owned());
    let mut p = after_create_group::Payload::new(id.as_str(), call.operator)
        .r#type(t.clone())
        .name(req.name)
        .member_list(
            plan.members
                .iter()
                .map(|m| after_create_group::Member::new(m.account.as_str()))
                .collect::<Vec<_>>(),
        )
        .event_time(event_time(call));
    p.owner_account = req.owner_account;
    p.user_defined_data_list = req.app_defined_data;
    let mut reply = create_group::Response::new(id);
    if t == GroupType::Community {
        reply = reply.r#type(t);
    }
    Ok(Answer::with_events(reply, vec![Event::typed(&p)]))
}

/// `import_group`: a creation with the original `CreateTime`, which fires
/// no callbacks (imports are migrations, not events).
pub(super) fn import_group(
    w: &mut World,
    call: &Call<'_>,
    req: import_group::Request,
) -> Typed<import_group::Request> {
    let created = req.create_time.filter(|t| *t > 0).unwrap_or(call.now);
    let (id, _) = NewGroup::from(&req).create(w, call, created)?;
    Ok(import_group::Response::new(id).into())
}

fn mute_all(g: &Group) -> GroupMuteAllMember {
    if g.mute_all_member {
        GroupMuteAllMember::On
    } else {
        GroupMuteAllMember::Off
    }
}

/// Fills the basic fields of a group into `$item` (a generated type with
/// the profile's optional fields), restricted to the wire names `$fields`
/// lists when given.
macro_rules! base_info {
    ($item:expr, $g:expr, $fields:expr) => {{
        let (mut item, g, fields): (_, &Group, Option<&[String]>) = ($item, $g, $fields);
        let want = |name: &str| fields.is_none_or(|f| f.iter().any(|x| x == name));
        if want("Type") {
            item.r#type = Some(GroupType::from_raw(g.group_type.clone()));
        }
        if want("Name") {
            item.name = Some(g.name.clone());
        }
        if want("Introduction") {
            item.introduction = Some(g.introduction.clone());
        }
        if want("Notification") {
            item.notification = Some(g.notification.clone());
        }
        if want("FaceUrl") {
            item.face_url = Some(g.face_url.clone());
        }
        if want("Owner_Account") {
            item.owner_account = Some(g.owner.clone().unwrap_or_default());
        }
        if want("CreateTime") {
            item.create_time = Some(g.create_time);
        }
        if want("InfoSeq") {
            item.info_seq = Some(g.info_seq);
        }
        if want("LastInfoTime") {
            item.last_info_time = Some(g.last_info_time);
        }
        if want("LastMsgTime") {
            item.last_msg_time = Some(g.last_msg_time);
        }
        if want("NextMsgSeq") {
            item.next_msg_seq = Some(g.msg_seq.saturating_add(1));
        }
        if want("MemberNum") {
            item.member_num = Some(wire_u32(g.members.len()));
        }
        if want("MaxMemberNum") {
            item.max_member_num = Some(g.max_member_num);
        }
        if want("ApplyJoinOption") {
            item.apply_join_option = Some(GroupApplyJoinOption::from_raw(g.apply_join_option.clone()));
        }
        if want("MuteAllMember") {
            item.mute_all_member = Some(mute_all(g));
        }
        item
    }};
}

pub(super) fn get_group_info(
    w: &mut World,
    call: &Call<'_>,
    req: get_group_info::Request,
) -> Typed<get_group_info::Request> {
    let (base_f, member_f, app_f, member_app_f) = match req.response_filter {
        Some(f) => (
            f.group_base_info_filter,
            f.member_info_filter,
            f.app_defined_data_filter_group,
            f.app_defined_data_filter_group_member,
        ),
        None => (None, None, None, None),
    };
    let missing = call.meta.error_with_role(ErrorRole::GroupNotFound).map_or(-1, |e| e.code);
    let mut out = Vec::new();
    for id in req.group_id_list {
        let Some(g) = w.groups.groups.get(&id) else {
            out.push(
                get_group_info::GroupInfo::new(id).error_code(missing).error_info("group does not exist"),
            );
            continue;
        };
        let item = get_group_info::GroupInfo::new(id.as_str()).error_code(0i64).error_info("");
        // An empty filter filters nothing.
        if base_f.is_none() && member_f.is_none() && app_f.is_none() && member_app_f.is_none() {
            let members = g.members.iter().map(|m| member_info(g, m, call.now, None, Some(None)));
            out.push(
                base_info!(item, g, None)
                    .app_defined_data(app_data(&g.app_defined_data, None))
                    .member_list(members.collect::<Vec<_>>()),
            );
            continue;
        }
        let mut item = base_info!(item, g, Some(base_f.as_deref().unwrap_or(&[])));
        if let Some(keys) = &app_f {
            item = item.app_defined_data(app_data(&g.app_defined_data, Some(keys)));
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
                member_info(
                    g,
                    m,
                    call.now,
                    Some(fields.as_deref().unwrap_or(&[])),
                    member_app_f.as_deref().map(Some),
                )
            });
            item = item.member_list(members.collect::<Vec<_>>());
        }
        out.push(item);
    }
    Ok(get_group_info::Response::new().group_info(out).into())
}

pub(super) fn modify_group_base_info(
    w: &mut World,
    call: &Call<'_>,
    req: modify_group_base_info::Request,
) -> Typed<modify_group_base_info::Request> {
    let g = w.groups.get_or_refuse(call, &req.group_id)?;
    if let Some(max) = req.max_member_num {
        if (max as usize) < g.members.len() {
            return Err(call.refuse_field("MaxMemberNum", "fewer than the current members"));
        }
    }
    let mut changed = after_group_info_changed::Payload::new(req.group_id.as_str(), call.operator)
        .r#type(GroupType::from_raw(g.group_type.clone()))
        .event_time(event_time(call));
    let mut any_notified = false;
    for (value, slot, notice) in [
        (req.name, &mut g.name, &mut changed.name),
        (req.introduction, &mut g.introduction, &mut changed.introduction),
        (req.notification, &mut g.notification, &mut changed.notification),
        (req.face_url, &mut g.face_url, &mut changed.face_url),
    ] {
        if let Some(v) = value {
            slot.clone_from(&v);
            *notice = Some(v);
            any_notified = true;
        }
    }
    if let Some(max) = req.max_member_num {
        g.max_member_num = max;
    }
    if let Some(o) = req.apply_join_option {
        g.apply_join_option = o.as_str().to_owned();
    }
    if let Some(m) = req.mute_all_member {
        g.mute_all_member = m == GroupMuteAllMember::On;
    }
    merge_app_data(&mut g.app_defined_data, req.app_defined_data.as_deref());
    g.info_seq = g.info_seq.saturating_add(1);
    g.last_info_time = call.now;
    let events = if any_notified { vec![Event::typed(&changed)] } else { Vec::new() };
    Ok(Answer::with_events(modify_group_base_info::Response::new(), events))
}

pub(super) fn destroy_group(
    w: &mut World,
    call: &Call<'_>,
    req: destroy_group::Request,
) -> Typed<destroy_group::Request> {
    let id = req.group_id.as_str();
    let g = w
        .groups
        .groups
        .remove(id)
        .ok_or_else(|| call.refuse(ErrorRole::GroupNotFound, format!("group {id} does not exist")))?;
    let mut p = after_group_destroyed::Payload::new(id)
        .r#type(GroupType::from_raw(g.group_type.clone()))
        .name(g.name)
        .event_time(event_time(call));
    p.owner_account = g.owner;
    // The callback lists no members for communities.
    if g.group_type != "Community" {
        p = p.member_list(
            g.members
                .iter()
                .map(|m| after_group_destroyed::Member::new(m.account.as_str()))
                .collect::<Vec<_>>(),
        );
    }
    Ok(Answer::with_events(destroy_group::Response::new(), vec![Event::typed(&p)]))
}

pub(super) fn get_appid_group_list(
    w: &mut World,
    _call: &Call<'_>,
    req: appid_list::Request,
) -> Typed<appid_list::Request> {
    let filter = req.group_type.as_ref().map(appid_list::GroupTypeFilter::as_str);
    let limit = req.limit.filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
    let after = req.next.unwrap_or(0);
    let mut matching: Vec<(u64, &String)> = w
        .groups
        .groups
        .iter()
        .filter(|(_, g)| type_matches(&g.group_type, filter))
        .map(|(id, g)| (g.serial, id))
        .collect();
    matching.sort();
    let total = matching.len() as u64;
    let rest: Vec<&(u64, &String)> = matching.iter().filter(|(s, _)| *s > after).collect();
    let page: Vec<&(u64, &String)> = rest.iter().take(limit).copied().collect();
    let next = match (rest.len() > page.len(), page.last()) {
        (true, Some((s, _))) => *s,
        _ => 0,
    };
    let ids: Vec<appid_list::GroupIdItem> =
        page.iter().map(|(_, id)| appid_list::GroupIdItem::new(id.as_str())).collect();
    Ok(appid_list::Response::new().total_count(total).group_id_list(ids).next(next).into())
}

pub(super) fn get_joined_group_list(
    w: &mut World,
    call: &Call<'_>,
    req: joined::Request,
) -> Typed<joined::Request> {
    let account = req.member_account.as_str();
    let filter = req.group_type.as_ref().map(GroupType::as_str);
    let huge = req.with_huge_groups == Some(1);
    let inactive = req.with_no_active_groups == Some(1);
    let (base_f, self_f) = match req.response_filter {
        Some(rf) => (rf.group_base_info_filter, rf.self_info_filter),
        None => (None, None),
    };
    let mut groups: Vec<(u64, &String, &Group)> = w
        .groups
        .groups
        .iter()
        .filter(|(_, g)| g.is_member(account) && type_matches(&g.group_type, filter))
        .filter(|(_, g)| huge || g.group_type != "AVChatRoom")
        // A work group is not active until its first message.
        .filter(|(_, g)| inactive || g.group_type != "Private" || g.msg_seq > 0)
        // 1: only topic-enabled communities; 0: the others.
        .filter(|(_, g)| match req.support_topic {
            Some(1) => g.support_topic,
            Some(0) => !g.support_topic,
            _ => true,
        })
        .map(|(id, g)| (g.serial, id, g))
        .collect();
    groups.sort_by_key(|(s, _, _)| *s);
    let total = wire_u32(groups.len());
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
    let list: Vec<joined::JoinedGroup> = groups
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(_, id, g)| {
            let mut item = joined::JoinedGroup::new(id.as_str());
            if let Some(f) = &base_f {
                item = base_info!(item, g, Some(f.as_slice()));
            }
            if let (Some(f), Some(m)) = (&self_f, g.member(account)) {
                let info = member_info(g, m, call.now, Some(f), None);
                let mut own = joined::SelfInfo::new();
                own.role = info.role;
                own.join_time = info.join_time;
                own.msg_flag = info.msg_flag;
                own.msg_seq = info.msg_seq;
                own.last_send_msg_time = info.last_send_msg_time;
                own.name_card = info.name_card;
                own.mute_until = info.mute_until;
                item = item.self_info(own);
            }
            item
        })
        .collect();
    Ok(joined::Response::new().total_count(total).group_id_list(list).into())
}
