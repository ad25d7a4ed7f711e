//! The inspector page (`/__tim/ui`) and the read-only views of the state it
//! shows (`/__tim/view/...`). Each view is a JSON document sized for one
//! screen: lists are paged (`offset`, `limit`, at most [`MAX_PAGE`]), so a
//! state with 10,000 accounts or a group of 5,000 members stays quick to
//! show.
//!
//! | request | document |
//! |---|---|
//! | `GET /__tim/view/summary` | how many accounts, groups, messages, ... |
//! | `GET /__tim/view/accounts?q=&offset=&limit=` | accounts whose UserID contains `q` |
//! | `GET /__tim/view/account?id=` | an account: profile, conversations with unread counts, groups |
//! | `GET /__tim/view/c2c?a=&b=&offset=&limit=` | the messages of two accounts, the newest page first, and each side's unread count |
//! | `GET /__tim/view/friends?id=` | an account's friends and blocklist |
//! | `GET /__tim/view/groups?q=&offset=&limit=` | groups whose ID or name contains `q` |
//! | `GET /__tim/view/group?id=&offset=&limit=` | a group: profile, members (paged) with role and unread count, latest messages, mutes, attributes, counters, topics |
//!
//! The page itself is three files embedded in the binary, served without
//! credentials (they hold no data); everything it shows comes from the
//! control API, which asks for credentials where the rest of it does.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tim_runtime::api::types::{MsgBody, MsgBodyElem};

use crate::world::accounts::TAG_NICK;
use crate::world::groups::GroupMessage;
use crate::World;

/// Most entries one page of a view holds.
pub const MAX_PAGE: usize = 500;

/// Entries a page holds when the request does not say.
const DEFAULT_PAGE: usize = 100;

/// Messages of a group the group view shows.
const GROUP_MESSAGES: usize = 50;

/// An embedded file of the page: its content type and bytes.
pub(super) fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    match name {
        "" | "index.html" => Some(("text/html; charset=utf-8", include_bytes!("ui/index.html"))),
        "app.js" => Some(("text/javascript; charset=utf-8", include_bytes!("ui/app.js"))),
        "style.css" => Some(("text/css; charset=utf-8", include_bytes!("ui/style.css"))),
        _ => None,
    }
}

/// The query parameters of a view request.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(raw: &str) -> Self {
        Self(tim_core::query::parse(raw))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A parameter's text ("" when absent).
    pub(super) fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// A whole-number parameter, if given.
    pub(super) fn number(&self, name: &str) -> Result<Option<usize>, String> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| format!("{name} must be a whole number, not {v:?}")),
        }
    }

    /// `offset` and `limit` (at most [`MAX_PAGE`]).
    fn page(&self) -> Result<(usize, usize), String> {
        let offset = self.number("offset")?.unwrap_or(0);
        let limit = self.number("limit")?.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(format!("limit is 1 to {MAX_PAGE}"));
        }
        Ok((offset, limit))
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| format!("the view needs `{name}`"))
    }
}

/// The document of view `name`, or what is wrong with the request (`None`:
/// no such view).
pub(super) fn view(world: &World, name: &str, q: &Query, now: u64) -> Option<Result<Vec<u8>, String>> {
    let doc = match name {
        "summary" => Ok(to_vec(&summary(world))),
        "accounts" => accounts(world, q).map(|d| to_vec(&d)),
        "account" => account(world, q, now).map(|d| to_vec(&d)),
        "c2c" => c2c(world, q).map(|d| to_vec(&d)),
        "friends" => friends(world, q).map(|d| to_vec(&d)),
        "groups" => groups(world, q).map(|d| to_vec(&d)),
        "group" => group(world, q, now).map(|d| to_vec(&d)),
        _ => return None,
    };
    Some(doc)
}

fn to_vec<T: Serialize>(doc: &T) -> Vec<u8> {
    serde_json::to_vec(doc).unwrap_or_default()
}

/// A page of `items`, with the count of all of them.
#[derive(Serialize)]
struct Page<T> {
    total: usize,
    items: Vec<T>,
}

fn page<T, U>(
    items: impl Iterator<Item = T>,
    (offset, limit): (usize, usize),
    f: impl Fn(T) -> U,
) -> Page<U> {
    let mut total = 0;
    let mut out = Vec::new();
    for item in items {
        if total >= offset && out.len() < limit {
            out.push(f(item));
        }
        total += 1;
    }
    Page { total, items: out }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    accounts: usize,
    one_to_one_conversations: usize,
    one_to_one_messages: usize,
    groups: usize,
    group_messages: usize,
    friendships: usize,
}

fn summary(w: &World) -> Summary {
    let threads = w.c2c.threads.values().flat_map(|inner| inner.values());
    Summary {
        accounts: w.accounts.accounts.len(),
        one_to_one_conversations: threads.clone().count(),
        one_to_one_messages: threads.map(|t| t.messages.len()).sum(),
        groups: w.groups.groups.len(),
        group_messages: w.groups.groups.values().map(|g| g.messages.len()).sum(),
        friendships: w.friends.users.values().map(|u| u.friends.len()).sum(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountRow<'a> {
    #[serde(rename = "UserID")]
    user_id: &'a str,
    nick: Option<&'a str>,
    profile_fields: usize,
}

fn accounts<'w>(w: &'w World, q: &Query) -> Result<Page<AccountRow<'w>>, String> {
    let needle = q.text("q");
    let matching = w.accounts.accounts.iter().filter(|(id, _)| id.contains(needle));
    Ok(page(matching, q.page()?, |(id, a)| AccountRow {
        user_id: id,
        nick: a.profile.get(TAG_NICK).and_then(Value::as_str),
        profile_fields: a.profile.len(),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountDoc<'a> {
    #[serde(rename = "exists")]
    exists: bool,
    #[serde(rename = "UserID")]
    user_id: &'a str,
    profile: BTreeMap<&'a str, &'a Value>,
    conversations: Vec<ConversationRow>,
    groups: Vec<MembershipRow<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConversationRow {
    peer: String,
    last_msg_time: u64,
    unread: u64,
    peer_unread: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MembershipRow<'a> {
    group_id: &'a str,
    name: &'a str,
    #[serde(rename = "Type")]
    group_type: &'a str,
    role: &'a str,
    unread: u64,
}

fn account<'w>(w: &'w World, q: &'w Query, _now: u64) -> Result<AccountDoc<'w>, String> {
    let id = q.required("id")?;
    let Some(a) = w.accounts.accounts.get(id) else {
        return Ok(AccountDoc {
            exists: false,
            user_id: id,
            profile: BTreeMap::new(),
            conversations: Vec::new(),
            groups: Vec::new(),
        });
    };
    let mut conversations: Vec<ConversationRow> = w
        .c2c
        .conversations_of(id)
        .into_iter()
        .map(|c| ConversationRow {
            peer_unread: w.c2c.unread(&c.peer, id),
            peer: c.peer,
            last_msg_time: c.last_msg_time,
            unread: c.unread,
        })
        .collect();
    conversations.sort_by(|a, b| b.last_msg_time.cmp(&a.last_msg_time).then_with(|| a.peer.cmp(&b.peer)));
    let groups = w
        .groups
        .groups
        .iter()
        .filter_map(|(gid, g)| {
            let m = g.member(id)?;
            Some(MembershipRow {
                group_id: gid,
                name: &g.name,
                group_type: &g.group_type,
                role: &m.role,
                unread: g.unread_of(id).unwrap_or(0),
            })
        })
        .collect();
    Ok(AccountDoc {
        exists: true,
        user_id: id,
        profile: a.profile.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        conversations,
        groups,
    })
}

/// A message as the page lists it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MessageRow<'a> {
    from: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_seq: Option<u64>,
    /// The `MsgType` of each element.
    elements: Vec<&'a str>,
    /// The text of its text elements.
    text: String,
    recalled: bool,
    unread: bool,
    peer_read: bool,
}

fn text_of(body: &MsgBody) -> String {
    let texts: Vec<&str> = body
        .iter()
        .filter_map(|e| match e {
            MsgBodyElem::Text(t) => t.text.as_deref(),
            _ => None,
        })
        .collect();
    texts.join(" ")
}

fn elements(body: &MsgBody) -> Vec<&str> {
    body.iter().map(MsgBodyElem::tag).collect()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct C2cDoc<'a> {
    a: &'a str,
    b: &'a str,
    unread_a: u64,
    unread_b: u64,
    #[serde(rename = "total")]
    total: usize,
    /// Oldest first; the page counts back from the newest message.
    messages: Vec<MessageRow<'a>>,
}

fn c2c<'w>(w: &'w World, q: &'w Query) -> Result<C2cDoc<'w>, String> {
    let (a, b) = (q.required("a")?, q.required("b")?);
    let (offset, limit) = q.page()?;
    let all = w.c2c.messages_between(a, b);
    let end = all.len().saturating_sub(offset);
    let start = end.saturating_sub(limit);
    let messages = all
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|m| MessageRow {
            from: &m.from,
            to: Some(&m.to),
            time: m.time,
            msg_key: Some(&m.key),
            msg_seq: Some(m.seq),
            elements: elements(&m.body),
            text: text_of(&m.body),
            recalled: m.recalled,
            unread: m.unread,
            peer_read: m.peer_read,
        })
        .collect();
    Ok(C2cDoc {
        a,
        b,
        unread_a: w.c2c.unread(a, b),
        unread_b: w.c2c.unread(b, a),
        total: all.len(),
        messages,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FriendsDoc<'a> {
    friends: Vec<FriendRow<'a>>,
    blocklist: Vec<BlockedRow<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FriendRow<'a> {
    #[serde(rename = "UserID")]
    user_id: &'a str,
    remark: &'a str,
    groups: &'a [String],
    add_time: u64,
    mutual: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BlockedRow<'a> {
    #[serde(rename = "UserID")]
    user_id: &'a str,
    since: u64,
}

fn friends<'w>(w: &'w World, q: &'w Query) -> Result<FriendsDoc<'w>, String> {
    let id = q.required("id")?;
    let Some(user) = w.friends.users.get(id) else {
        return Ok(FriendsDoc { friends: Vec::new(), blocklist: Vec::new() });
    };
    let friends = user
        .friends
        .iter()
        .map(|(other, f)| FriendRow {
            user_id: other,
            remark: &f.remark,
            groups: &f.groups,
            add_time: f.add_time,
            mutual: w.friends.is_friend(other, id),
        })
        .collect();
    let blocklist =
        user.blocklist.iter().map(|(other, b)| BlockedRow { user_id: other, since: b.added_at }).collect();
    Ok(FriendsDoc { friends, blocklist })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRow<'a> {
    group_id: &'a str,
    name: &'a str,
    #[serde(rename = "Type")]
    group_type: &'a str,
    owner: Option<&'a str>,
    member_num: usize,
    msg_seq: u64,
}

fn groups<'w>(w: &'w World, q: &Query) -> Result<Page<GroupRow<'w>>, String> {
    let needle = q.text("q");
    let matching = w.groups.groups.iter().filter(|(id, g)| id.contains(needle) || g.name.contains(needle));
    Ok(page(matching, q.page()?, |(id, g)| GroupRow {
        group_id: id,
        name: &g.name,
        group_type: &g.group_type,
        owner: g.owner.as_deref(),
        member_num: g.members.len(),
        msg_seq: g.msg_seq,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDoc<'a> {
    #[serde(rename = "exists")]
    exists: bool,
    group_id: &'a str,
    name: &'a str,
    #[serde(rename = "Type")]
    group_type: &'a str,
    owner: Option<&'a str>,
    msg_seq: u64,
    mute_all: bool,
    members: Page<MemberRow<'a>>,
    /// The latest messages, by `MsgSeq`.
    messages: Vec<MessageRow<'a>>,
    attributes: Option<&'a BTreeMap<String, String>>,
    counters: Option<&'a BTreeMap<String, i64>>,
    topics: Vec<TopicRow<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MemberRow<'a> {
    account: &'a str,
    role: &'a str,
    unread: u64,
    muted_until: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TopicRow<'a> {
    topic_id: &'a str,
    name: &'a str,
    msg_seq: u64,
}

fn group_message(m: &GroupMessage) -> MessageRow<'_> {
    MessageRow {
        from: &m.from,
        to: None,
        time: m.time,
        msg_key: None,
        msg_seq: Some(m.seq),
        elements: elements(&m.body),
        text: text_of(&m.body),
        recalled: m.recalled,
        unread: false,
        peer_read: false,
    }
}

fn group<'w>(w: &'w World, q: &'w Query, now: u64) -> Result<GroupDoc<'w>, String> {
    let id = q.required("id")?;
    let range = q.page()?;
    let Some(g) = w.groups.get(id) else {
        return Ok(GroupDoc {
            exists: false,
            group_id: id,
            name: "",
            group_type: "",
            owner: None,
            msg_seq: 0,
            mute_all: false,
            members: Page { total: 0, items: Vec::new() },
            messages: Vec::new(),
            attributes: None,
            counters: None,
            topics: Vec::new(),
        });
    };
    let members = page(g.members.iter(), range, |m| MemberRow {
        account: &m.account,
        role: &m.role,
        unread: g.unread_of(&m.account).unwrap_or(0),
        muted_until: g.muted_until(&m.account, now),
    });
    let start = g.messages.len().saturating_sub(GROUP_MESSAGES);
    let messages = g.messages.get(start..).unwrap_or_default().iter().map(group_message).collect();
    let topics = g
        .topics
        .iter()
        .map(|(tid, t)| TopicRow { topic_id: tid, name: &t.name, msg_seq: t.msg_seq })
        .collect();
    Ok(GroupDoc {
        exists: true,
        group_id: id,
        name: &g.name,
        group_type: &g.group_type,
        owner: g.owner.as_deref(),
        msg_seq: g.msg_seq,
        mute_all: g.mute_all_member,
        members,
        messages,
        attributes: Some(&g.attributes),
        counters: Some(&g.counters),
        topics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let mut w = World::new("admin");
        for i in 0..250 {
            w.accounts.ensure(&format!("user{i:03}"));
        }
        w
    }

    fn doc(w: &World, name: &str, query: &str) -> Value {
        let bytes = view(w, name, &Query::parse(query), 0).expect("a view").expect("a document");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[test]
    fn account_pages_hold_the_asked_slice_and_the_total() {
        let w = world();
        let d = doc(&w, "accounts", "q=user&offset=200&limit=100");
        assert_eq!(d["total"], 250);
        assert_eq!(d["items"].as_array().map(Vec::len), Some(50));
        assert_eq!(d["items"][0]["UserID"], "user200");
        let d = doc(&w, "accounts", "q=user01");
        assert_eq!(d["total"], 10);
    }

    #[test]
    fn bad_paging_and_missing_ids_are_named() {
        let w = world();
        let err = view(&w, "accounts", &Query::parse("limit=100000"), 0).unwrap().unwrap_err();
        assert!(err.contains("limit"), "{err}");
        let err = view(&w, "accounts", &Query::parse("offset=-1"), 0).unwrap().unwrap_err();
        assert!(err.contains("offset"), "{err}");
        let err = view(&w, "account", &Query::parse(""), 0).unwrap().unwrap_err();
        assert!(err.contains("`id`"), "{err}");
        assert!(view(&w, "nothing", &Query::parse(""), 0).is_none());
        assert_eq!(doc(&w, "account", "id=ghost")["exists"], false);
        assert_eq!(doc(&w, "group", "id=ghost")["exists"], false);
    }

    #[test]
    fn the_page_is_embedded() {
        for name in ["", "index.html", "app.js", "style.css"] {
            let (kind, bytes) = asset(name).unwrap_or_else(|| panic!("{name}"));
            assert!(!bytes.is_empty() && kind.contains('/'));
        }
        let (_, html) = asset("").unwrap();
        let html = std::str::from_utf8(html).unwrap();
        assert!(html.contains(r#"<script type="module" src="/__tim/ui/app.js">"#));
        assert!(asset("../Cargo.toml").is_none());
    }
}
