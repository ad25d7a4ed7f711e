//! Chatbots and follows: chatbot accounts (`openim_robot_http_svc`), which
//! are accounts marked as robots, and one-way follow relations (`follow`)
//! with their lists and counts.
//!
//! An account that does not exist gets the account-not-found code as its
//! per-item result; following oneself is refused the same way as an
//! invalid item.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_runtime::api::follow::{follow_add, follow_check, follow_delete, follow_get, follow_get_info};
use tim_runtime::api::openim_robot_http_svc::{create_robot, delete_robot, get_all_robots};
use tim_runtime::api::types::FriendResultItem;
use tim_runtime::ErrorRole;

use super::accounts::{TAG_IMAGE, TAG_NICK, TAG_SELF_SIGNATURE};
use super::typed::{route, Route, Typed};
use super::{Call, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(create_robot::Request, create),
    route!(delete_robot::Request, delete),
    route!(get_all_robots::Request, list_robots),
    route!(follow_add::Request, follow),
    route!(follow_delete::Request, unfollow),
    route!(follow_check::Request, check),
    route!(follow_get::Request, list),
    route!(follow_get_info::Request, counts),
];

/// Who follows whom.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Follows {
    /// For each follower, the accounts it follows and since when (Unix
    /// seconds).
    pub following: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Follows {
    /// Whether `from` follows `to`.
    pub fn follows(&self, from: &str, to: &str) -> bool {
        self.following.get(from).is_some_and(|f| f.contains_key(to))
    }

    /// The followers of `id`, with when they followed.
    fn followers(&self, id: &str) -> Vec<(&str, u64)> {
        self.following.iter().filter_map(|(from, f)| f.get(id).map(|t| (from.as_str(), *t))).collect()
    }

    /// Removes every relation naming `id`.
    pub fn forget_account(&mut self, id: &str) {
        self.following.remove(id);
        for f in self.following.values_mut() {
            f.remove(id);
        }
        self.following.retain(|_, f| !f.is_empty());
    }

    /// Whether a relation names `id`.
    pub fn mentions_account(&self, id: &str) -> bool {
        self.following.contains_key(id) || self.following.values().any(|f| f.contains_key(id))
    }
}

fn create(w: &mut World, call: &Call<'_>, req: create_robot::Request) -> Typed<create_robot::Request> {
    if w.accounts.exists(&req.user_id) {
        return Err(call.refuse(ErrorRole::AlreadyExists, format!("account {} exists already", req.user_id)));
    }
    w.accounts.ensure(&req.user_id);
    if let Some(a) = w.accounts.accounts.get_mut(&req.user_id) {
        a.robot = true;
        for (tag, value) in
            [(TAG_NICK, req.nick), (TAG_IMAGE, req.face_url), (TAG_SELF_SIGNATURE, req.self_signature)]
        {
            if let Some(v) = value {
                a.profile.insert(tag.to_owned(), v.into());
            }
        }
    }
    Ok(create_robot::Response::new().into())
}

fn delete(w: &mut World, call: &Call<'_>, req: delete_robot::Request) -> Typed<delete_robot::Request> {
    if !w.accounts.accounts.get(&req.robot_account).is_some_and(|a| a.robot) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("no chatbot {}", req.robot_account)));
    }
    w.forget_account(&req.robot_account);
    Ok(delete_robot::Response::new().into())
}

fn list_robots(
    w: &mut World,
    _call: &Call<'_>,
    _req: get_all_robots::Request,
) -> Typed<get_all_robots::Request> {
    let robots: Vec<String> =
        w.accounts.accounts.iter().filter(|(_, a)| a.robot).map(|(id, _)| id.clone()).collect();
    Ok(get_all_robots::Response::new().robot_account(robots).into())
}

/// The per-item code for following `to` from `from`, 0 when allowed.
fn item_code(w: &World, call: &Call<'_>, from: &str, to: &str) -> (i64, String) {
    if !w.accounts.exists(to) {
        return (call.refuse(ErrorRole::AccountNotFound, "").code, format!("account {to} does not exist"));
    }
    if from == to {
        return (call.refuse(ErrorRole::InvalidField, "").code, "an account cannot follow itself".into());
    }
    (0, String::new())
}

fn sender(w: &World, call: &Call<'_>, from: &str) -> Result<(), super::Refusal> {
    if w.accounts.exists(from) {
        return Ok(());
    }
    Err(call.refuse(ErrorRole::AccountNotFound, format!("account {from} does not exist")))
}

fn follow(w: &mut World, call: &Call<'_>, req: follow_add::Request) -> Typed<follow_add::Request> {
    sender(w, call, &req.from_account)?;
    let mut results = Vec::new();
    for item in &req.follow_item {
        let (code, info) = item_code(w, call, &req.from_account, &item.to_account);
        if code == 0 {
            let mine = w.follows.following.entry(req.from_account.clone()).or_default();
            mine.entry(item.to_account.clone()).or_insert(call.now);
        }
        results.push(FriendResultItem::new(item.to_account.as_str(), code).result_info(info));
    }
    Ok(follow_add::Response::new().result_item(results).error_display("").into())
}

fn unfollow(w: &mut World, call: &Call<'_>, req: follow_delete::Request) -> Typed<follow_delete::Request> {
    sender(w, call, &req.from_account)?;
    let mut results = Vec::new();
    for to in &req.to_account {
        let (code, info) = item_code(w, call, &req.from_account, to);
        if code == 0 {
            if let Some(mine) = w.follows.following.get_mut(&req.from_account) {
                mine.remove(to);
            }
        }
        results.push(FriendResultItem::new(to.as_str(), code).result_info(info));
    }
    w.follows.following.retain(|_, f| !f.is_empty());
    Ok(follow_delete::Response::new().result_item(results).error_display("").into())
}

fn check(w: &mut World, call: &Call<'_>, req: follow_check::Request) -> Typed<follow_check::Request> {
    use follow_check::FollowRelation;
    sender(w, call, &req.from_account)?;
    let items = req
        .to_account
        .iter()
        .map(|to| {
            let item = follow_check::FollowCheckItem::new(to.as_str());
            if !w.accounts.exists(to) {
                let code = call.refuse(ErrorRole::AccountNotFound, "").code;
                return item.result_code(code).result_info(format!("account {to} does not exist"));
            }
            let relation =
                match (w.follows.follows(&req.from_account, to), w.follows.follows(to, &req.from_account)) {
                    (true, true) => FollowRelation::Mutual,
                    (true, false) => FollowRelation::Following,
                    (false, true) => FollowRelation::FollowedBy,
                    (false, false) => FollowRelation::None,
                };
            item.result_code(0i64).result_info("").follow_type(relation)
        })
        .collect::<Vec<_>>();
    Ok(follow_check::Response::new().result_item(items).error_display("").into())
}

fn list(w: &mut World, call: &Call<'_>, req: follow_get::Request) -> Typed<follow_get::Request> {
    use follow_get::FollowListType;
    sender(w, call, &req.from_account)?;
    let me = req.from_account.as_str();
    let following = || w.follows.following.get(me).into_iter().flatten().map(|(to, t)| (to.as_str(), *t));
    let mut all: Vec<(&str, u64)> = match req.follow_type {
        FollowListType::Followers => w.follows.followers(me),
        FollowListType::Following => following().collect(),
        _ => following().filter(|(to, _)| w.follows.follows(to, me)).collect(),
    };
    all.sort_unstable();
    // The cursor is the last UserID of the previous page.
    let start = req.start_cursor.as_str();
    let rest: Vec<&(&str, u64)> = all.iter().filter(|(id, _)| start.is_empty() || *id > start).collect();
    let want = usize::try_from(req.want_num.max(1)).unwrap_or(usize::MAX);
    let page: Vec<&(&str, u64)> = rest.iter().take(want).copied().collect();
    let next = if rest.len() > page.len() { page.last().map_or("", |(id, _)| *id) } else { "" };
    let entries =
        page.iter().map(|(id, t)| follow_get::FollowEntry::new(*id).follow_time(*t)).collect::<Vec<_>>();
    Ok(follow_get::Response::new().follow_item(entries).next_cursor(next).into())
}

fn counts(w: &mut World, call: &Call<'_>, req: follow_get_info::Request) -> Typed<follow_get_info::Request> {
    sender(w, call, &req.from_account)?;
    let infos = req
        .to_account
        .iter()
        .map(|id| {
            let info = follow_get_info::FollowInfo::new(id.as_str());
            if !w.accounts.exists(id) {
                let code = call.refuse(ErrorRole::AccountNotFound, "").code;
                return info.result_code(code).result_info(format!("account {id} does not exist"));
            }
            let following = w.follows.following.get(id.as_str());
            let mutual = following.map_or(0, |f| f.keys().filter(|to| w.follows.follows(to, id)).count());
            info.result_code(0i64)
                .result_info("")
                .follower_count(w.follows.followers(id).len() as u64)
                .following_count(following.map_or(0, |f| f.len()) as u64)
                .mutual_following_count(mutual as u64)
        })
        .collect::<Vec<_>>();
    Ok(follow_get_info::Response::new().follow_info(infos).error_display("").into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, world};

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn robots_are_accounts_marked_as_such() {
        let mut w = world(&[]);
        exec_ok(
            &mut w,
            "openim_robot_http_svc/create_robot",
            json!({"UserID": "@RBT#1", "Nick": "Jarvis"}),
            NOW,
        );
        assert!(w.accounts.exists("@RBT#1"));
        assert!(exec(&mut w, "openim_robot_http_svc/create_robot", json!({"UserID": "@RBT#1"}), NOW).is_err());
        let r = exec_ok(&mut w, "openim_robot_http_svc/get_all_robots", json!({}), NOW).body();
        assert_eq!(r["Robot_Account"], json!(["@RBT#1"]));
        exec_ok(&mut w, "openim_robot_http_svc/delete_robot", json!({"Robot_Account": "@RBT#1"}), NOW);
        assert!(!w.accounts.exists("@RBT#1"));
    }

    #[test]
    fn follows_listed_checked_counted_and_paged() {
        let mut w = world(&["a", "b", "c", "d"]);
        let add = |to: &[&str]| json!({"From_Account": "a", "FollowItem": to.iter().map(|t| json!({"To_Account": t})).collect::<Vec<_>>()});
        let r = exec_ok(&mut w, "follow/follow_add", add(&["b", "c", "ghost", "a"]), NOW).body();
        let codes: Vec<i64> =
            r["ResultItem"].as_array().unwrap().iter().map(|i| i["ResultCode"].as_i64().unwrap()).collect();
        assert_eq!(codes[..2], [0, 0]);
        assert!(codes[2] != 0 && codes[3] != 0);
        exec_ok(
            &mut w,
            "follow/follow_add",
            json!({"From_Account": "b", "FollowItem": [{"To_Account": "a"}]}),
            NOW,
        );
        let r = exec_ok(
            &mut w,
            "follow/follow_check",
            json!({"From_Account": "a", "To_Account": ["b", "c", "d"]}),
            NOW,
        )
        .body();
        let kinds: Vec<i64> =
            r["ResultItem"].as_array().unwrap().iter().map(|i| i["FollowType"].as_i64().unwrap()).collect();
        assert_eq!(kinds, [3, 2, 0]);
        let r = exec_ok(
            &mut w,
            "follow/follow_get_info",
            json!({"From_Account": "a", "To_Account": ["a", "b"]}),
            NOW,
        )
        .body();
        assert_eq!(r["FollowInfo"][0]["FollowingCount"], 2);
        assert_eq!(r["FollowInfo"][0]["FollowerCount"], 1);
        assert_eq!(r["FollowInfo"][0]["MutualFollowingCount"], 1);
        // Paging by cursor: one at a time, nothing missed or repeated.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let q = json!({"From_Account": "a", "FollowType": 2, "StartCursor": cursor, "WantNum": 1});
            let r = exec_ok(&mut w, "follow/follow_get", q, NOW).body();
            seen.extend(
                r["FollowItem"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["To_Account"].as_str().unwrap().to_owned()),
            );
            cursor = r["NextCursor"].as_str().unwrap().to_owned();
            if cursor.is_empty() {
                break;
            }
        }
        assert_eq!(seen, ["b", "c"]);
        exec_ok(&mut w, "follow/follow_delete", json!({"From_Account": "a", "To_Account": ["b"]}), NOW);
        assert!(!w.follows.follows("a", "b"));
        w.forget_account("c");
        assert!(!w.follows.mentions_account("c"));
    }
}
