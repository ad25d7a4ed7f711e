//! All-member push: the app's attribute names, users' attribute values and
//! tags, and push tasks (`im_push`) sent to the users a condition selects.
//!
//! A push is recorded as a task with the users it reached (see
//! [`PushTask`]); it does not add one-to-one messages, as the service
//! delivers it as a system push, not a conversation message. The interval
//! between pushes and the daily quota are the spec's `limits`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tim_runtime::api::all_member_push::{
    im_add_tag, im_get_attr, im_get_attr_name, im_get_tag, im_push, im_remove_all_tags, im_remove_attr,
    im_remove_tag, im_set_attr, im_set_attr_name,
};

use super::typed::{route, Route, Typed};
use super::{Call, Refusal, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(im_push::Request, push),
    route!(im_set_attr_name::Request, set_attr_names),
    route!(im_get_attr_name::Request, get_attr_names),
    route!(im_set_attr::Request, set_attrs),
    route!(im_get_attr::Request, get_attrs),
    route!(im_remove_attr::Request, remove_attrs),
    route!(im_add_tag::Request, add_tags),
    route!(im_get_tag::Request, get_tags),
    route!(im_remove_tag::Request, remove_tags),
    route!(im_remove_all_tags::Request, remove_all_tags),
];

/// Push attributes, tags and tasks.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Push {
    /// Attribute names by number (`"0"` to `"9"`).
    pub attr_names: BTreeMap<String, String>,
    /// Attribute values by user, then by attribute name.
    pub attrs: BTreeMap<String, BTreeMap<String, String>>,
    /// Tags by user.
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Pushes sent, oldest first.
    pub tasks: Vec<PushTask>,
}

/// One push.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PushTask {
    /// `TaskId`.
    pub task_id: String,
    /// When (Unix seconds).
    pub time: u64,
    /// Sender shown.
    pub from: String,
    /// The users it reached.
    pub recipients: Vec<String>,
}

impl Push {
    /// Forgets a user's attributes and tags (account_delete).
    pub fn forget_account(&mut self, id: &str) {
        self.attrs.remove(id);
        self.tags.remove(id);
        for t in &mut self.tasks {
            t.recipients.retain(|r| r != id);
        }
    }

    /// Whether attributes, tags or a task name `id`.
    pub fn mentions_account(&self, id: &str) -> bool {
        self.attrs.contains_key(id)
            || self.tags.contains_key(id)
            || self.tasks.iter().any(|t| t.recipients.iter().any(|r| r == id))
    }
}

fn push(w: &mut World, call: &Call<'_>, req: im_push::Request) -> Typed<im_push::Request> {
    let cond = req.condition.unwrap_or_else(im_push::PushCondition::new);
    let attrs_or = cond.attrs_or.unwrap_or_default();
    let attrs_and = cond.attrs_and.unwrap_or_default();
    let tags_or = cond.tags_or.unwrap_or_default();
    let tags_and = cond.tags_and.unwrap_or_default();
    let has_attrs = !attrs_or.is_empty() || !attrs_and.is_empty();
    if has_attrs && (!tags_or.is_empty() || !tags_and.is_empty()) {
        return Err(
            call.refuse_named("AttrsAndTagsExclusive", "attribute and tag conditions cannot be combined")
        );
    }
    if tags_or.iter().chain(&tags_and).any(String::is_empty) {
        return Err(call.refuse_named("EmptyTag", "a tag in the condition is empty"));
    }
    if tags_or.iter().any(|t| tags_and.contains(t)) {
        return Err(call.refuse_named("DuplicateTags", "TagsOr and TagsAnd repeat a tag"));
    }
    let named: BTreeSet<&String> = w.push.attr_names.values().collect();
    if let Some(a) = attrs_or.keys().chain(attrs_and.keys()).find(|a| !named.contains(a)) {
        return Err(call.refuse_named("InvalidAttribute", format!("no attribute is named {a}")));
    }
    let today = call.now / 86_400;
    let last = w.push.tasks.last().map(|t| t.time);
    // Pushes must be more than the limit's seconds apart.
    if let (Some(last), Some(gap)) = (last, call.meta.limit("seconds_between_pushes")) {
        if call.now.saturating_sub(last) <= gap.max {
            let info = format!("pushes must be more than {} s apart", gap.max);
            return Err(Refusal { code: gap.code.unwrap_or(-1), info });
        }
    }
    let sent_today = w.push.tasks.iter().filter(|t| t.time / 86_400 == today).count() as u64;
    call.within_limit("pushes_per_day", sent_today + 1, "pushes today")?;
    let p = &w.push;
    let matches = |id: &String| {
        let attrs = p.attrs.get(id);
        let tags = p.tags.get(id);
        let attr_is = |k: &String, v: &String| attrs.and_then(|a| a.get(k)) == Some(v);
        let tagged = |t: &String| tags.is_some_and(|s| s.contains(t));
        (attrs_or.is_empty() || attrs_or.iter().any(|(k, v)| attr_is(k, v)))
            && attrs_and.iter().all(|(k, v)| attr_is(k, v))
            && (tags_or.is_empty() || tags_or.iter().any(tagged))
            && tags_and.iter().all(tagged)
    };
    let from = req.from_account.unwrap_or_else(|| call.operator.to_owned());
    let recipients: Vec<String> =
        w.accounts.ids().into_iter().filter(|id| *id != from && matches(id)).collect();
    let task_id = format!("{}_{}_{}", from, req.msg_random, call.now);
    w.push.tasks.push(PushTask { task_id: task_id.clone(), time: call.now, from, recipients });
    Ok(im_push::Response::new().task_id(task_id).into())
}

fn set_attr_names(
    w: &mut World,
    _call: &Call<'_>,
    req: im_set_attr_name::Request,
) -> Typed<im_set_attr_name::Request> {
    for (number, name) in req.attr_names {
        if name.is_empty() {
            w.push.attr_names.remove(&number);
        } else {
            w.push.attr_names.insert(number, name);
        }
    }
    Ok(im_set_attr_name::Response::new().into())
}

fn get_attr_names(
    w: &mut World,
    _call: &Call<'_>,
    _req: im_get_attr_name::Request,
) -> Typed<im_get_attr_name::Request> {
    Ok(im_get_attr_name::Response::new().attr_names(w.push.attr_names.clone()).into())
}

/// Refuses a call naming an account that does not exist.
fn accounts_exist<'a>(
    w: &World,
    call: &Call<'_>,
    mut ids: impl Iterator<Item = &'a String>,
) -> Result<(), Refusal> {
    match ids.find(|id| !w.accounts.exists(id)) {
        Some(id) => {
            Err(call.refuse(tim_runtime::ErrorRole::AccountNotFound, format!("account {id} does not exist")))
        }
        None => Ok(()),
    }
}

fn set_attrs(w: &mut World, call: &Call<'_>, req: im_set_attr::Request) -> Typed<im_set_attr::Request> {
    accounts_exist(w, call, req.user_attrs.iter().map(|u| &u.to_account))?;
    let named: BTreeSet<String> = w.push.attr_names.values().cloned().collect();
    if let Some(bad) = req.user_attrs.iter().flat_map(|u| u.attrs.keys()).find(|k| !named.contains(*k)) {
        return Err(call.refuse_named(
            "InvalidAttribute",
            format!("no attribute is named {bad} (name it with im_set_attr_name)"),
        ));
    }
    for u in req.user_attrs {
        w.push.attrs.entry(u.to_account).or_default().extend(u.attrs);
    }
    Ok(im_set_attr::Response::new().into())
}

fn get_attrs(w: &mut World, _call: &Call<'_>, req: im_get_attr::Request) -> Typed<im_get_attr::Request> {
    let list = req
        .to_account
        .iter()
        .map(|id| {
            im_get_attr::UserAttrs::new()
                .to_account(id.as_str())
                .attrs(w.push.attrs.get(id).cloned().unwrap_or_default())
        })
        .collect::<Vec<_>>();
    Ok(im_get_attr::Response::new().user_attrs(list).into())
}

fn remove_attrs(
    w: &mut World,
    _call: &Call<'_>,
    req: im_remove_attr::Request,
) -> Typed<im_remove_attr::Request> {
    for u in req.user_attrs {
        if let Some(attrs) = w.push.attrs.get_mut(&u.to_account) {
            for a in &u.attrs {
                attrs.remove(a);
            }
        }
    }
    w.push.attrs.retain(|_, a| !a.is_empty());
    Ok(im_remove_attr::Response::new().into())
}

fn add_tags(w: &mut World, call: &Call<'_>, req: im_add_tag::Request) -> Typed<im_add_tag::Request> {
    accounts_exist(w, call, req.user_tags.iter().map(|u| &u.to_account))?;
    for u in req.user_tags {
        w.push.tags.entry(u.to_account).or_default().extend(u.tags);
    }
    Ok(im_add_tag::Response::new().into())
}

fn get_tags(w: &mut World, _call: &Call<'_>, req: im_get_tag::Request) -> Typed<im_get_tag::Request> {
    let list = req
        .to_account
        .iter()
        .map(|id| {
            let tags: Vec<String> =
                w.push.tags.get(id).map(|t| t.iter().cloned().collect()).unwrap_or_default();
            im_get_tag::UserTags::new().to_account(id.as_str()).tags(tags)
        })
        .collect::<Vec<_>>();
    Ok(im_get_tag::Response::new().user_tags(list).into())
}

fn remove_tags(
    w: &mut World,
    _call: &Call<'_>,
    req: im_remove_tag::Request,
) -> Typed<im_remove_tag::Request> {
    for u in req.user_tags {
        if let Some(tags) = w.push.tags.get_mut(&u.to_account) {
            for t in &u.tags {
                tags.remove(t);
            }
        }
    }
    w.push.tags.retain(|_, t| !t.is_empty());
    Ok(im_remove_tag::Response::new().into())
}

fn remove_all_tags(
    w: &mut World,
    _call: &Call<'_>,
    req: im_remove_all_tags::Request,
) -> Typed<im_remove_all_tags::Request> {
    for id in &req.to_account {
        w.push.tags.remove(id);
    }
    Ok(im_remove_all_tags::Response::new().into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, named_code, world};

    const NOW: u64 = 1_700_000_000;

    fn push(cond: serde_json::Value) -> serde_json::Value {
        json!({"MsgRandom": 1, "Condition": cond, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]})
    }

    #[test]
    fn attributes_and_tags_select_who_a_push_reaches() {
        let mut w = world(&["u1", "u2", "u3"]);
        let bad = json!({"UserAttrs": [{"To_Account": "u1", "Attrs": {"city": "sz"}}]});
        assert_eq!(
            exec(&mut w, "all_member_push/im_set_attr", bad.clone(), NOW).unwrap_err().code,
            named_code("all_member_push/im_set_attr", "InvalidAttribute")
        );
        exec_ok(&mut w, "all_member_push/im_set_attr_name", json!({"AttrNames": {"0": "city"}}), NOW);
        exec_ok(&mut w, "all_member_push/im_set_attr", bad, NOW);
        let names = exec_ok(&mut w, "all_member_push/im_get_attr_name", json!({}), NOW).body();
        assert_eq!(names["AttrNames"], json!({"0": "city"}));
        let got =
            exec_ok(&mut w, "all_member_push/im_get_attr", json!({"To_Account": ["u1", "u2"]}), NOW).body();
        assert_eq!(
            got["UserAttrs"],
            json!([{"To_Account": "u1", "Attrs": {"city": "sz"}}, {"To_Account": "u2", "Attrs": {}}])
        );
        exec_ok(
            &mut w,
            "all_member_push/im_add_tag",
            json!({"UserTags": [{"To_Account": "u2", "Tags": ["vip", "new"]}, {"To_Account": "u3", "Tags": ["new"]}]}),
            NOW,
        );
        let tags = exec_ok(&mut w, "all_member_push/im_get_tag", json!({"To_Account": ["u2"]}), NOW).body();
        assert_eq!(tags["UserTags"][0]["Tags"], json!(["new", "vip"]));

        exec_ok(&mut w, "all_member_push/im_push", push(json!({"AttrsAnd": {"city": "sz"}})), NOW);
        assert_eq!(w.push.tasks[0].recipients, ["u1"]);
        exec_ok(&mut w, "all_member_push/im_push", push(json!({"TagsOr": ["new"]})), NOW + 2);
        assert_eq!(w.push.tasks[1].recipients, ["u2", "u3"]);
        exec_ok(&mut w, "all_member_push/im_push", push(json!({"TagsAnd": ["new", "vip"]})), NOW + 4);
        assert_eq!(w.push.tasks[2].recipients, ["u2"]);
        let both = push(json!({"TagsOr": ["new"], "AttrsOr": {"city": "sz"}}));
        assert_eq!(
            exec(&mut w, "all_member_push/im_push", both, NOW + 6).unwrap_err().code,
            named_code("all_member_push/im_push", "AttrsAndTagsExclusive")
        );
        let soon = exec(&mut w, "all_member_push/im_push", push(json!({})), NOW + 4);
        assert_eq!(soon.unwrap_err().code, named_code("all_member_push/im_push", "PushTooFrequent"));

        exec_ok(
            &mut w,
            "all_member_push/im_remove_tag",
            json!({"UserTags": [{"To_Account": "u2", "Tags": ["vip"]}]}),
            NOW,
        );
        exec_ok(&mut w, "all_member_push/im_remove_all_tags", json!({"To_Account": ["u3"]}), NOW);
        exec_ok(
            &mut w,
            "all_member_push/im_remove_attr",
            json!({"UserAttrs": [{"To_Account": "u1", "Attrs": ["city"]}]}),
            NOW,
        );
        let tags =
            exec_ok(&mut w, "all_member_push/im_get_tag", json!({"To_Account": ["u2", "u3"]}), NOW).body();
        assert_eq!(
            tags["UserTags"],
            json!([{"To_Account": "u2", "Tags": ["new"]}, {"To_Account": "u3", "Tags": []}])
        );
    }

    #[test]
    fn the_daily_quota_comes_from_the_spec() {
        let mut w = world(&["u1"]);
        let quota =
            super::super::testing::meta("all_member_push/im_push").limit("pushes_per_day").unwrap().max;
        for i in 0..quota {
            exec_ok(&mut w, "all_member_push/im_push", push(json!({})), NOW + 2 * i);
        }
        let r = exec(&mut w, "all_member_push/im_push", push(json!({})), NOW + 2 * quota);
        assert_eq!(r.unwrap_err().code, named_code("all_member_push/im_push", "DailyPushQuotaExceeded"));
    }
}
