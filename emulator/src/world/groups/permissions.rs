//! Permission groups of communities: created, read (paged), modified and
//! destroyed; their members; their permission bits on each topic.
//!
//! The pages document no error codes of their own: a community, permission
//! group or topic that does not exist gets the code of the role the specs
//! give (or the catch-all one), per item where the reply has items.
//! `delete_topic_permission_group` has no documented body, so nothing names
//! what to remove: it succeeds and changes nothing (its spec says so).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tim_runtime::api::group_open_http_svc::{
    add_permission_group_member as add_member, add_topic_permission_group as add_topic,
    create_permission_group as create, delete_permission_group_member as delete_member,
    delete_topic_permission_group as delete_topic, destroy_permission_group as destroy,
    get_permission_group as get, get_permission_group_member_list as members,
    get_topic_permission_group as get_topic, modify_permission_group as modify,
    set_topic_permission_group as set_topic,
};
use tim_runtime::ErrorRole;

use super::super::typed::{route, Route, Typed};
use super::super::{Call, Refusal, World};
use super::Group;
use crate::world::{wire_i32, wire_u32};

/// The permission-group endpoints.
pub static ROUTES: &[Route] = &[
    route!(create::Request, create_group),
    route!(get::Request, get_groups),
    route!(modify::Request, modify_group),
    route!(destroy::Request, destroy_groups),
    route!(add_member::Request, add_members),
    route!(delete_member::Request, delete_members),
    route!(members::Request, list_members),
    route!(add_topic::Request, add_topic_permissions),
    route!(set_topic::Request, set_topic_permissions),
    route!(get_topic::Request, get_topic_permissions),
    route!(delete_topic::Request, delete_topic_permissions),
];

/// One permission group.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PermissionGroup {
    /// Name.
    pub name: String,
    /// Community permission bits.
    pub permission: u64,
    /// Custom data.
    pub custom_string: String,
    /// Members.
    pub members: BTreeSet<String>,
    /// Permission bits on topics, by topic ID.
    pub topics: BTreeMap<String, u64>,
}

fn community<'w>(w: &'w mut World, call: &Call<'_>, id: &str) -> Result<&'w mut Group, Refusal> {
    w.groups.get_or_refuse(call, id)
}

fn missing(call: &Call<'_>, what: &str) -> Refusal {
    call.refuse(ErrorRole::InvalidField, format!("no permission group {what}"))
}

fn pg<'g>(g: &'g mut Group, call: &Call<'_>, id: &str) -> Result<&'g mut PermissionGroup, Refusal> {
    g.permission_groups.get_mut(id).ok_or_else(|| missing(call, id))
}

fn create_group(w: &mut World, call: &Call<'_>, req: create::Request) -> Typed<create::Request> {
    let serial = w.groups.last_serial.saturating_add(1);
    let g = community(w, call, &req.group_id)?;
    let id = req.permission_group_id.unwrap_or_else(|| format!("@PMG#_@PMG#{serial}"));
    if g.permission_groups.contains_key(&id) {
        return Err(call.refuse(ErrorRole::AlreadyExists, format!("permission group {id} exists already")));
    }
    let pg = PermissionGroup {
        name: req.permission_group_name,
        permission: req.permission.unwrap_or(0),
        custom_string: req.custom_string.unwrap_or_default(),
        ..PermissionGroup::default()
    };
    g.permission_groups.insert(id.clone(), pg);
    w.groups.last_serial = serial;
    Ok(create::Response::new().permission_group_id(id).into())
}

fn info(id: &str, pg: &PermissionGroup) -> get::PermissionGroupInfo {
    get::PermissionGroupInfo::new()
        .error_code(0)
        .error_info("")
        .permission_group_id(id)
        .permission_group_name(pg.name.as_str())
        .custom_string(pg.custom_string.as_str())
        .permission(pg.permission)
        .member_count(wire_u32(pg.members.len()))
}

fn get_groups(w: &mut World, call: &Call<'_>, req: get::Request) -> Typed<get::Request> {
    let absent = wire_i32(missing(call, "").code);
    let g = community(w, call, &req.group_id)?;
    if let Some(ids) = req.permission_group_id_list.filter(|ids| !ids.is_empty()) {
        let list = ids
            .iter()
            .map(|id| match g.permission_groups.get(id) {
                Some(pg) => info(id, pg),
                None => get::PermissionGroupInfo::new()
                    .error_code(absent)
                    .error_info("no such permission group")
                    .permission_group_id(id.as_str()),
            })
            .collect::<Vec<_>>();
        return Ok(get::Response::new().permission_group_info_list(list).into());
    }
    // Paged by ID: `Next` is the last ID of the previous page.
    let after = req.next.unwrap_or_default();
    let limit = req.limit.filter(|l| *l > 0).unwrap_or(20) as usize;
    let rest: Vec<(&String, &PermissionGroup)> = g
        .permission_groups
        .iter()
        .filter(|(id, _)| after.is_empty() || id.as_str() > after.as_str())
        .collect();
    let page: Vec<get::PermissionGroupInfo> = rest.iter().take(limit).map(|(id, pg)| info(id, pg)).collect();
    let next = if rest.len() > limit {
        rest.get(limit - 1).map_or(String::new(), |(id, _)| (*id).clone())
    } else {
        String::new()
    };
    Ok(get::Response::new().permission_group_info_list(page).next(next).into())
}

fn modify_group(w: &mut World, call: &Call<'_>, req: modify::Request) -> Typed<modify::Request> {
    let g = community(w, call, &req.group_id)?;
    let pg = pg(g, call, &req.permission_group_id)?;
    if let Some(v) = req.permission_group_name {
        pg.name = v;
    }
    if let Some(v) = req.permission {
        pg.permission = v;
    }
    if let Some(v) = req.custom_string {
        pg.custom_string = v;
    }
    Ok(modify::Response::new().into())
}

fn destroy_groups(w: &mut World, call: &Call<'_>, req: destroy::Request) -> Typed<destroy::Request> {
    let absent = wire_i32(missing(call, "").code);
    let g = community(w, call, &req.group_id)?;
    let list = req
        .permission_group_id_list
        .iter()
        .map(|id| {
            let r = destroy::PermissionGroupResult::new().permission_group_id(id.as_str());
            match g.permission_groups.remove(id) {
                Some(_) => r.error_code(0).error_info(""),
                None => r.error_code(absent).error_info("no such permission group"),
            }
        })
        .collect::<Vec<_>>();
    Ok(destroy::Response::new().permission_group_result_list(list).into())
}

fn add_members(w: &mut World, call: &Call<'_>, req: add_member::Request) -> Typed<add_member::Request> {
    let g = community(w, call, &req.group_id)?;
    if let Some(m) = req.member_list.iter().find(|m| !g.is_member(&m.member_account)) {
        return Err(call.refuse(
            ErrorRole::NotGroupMember,
            format!("{} is not a member of the community", m.member_account),
        ));
    }
    let pg = pg(g, call, &req.permission_group_id)?;
    pg.members.extend(req.member_list.into_iter().map(|m| m.member_account));
    Ok(add_member::Response::new().into())
}

/// The account an undocumented member entry names: a UserID string, or an
/// object with `Member_Account` as on the add page.
fn entry_account(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get("Member_Account").and_then(Value::as_str))
}

fn delete_members(
    w: &mut World,
    call: &Call<'_>,
    req: delete_member::Request,
) -> Typed<delete_member::Request> {
    let g = community(w, call, &req.group_id)?;
    let pg = pg(g, call, &req.permission_group_id)?;
    for account in req.member_list.iter().filter_map(entry_account) {
        pg.members.remove(account);
    }
    Ok(delete_member::Response::new().into())
}

fn list_members(w: &mut World, call: &Call<'_>, req: members::Request) -> Typed<members::Request> {
    let g = community(w, call, &req.group_id)?;
    let pg = pg(g, call, &req.permission_group_id)?;
    let after = req.next.unwrap_or_default();
    let limit = req.limit.filter(|l| *l > 0).unwrap_or(50) as usize;
    let rest: Vec<&String> =
        pg.members.iter().filter(|m| after.is_empty() || m.as_str() > after.as_str()).collect();
    let page: Vec<Value> = rest.iter().take(limit).map(|m| json!({"Member_Account": m})).collect();
    let next = if rest.len() > limit {
        rest.get(limit - 1).map_or(String::new(), |m| (*m).clone())
    } else {
        String::new()
    };
    Ok(members::Response::new().member_list(page).next(next).into())
}

fn topic_results(
    g: &mut Group,
    call: &Call<'_>,
    pg_id: &str,
    items: impl Iterator<Item = (String, u64)>,
) -> Result<Vec<(String, i32)>, Refusal> {
    let absent = wire_i32(call.refuse(ErrorRole::GroupNotFound, "").code);
    let topics: BTreeSet<String> = g.topics.keys().cloned().collect();
    let pg = pg(g, call, pg_id)?;
    Ok(items
        .map(|(topic, bits)| {
            if topics.contains(&topic) {
                pg.topics.insert(topic.clone(), bits);
                (topic, 0)
            } else {
                (topic, absent)
            }
        })
        .collect())
}

fn add_topic_permissions(
    w: &mut World,
    call: &Call<'_>,
    req: add_topic::Request,
) -> Typed<add_topic::Request> {
    let g = community(w, call, &req.group_id)?;
    let items = req.topic_permission_list.into_iter().map(|t| (t.topic_id, t.permission));
    let results = topic_results(g, call, &req.permission_group_id, items)?
        .into_iter()
        .map(|(topic, code)| {
            let info = if code == 0 { "" } else { "no such topic" };
            add_topic::TopicPermissionResult::new().topic_id(topic).error_code(code).error_info(info)
        })
        .collect::<Vec<_>>();
    Ok(add_topic::Response::new().topic_permission_result_list(results).into())
}

fn set_topic_permissions(
    w: &mut World,
    call: &Call<'_>,
    req: set_topic::Request,
) -> Typed<set_topic::Request> {
    let g = community(w, call, &req.group_id)?;
    let items = req.topic_permission_list.into_iter().map(|t| (t.topic_id, t.permission));
    let results = topic_results(g, call, &req.permission_group_id, items)?;
    if let Some((topic, _)) = results.iter().find(|(_, code)| *code != 0) {
        return Err(call.refuse(ErrorRole::GroupNotFound, format!("no topic {topic}")));
    }
    Ok(set_topic::Response::new().into())
}

fn get_topic_permissions(
    w: &mut World,
    call: &Call<'_>,
    req: get_topic::Request,
) -> Typed<get_topic::Request> {
    let absent = wire_i32(call.refuse(ErrorRole::GroupNotFound, "").code);
    let g = community(w, call, &req.group_id)?;
    let pg = pg(g, call, &req.permission_group_id)?;
    let ids: Vec<String> = match req.topic_id_list.filter(|l| !l.is_empty()) {
        Some(ids) => ids,
        None => pg.topics.keys().cloned().collect(),
    };
    let results = ids
        .into_iter()
        .map(|topic| {
            let r = get_topic::TopicPermissionResult::new();
            match pg.topics.get(&topic) {
                Some(bits) => r.topic_id(topic).error_code(0).error_info("").permission(*bits),
                None => r.topic_id(topic).error_code(absent).error_info("no permission on this topic"),
            }
        })
        .collect::<Vec<_>>();
    Ok(get_topic::Response::new().topic_permission_result_list(results).into())
}

fn delete_topic_permissions(
    _w: &mut World,
    _call: &Call<'_>,
    _req: delete_topic::Request,
) -> Typed<delete_topic::Request> {
    Ok(delete_topic::Response::new().into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::testing::{exec, exec_ok, world};

    const NOW: u64 = 1_700_000_000;
    const GID: &str = "@TGS#_c1";

    #[test]
    fn permission_groups_with_members_and_topic_permissions() {
        let mut w = world(&["alice", "bob", "carol"]);
        let create = json!({"Owner_Account": "alice", "Type": "Community", "Name": "c", "GroupId": GID, "SupportTopic": 1,
            "MemberList": [{"Member_Account": "bob"}]});
        exec_ok(&mut w, "group_open_http_svc/create_group", create, NOW);
        let topic = exec_ok(
            &mut w,
            "million_group_open_http_svc/create_topic",
            json!({"GroupId": GID, "TopicName": "t"}),
            NOW,
        )
        .body()["TopicId"]
            .as_str()
            .unwrap()
            .to_owned();
        let pg = exec_ok(
            &mut w,
            "group_open_http_svc/create_permission_group",
            json!({"GroupId": GID, "PermissionGroupName": "mods", "Permission": 7}),
            NOW,
        )
        .body()["PermissionGroupId"]
            .as_str()
            .unwrap()
            .to_owned();
        exec_ok(
            &mut w,
            "group_open_http_svc/modify_permission_group",
            json!({"GroupId": GID, "PermissionGroupId": pg, "Permission": 9}),
            NOW,
        );
        exec_ok(
            &mut w,
            "group_open_http_svc/add_permission_group_member",
            json!({"GroupId": GID, "PermissionGroupId": pg, "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "alice"}]}),
            NOW,
        );
        let outsider =
            json!({"GroupId": GID, "PermissionGroupId": pg, "MemberList": [{"Member_Account": "carol"}]});
        assert!(exec(&mut w, "group_open_http_svc/add_permission_group_member", outsider, NOW).is_err());
        let info =
            exec_ok(&mut w, "group_open_http_svc/get_permission_group", json!({"GroupId": GID}), NOW).body();
        let first = &info["PermissionGroupInfoList"][0];
        assert_eq!((first["Permission"].as_u64(), first["MemberCount"].as_u64()), (Some(9), Some(2)));
        let page = exec_ok(
            &mut w,
            "group_open_http_svc/get_permission_group_member_list",
            json!({"GroupId": GID, "PermissionGroupId": pg, "Limit": 1}),
            NOW,
        )
        .body();
        assert_eq!(page["MemberList"], json!([{"Member_Account": "alice"}]));
        let next = page["Next"].as_str().unwrap().to_owned();
        let page = exec_ok(
            &mut w,
            "group_open_http_svc/get_permission_group_member_list",
            json!({"GroupId": GID, "PermissionGroupId": pg, "Limit": 1, "Next": next}),
            NOW,
        )
        .body();
        assert_eq!(
            (page["MemberList"].clone(), page["Next"].as_str()),
            (json!([{"Member_Account": "bob"}]), Some(""))
        );
        exec_ok(
            &mut w,
            "group_open_http_svc/delete_permission_group_member",
            json!({"GroupId": GID, "PermissionGroupId": pg, "MemberList": [{"Member_Account": "bob"}]}),
            NOW,
        );
        let add = json!({"GroupId": GID, "PermissionGroupId": pg, "TopicPermissionList": [{"TopicId": topic, "Permission": 3}, {"TopicId": "nope", "Permission": 1}]});
        let r = exec_ok(&mut w, "group_open_http_svc/add_topic_permission_group", add, NOW).body();
        assert_eq!(r["TopicPermissionResultList"][0]["ErrorCode"], 0);
        assert_ne!(r["TopicPermissionResultList"][1]["ErrorCode"], 0);
        exec_ok(
            &mut w,
            "group_open_http_svc/set_topic_permission_group",
            json!({"GroupId": GID, "PermissionGroupId": pg, "TopicPermissionList": [{"TopicId": topic, "Permission": 5}]}),
            NOW,
        );
        let r = exec_ok(
            &mut w,
            "group_open_http_svc/get_topic_permission_group",
            json!({"GroupId": GID, "PermissionGroupId": pg}),
            NOW,
        )
        .body();
        assert_eq!(r["TopicPermissionResultList"][0]["Permission"], 5);
        let r = exec_ok(
            &mut w,
            "group_open_http_svc/destroy_permission_group",
            json!({"GroupId": GID, "PermissionGroupIdList": [pg, "gone"]}),
            NOW,
        )
        .body();
        assert_eq!(r["PermissionGroupResultList"][0]["ErrorCode"], 0);
        assert_ne!(r["PermissionGroupResultList"][1]["ErrorCode"], 0);
        let info =
            exec_ok(&mut w, "group_open_http_svc/get_permission_group", json!({"GroupId": GID}), NOW).body();
        assert_eq!(info["PermissionGroupInfoList"], json!([]));
    }
}
