//! Group lifecycle: creation and custom IDs, profiles, modification, destruction, group lists.

use serde_json::{json, Map, Value};
use tim_runtime::ErrorRole;

use super::members::{member_json, new_member};
use super::{
    app_data_json, event_time, group_id, group_mut, member_list, merge_app_data, not_found, opt_strings, put,
    Group, Groups, Member,
};
use crate::world::{Call, Done, Handled, Refusal, World};

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
/// An empty filter is every type, as the service reads it.
fn type_matches(stored: &str, filter: Option<&str>) -> bool {
    filter.filter(|f| !f.is_empty()).is_none_or(|f| canonical_type(f).unwrap_or(f) == stored)
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

pub(super) struct CreatePlan {
    pub(super) group_type: &'static str,
    pub(super) custom_id: Option<String>,
    pub(super) owner: Option<String>,
    /// Initial members besides the owner.
    pub(super) members: Vec<Member>,
}

pub(super) fn plan_create(w: &World, call: &Call<'_>) -> Result<CreatePlan, Refusal> {
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

pub(super) fn create_group(w: &mut World, call: &Call<'_>) -> Handled {
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
        support_topic: t == "Community" && call.u64("SupportTopic") == Some(1),
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

/// `import_group`: a creation with the original `CreateTime`, which fires
/// no callbacks (imports are migrations, not events).
pub(super) fn import_group(w: &mut World, call: &Call<'_>) -> Handled {
    let mut done = create_group(w, call)?;
    done.events.clear();
    done.reply.remove("Type");
    let created = call.u64("CreateTime").filter(|t| *t > 0);
    if let (Some(t), Some(id)) = (created, done.reply.get("GroupId").and_then(Value::as_str)) {
        if let Some(g) = w.groups.groups.get_mut(id) {
            g.create_time = t;
            g.last_info_time = t;
            for m in &mut g.members {
                m.join_time = t;
            }
        }
    }
    Ok(done)
}

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

pub(super) fn get_group_info(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn modify_group_base_info(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn destroy_group(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn get_appid_group_list(w: &mut World, call: &Call<'_>) -> Handled {
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

pub(super) fn get_joined_group_list(w: &mut World, call: &Call<'_>) -> Handled {
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
        // 1: only topic-enabled communities; 0: the others.
        .filter(|(_, g)| match call.u64("SupportTopic") {
            Some(1) => g.support_topic,
            Some(0) => !g.support_topic,
            _ => true,
        })
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
