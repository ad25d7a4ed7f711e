//! A group's key-value stores: custom group attributes (set, modify,
//! delete, clear, read; `Group.CallbackAfterGroupAttrChanged` after each
//! change) and group counters (set, increase, decrease, read, delete).
//!
//! The documented bounds on the whole store (keys per group, total value
//! bytes) are the specs' `limits`; a call that would pass one changes
//! nothing.

use std::collections::BTreeMap;

use tim_runtime::api::callbacks::group::after_group_attr_changed as attr_changed;
use tim_runtime::api::group_open_attr_http_svc::get_group_attr;
use tim_runtime::api::group_open_http_svc::{
    clear_group_attr, delete_group_attr, delete_group_counter, get_group_counter, modify_group_attr,
    set_group_attr, update_group_counter,
};
use tim_runtime::api::types::{GroupAttrItem, GroupCounterItem, GroupType};

use super::groups::Group;
use super::typed::{route, Answer, Route, Typed};
use super::{Call, Event, Refusal, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(get_group_attr::Request, get_attrs),
    route!(set_group_attr::Request, set_attrs),
    route!(modify_group_attr::Request, modify_attrs),
    route!(delete_group_attr::Request, delete_attrs),
    route!(clear_group_attr::Request, clear_attrs),
    route!(get_group_counter::Request, get_counters),
    route!(update_group_counter::Request, update_counters),
    route!(delete_group_counter::Request, delete_counters),
];

fn group<'w>(w: &'w mut World, call: &Call<'_>, id: &str) -> Result<&'w mut Group, Refusal> {
    w.groups.get_or_refuse(call, id)
}

/// The attribute store after a change, checked against the limits.
fn check_attrs(call: &Call<'_>, attrs: &BTreeMap<String, String>) -> Result<(), Refusal> {
    call.within_limit("max_keys", attrs.len() as u64, "attribute keys")?;
    let total: usize = attrs.values().map(String::len).sum();
    call.within_limit("total_value_bytes", total as u64, "bytes of attribute values")
}

/// The after-callback of an attribute change.
fn changed(
    call: &Call<'_>,
    g: &Group,
    id: &str,
    option: attr_changed::GroupAttrOption,
    attrs: Vec<attr_changed::ChangedGroupAttr>,
) -> Event {
    let mut payload = attr_changed::Payload::new(id, call.operator)
        .r#type(GroupType::from_raw(g.group_type.clone()))
        .option_type(option)
        .event_time(call.now.saturating_mul(1000));
    if !attrs.is_empty() {
        payload = payload.group_attr(attrs);
    }
    Event::typed(&payload)
}

fn listed(items: &[GroupAttrItem]) -> Vec<attr_changed::ChangedGroupAttr> {
    items
        .iter()
        .map(|a| attr_changed::ChangedGroupAttr::new(a.key.as_str()).value(a.value.as_str()))
        .collect()
}

fn get_attrs(w: &mut World, call: &Call<'_>, req: get_group_attr::Request) -> Typed<get_group_attr::Request> {
    let g = group(w, call, &req.group_id)?;
    let list: Vec<GroupAttrItem> =
        g.attributes.iter().map(|(k, v)| GroupAttrItem::new(k.as_str(), v.as_str())).collect();
    Ok(get_group_attr::Response::new().group_attr_ary(list).into())
}

fn set_attrs(w: &mut World, call: &Call<'_>, req: set_group_attr::Request) -> Typed<set_group_attr::Request> {
    let g = group(w, call, &req.group_id)?;
    let attrs: BTreeMap<String, String> =
        req.group_attr.iter().map(|a| (a.key.clone(), a.value.clone())).collect();
    check_attrs(call, &attrs)?;
    g.attributes = attrs;
    let event = changed(call, g, &req.group_id, attr_changed::GroupAttrOption::Set, listed(&req.group_attr));
    Ok(Answer::with_events(set_group_attr::Response::new(), vec![event]))
}

fn modify_attrs(
    w: &mut World,
    call: &Call<'_>,
    req: modify_group_attr::Request,
) -> Typed<modify_group_attr::Request> {
    let g = group(w, call, &req.group_id)?;
    let mut attrs = g.attributes.clone();
    attrs.extend(req.group_attr.iter().map(|a| (a.key.clone(), a.value.clone())));
    check_attrs(call, &attrs)?;
    g.attributes = attrs;
    let event =
        changed(call, g, &req.group_id, attr_changed::GroupAttrOption::Modify, listed(&req.group_attr));
    Ok(Answer::with_events(modify_group_attr::Response::new(), vec![event]))
}

fn delete_attrs(
    w: &mut World,
    call: &Call<'_>,
    req: delete_group_attr::Request,
) -> Typed<delete_group_attr::Request> {
    let g = group(w, call, &req.group_id)?;
    if let Some(missing) = req.group_attr.iter().find(|a| !g.attributes.contains_key(&a.key)) {
        return Err(call.refuse_named("AttrNotFound", format!("the group has no attribute {}", missing.key)));
    }
    for a in &req.group_attr {
        g.attributes.remove(&a.key);
    }
    let keys = req.group_attr.iter().map(|a| attr_changed::ChangedGroupAttr::new(a.key.as_str())).collect();
    let event = changed(call, g, &req.group_id, attr_changed::GroupAttrOption::Delete, keys);
    Ok(Answer::with_events(delete_group_attr::Response::new(), vec![event]))
}

fn clear_attrs(
    w: &mut World,
    call: &Call<'_>,
    req: clear_group_attr::Request,
) -> Typed<clear_group_attr::Request> {
    let g = group(w, call, &req.group_id)?;
    g.attributes.clear();
    let event = changed(call, g, &req.group_id, attr_changed::GroupAttrOption::Clear, Vec::new());
    Ok(Answer::with_events(clear_group_attr::Response::new(), vec![event]))
}

fn counters(g: &Group, keys: Option<&[String]>) -> Vec<GroupCounterItem> {
    g.counters
        .iter()
        .filter(|(k, _)| keys.is_none_or(|keys| keys.contains(k)))
        .map(|(k, v)| GroupCounterItem::new(k.as_str(), *v))
        .collect()
}

fn get_counters(
    w: &mut World,
    call: &Call<'_>,
    req: get_group_counter::Request,
) -> Typed<get_group_counter::Request> {
    let g = group(w, call, &req.group_id)?;
    Ok(get_group_counter::Response::new()
        .group_counter(counters(g, req.group_counter_keys.as_deref()))
        .into())
}

fn update_counters(
    w: &mut World,
    call: &Call<'_>,
    req: update_group_counter::Request,
) -> Typed<update_group_counter::Request> {
    use update_group_counter::CounterMode;
    let g = group(w, call, &req.group_id)?;
    let mut next = g.counters.clone();
    for item in &req.group_counter {
        let current = next.entry(item.key.clone()).or_insert(0);
        *current = match req.mode.as_ref().unwrap_or(&CounterMode::Set) {
            CounterMode::Increase => current.saturating_add(item.value),
            CounterMode::Decrease => current.saturating_sub(item.value),
            _ => item.value,
        };
    }
    call.within_limit("max_keys", next.len() as u64, "counter keys")?;
    g.counters = next;
    let keys: Vec<String> = req.group_counter.iter().map(|c| c.key.clone()).collect();
    Ok(update_group_counter::Response::new().group_counter(counters(g, Some(&keys))).into())
}

fn delete_counters(
    w: &mut World,
    call: &Call<'_>,
    req: delete_group_counter::Request,
) -> Typed<delete_group_counter::Request> {
    let g = group(w, call, &req.group_id)?;
    match &req.group_counter_keys {
        Some(keys) => g.counters.retain(|k, _| !keys.contains(k)),
        None => g.counters.clear(),
    }
    Ok(delete_group_counter::Response::new().into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, named_code, world};

    const NOW: u64 = 1_700_000_000;

    fn with_group(t: &str) -> super::World {
        let mut w = world(&["alice"]);
        let id = if t == "Community" { "@TGS#_g1" } else { "g1" };
        let create = json!({"Owner_Account": "alice", "Type": t, "Name": "g", "GroupId": id});
        exec_ok(&mut w, "group_open_http_svc/create_group", create, NOW);
        w
    }

    #[test]
    fn attributes_set_modified_deleted_cleared_then_read() {
        let mut w = with_group("Public");
        let set =
            json!({"GroupId": "g1", "GroupAttr": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]});
        let done = exec_ok(&mut w, "group_open_http_svc/set_group_attr", set, NOW);
        assert_eq!(done.events[0].command, "Group.CallbackAfterGroupAttrChanged");
        assert_eq!(done.events[0].payload["OptionType"], "set");
        let modify =
            json!({"GroupId": "g1", "GroupAttr": [{"key": "b", "value": "3"}, {"key": "c", "value": "4"}]});
        exec_ok(&mut w, "group_open_http_svc/modify_group_attr", modify, NOW);
        let read =
            exec_ok(&mut w, "group_open_attr_http_svc/get_group_attr", json!({"GroupId": "g1"}), NOW).body();
        assert_eq!(
            read["GroupAttrAry"],
            json!([{"key": "a", "value": "1"}, {"key": "b", "value": "3"}, {"key": "c", "value": "4"}])
        );
        exec_ok(
            &mut w,
            "group_open_http_svc/delete_group_attr",
            json!({"GroupId": "g1", "GroupAttr": [{"key": "a"}]}),
            NOW,
        );
        let missing = exec(
            &mut w,
            "group_open_http_svc/delete_group_attr",
            json!({"GroupId": "g1", "GroupAttr": [{"key": "a"}]}),
            NOW,
        );
        assert_eq!(
            missing.unwrap_err().code,
            named_code("group_open_http_svc/delete_group_attr", "AttrNotFound")
        );
        exec_ok(&mut w, "group_open_http_svc/clear_group_attr", json!({"GroupId": "g1"}), NOW);
        let read =
            exec_ok(&mut w, "group_open_attr_http_svc/get_group_attr", json!({"GroupId": "g1"}), NOW).body();
        assert_eq!(read["GroupAttrAry"], json!([]));
    }

    #[test]
    fn attribute_limits_come_from_the_spec_and_change_nothing() {
        let mut w = with_group("Public");
        let many: Vec<_> = (0..16).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
        exec_ok(
            &mut w,
            "group_open_http_svc/set_group_attr",
            json!({"GroupId": "g1", "GroupAttr": many}),
            NOW,
        );
        let one_more = json!({"GroupId": "g1", "GroupAttr": [{"key": "k16", "value": "v"}]});
        let r = exec(&mut w, "group_open_http_svc/modify_group_attr", one_more, NOW);
        assert_eq!(r.unwrap_err().code, named_code("group_open_http_svc/modify_group_attr", "TooManyKeys"));
        let big: Vec<_> =
            (0..5).map(|i| json!({"key": format!("k{i}"), "value": "x".repeat(4000)})).collect();
        let r = exec(
            &mut w,
            "group_open_http_svc/modify_group_attr",
            json!({"GroupId": "g1", "GroupAttr": big}),
            NOW,
        );
        assert_eq!(
            r.unwrap_err().code,
            named_code("group_open_http_svc/modify_group_attr", "TotalValueTooLong")
        );
        let read =
            exec_ok(&mut w, "group_open_attr_http_svc/get_group_attr", json!({"GroupId": "g1"}), NOW).body();
        assert_eq!(read["GroupAttrAry"].as_array().unwrap().len(), 16);
        assert!(read["GroupAttrAry"].as_array().unwrap().iter().all(|a| a["value"] == "v"));
    }

    #[test]
    fn counters_increment_then_read_and_delete() {
        let mut w = with_group("Public");
        let set = json!({"GroupId": "g1", "GroupCounter": [{"Key": "like", "Value": 5}], "Mode": "Set"});
        exec_ok(&mut w, "group_open_http_svc/update_group_counter", set, NOW);
        let inc = json!({"GroupId": "g1", "GroupCounter": [{"Key": "like", "Value": 2}, {"Key": "seen", "Value": 1}], "Mode": "Increase"});
        let done = exec_ok(&mut w, "group_open_http_svc/update_group_counter", inc, NOW).body();
        assert_eq!(done["GroupCounter"], json!([{"Key": "like", "Value": 7}, {"Key": "seen", "Value": 1}]));
        let dec =
            json!({"GroupId": "g1", "GroupCounter": [{"Key": "like", "Value": 10}], "Mode": "Decrease"});
        exec_ok(&mut w, "group_open_http_svc/update_group_counter", dec, NOW);
        let read = exec_ok(
            &mut w,
            "group_open_http_svc/get_group_counter",
            json!({"GroupId": "g1", "GroupCounterKeys": ["like"]}),
            NOW,
        )
        .body();
        assert_eq!(read["GroupCounter"], json!([{"Key": "like", "Value": -3}]));
        exec_ok(
            &mut w,
            "group_open_http_svc/delete_group_counter",
            json!({"GroupId": "g1", "GroupCounterKeys": ["like"]}),
            NOW,
        );
        let read =
            exec_ok(&mut w, "group_open_http_svc/get_group_counter", json!({"GroupId": "g1"}), NOW).body();
        assert_eq!(read["GroupCounter"], json!([{"Key": "seen", "Value": 1}]));
    }

    #[test]
    fn unknown_groups_and_unsupported_types_get_their_codes() {
        let mut w = with_group("Community");
        let r = exec(&mut w, "group_open_http_svc/get_group_counter", json!({"GroupId": "nope"}), NOW);
        assert_eq!(r.unwrap_err().code, named_code("group_open_http_svc/get_group_counter", "GroupNotFound"));
        let r = exec(&mut w, "group_open_http_svc/get_group_counter", json!({"GroupId": "@TGS#_g1"}), NOW);
        assert_eq!(r.unwrap_err().code, named_code("group_open_http_svc/get_group_counter", "NoPermission"));
    }
}
