//! Random sequences of calls from every family against the emulator's
//! state (accounts, messages, groups, topics, permission groups, friends,
//! follows, official accounts, push, moderation, chatbots): nothing panics, every reply decodes as the endpoint's typed
//! response or one of its documented errors, and the invariants hold (unread
//! counts never negative and consistent, group `MsgSeq` strictly increasing,
//! a deleted account absent everywhere, the state file round-trips), and
//! every callback fired parses as its spec's payload.
//!
//! The calls go straight to [`World`] (the same code the mock server runs
//! after its checks), so many sequences fit in a CI run; set
//! `PROPTEST_CASES` for more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use tim_codegen::SpecSet;
use tim_emulator::world::{Call, Event, World};
use tim_runtime::api::callbacks::Callback;
use tim_runtime::callback::CallbackSet;
use tim_runtime::{dynamic, Error};

const ADMIN: &str = "administrator";
const USERS: usize = 5;
const GROUPS: usize = 3;
const TYPES: [&str; 5] = ["Private", "Public", "ChatRoom", "AVChatRoom", "Community"];

fn specs() -> &'static SpecSet {
    static SET: OnceLock<SpecSet> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        tim_codegen::load_dir(&dir, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn user(i: usize) -> String {
    format!("user{i}")
}

/// One call of the sequence, by indexes into small pools so that calls meet.
#[derive(Debug, Clone)]
enum Op {
    Import(usize),
    Delete(usize),
    Send { from: usize, to: usize },
    SetRead { reader: usize, peer: usize },
    Unread(usize),
    UnreadTotal(usize),
    CreateGroup { owner: usize, kind: usize, group: usize, member: usize },
    AddMember { group: usize, member: usize },
    DeleteMember { group: usize, member: usize },
    GroupSend { group: usize, from: usize },
    SetUnread { group: usize, member: usize, count: u32 },
    GroupInfo(usize),
    Destroy(usize),
    FriendAdd { a: usize, b: usize },
    FriendDelete { a: usize, b: usize },
    Block { a: usize, b: usize },
    ContactList(usize),
    Follow { a: usize, b: usize },
    Unfollow { a: usize, b: usize },
    GroupAttr { group: usize, key: usize },
    Counter { group: usize },
    CreateTopic { group: usize },
    TopicSend { group: usize, from: usize },
    PermissionGroup { group: usize },
    PermissionMember { group: usize, member: usize },
    OfficialCreate { owner: usize },
    Subscribe(usize),
    OfficialSend,
    PushTag(usize),
    Push,
    Keyword,
    Moderate,
    Robot(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let u = || 0..USERS;
    let g = || 0..GROUPS;
    prop_oneof![
        3 => u().prop_map(Op::Import),
        1 => u().prop_map(Op::Delete),
        4 => (u(), 1..USERS).prop_map(|(from, step)| Op::Send { from, to: (from + step) % USERS }),
        2 => (u(), u()).prop_map(|(reader, peer)| Op::SetRead { reader, peer }),
        1 => u().prop_map(Op::Unread),
        1 => u().prop_map(Op::UnreadTotal),
        2 => (u(), 0..TYPES.len(), g(), u()).prop_map(|(owner, kind, group, member)| Op::CreateGroup { owner, kind, group, member }),
        2 => (g(), u()).prop_map(|(group, member)| Op::AddMember { group, member }),
        1 => (g(), u()).prop_map(|(group, member)| Op::DeleteMember { group, member }),
        3 => (g(), u()).prop_map(|(group, from)| Op::GroupSend { group, from }),
        2 => (g(), u(), 0..8u32).prop_map(|(group, member, count)| Op::SetUnread { group, member, count }),
        1 => g().prop_map(Op::GroupInfo),
        1 => g().prop_map(Op::Destroy),
        2 => (u(), u()).prop_map(|(a, b)| Op::FriendAdd { a, b }),
        1 => (u(), u()).prop_map(|(a, b)| Op::FriendDelete { a, b }),
        1 => (u(), u()).prop_map(|(a, b)| Op::Block { a, b }),
        1 => u().prop_map(Op::ContactList),
        2 => (u(), u()).prop_map(|(a, b)| Op::Follow { a, b }),
        1 => (u(), u()).prop_map(|(a, b)| Op::Unfollow { a, b }),
        1 => (g(), 0..20usize).prop_map(|(group, key)| Op::GroupAttr { group, key }),
        1 => g().prop_map(|group| Op::Counter { group }),
        1 => g().prop_map(|group| Op::CreateTopic { group }),
        2 => (g(), u()).prop_map(|(group, from)| Op::TopicSend { group, from }),
        1 => g().prop_map(|group| Op::PermissionGroup { group }),
        1 => (g(), u()).prop_map(|(group, member)| Op::PermissionMember { group, member }),
        1 => u().prop_map(|owner| Op::OfficialCreate { owner }),
        1 => u().prop_map(Op::Subscribe),
        1 => Just(Op::OfficialSend),
        1 => u().prop_map(Op::PushTag),
        1 => Just(Op::Push),
        1 => Just(Op::Keyword),
        1 => Just(Op::Moderate),
        1 => (0..3usize).prop_map(Op::Robot),
    ]
}

fn text(t: &str) -> Value {
    json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": t}}])
}

/// Group ids by pool index and type: Community ids carry their prefix.
fn group_id(group: usize, kind: &str) -> String {
    if kind == "Community" {
        format!("@TGS#_prop{group}")
    } else {
        format!("prop{group}")
    }
}

/// The model's view of the sequence so far, for the invariants.
#[derive(Default)]
struct Model {
    /// Pool index → the id and type of the group created there, if any.
    groups: BTreeMap<usize, (String, String)>,
    /// Latest `MsgSeq` a send to each group answered.
    last_seq: BTreeMap<String, u64>,
    /// Accounts deleted and not imported since.
    deleted: BTreeSet<String>,
    /// Pool index → the topic created in that group, if any.
    topics: BTreeMap<usize, String>,
}

impl Model {
    fn group(&self, group: usize) -> String {
        self.groups.get(&group).map_or_else(|| group_id(group, "Public"), |(id, _)| id.clone())
    }
}

fn request(op: &Op, m: &Model) -> (&'static str, Value) {
    match *op {
        Op::Import(u) => {
            ("v4/im_open_login_svc/account_import", json!({"UserID": user(u), "Nick": format!("n{u}")}))
        }
        Op::Delete(u) => {
            ("v4/im_open_login_svc/account_delete", json!({"DeleteItem": [{"UserID": user(u)}]}))
        }
        Op::Send { from, to } => (
            "v4/openim/sendmsg",
            json!({"From_Account": user(from), "To_Account": user(to), "MsgRandom": 7, "MsgBody": text("hi")}),
        ),
        Op::SetRead { reader, peer } => (
            "v4/openim/admin_set_msg_read",
            json!({"Report_Account": user(reader), "Peer_Account": user(peer)}),
        ),
        Op::Unread(u) => {
            let peers: Vec<String> = (0..USERS).filter(|p| *p != u).map(user).collect();
            ("v4/openim/get_c2c_unread_msg_num", json!({"To_Account": user(u), "Peer_Account": peers}))
        }
        Op::UnreadTotal(u) => ("v4/openim/get_c2c_unread_msg_num", json!({"To_Account": user(u)})),
        Op::CreateGroup { owner, kind, group, member } => {
            let kind = TYPES[kind];
            let mut body = json!({"Owner_Account": user(owner), "Type": kind, "Name": "prop",
                                  "GroupId": group_id(group, kind)});
            if kind != "AVChatRoom" {
                body["MemberList"] = json!([{"Member_Account": user(member)}]);
            }
            if kind == "Community" {
                body["SupportTopic"] = json!(1);
            }
            ("v4/group_open_http_svc/create_group", body)
        }
        Op::AddMember { group, member } => (
            "v4/group_open_http_svc/add_group_member",
            json!({"GroupId": m.group(group), "MemberList": [{"Member_Account": user(member)}]}),
        ),
        Op::DeleteMember { group, member } => (
            "v4/group_open_http_svc/delete_group_member",
            json!({"GroupId": m.group(group), "MemberToDel_Account": [user(member)]}),
        ),
        Op::GroupSend { group, from } => (
            "v4/group_open_http_svc/send_group_msg",
            json!({"GroupId": m.group(group), "From_Account": user(from), "Random": 9, "MsgBody": text("g")}),
        ),
        Op::SetUnread { group, member, count } => (
            "v4/group_open_http_svc/set_unread_msg_num",
            json!({"GroupId": m.group(group), "Member_Account": user(member), "UnreadMsgNum": count}),
        ),
        Op::GroupInfo(group) => {
            ("v4/group_open_http_svc/get_group_info", json!({"GroupIdList": [m.group(group)]}))
        }
        Op::Destroy(group) => ("v4/group_open_http_svc/destroy_group", json!({"GroupId": m.group(group)})),
        Op::FriendAdd { a, b } => (
            "v4/sns/friend_add",
            json!({"From_Account": user(a), "AddFriendItem": [{"To_Account": user(b), "AddSource": "AddSource_Type_Test"}],
                   "AddType": "Add_Type_Both"}),
        ),
        Op::FriendDelete { a, b } => (
            "v4/sns/friend_delete",
            json!({"From_Account": user(a), "To_Account": [user(b)], "DeleteType": "Delete_Type_Both"}),
        ),
        Op::Block { a, b } => {
            ("v4/sns/black_list_add", json!({"From_Account": user(a), "To_Account": [user(b)]}))
        }
        Op::ContactList(u) => (
            "v4/recentcontact/get_list",
            json!({"From_Account": user(u), "TimeStamp": 0, "StartIndex": 0, "TopTimeStamp": 0, "TopStartIndex": 0,
                   "AssistFlags": 15}),
        ),
        Op::Follow { a, b } => (
            "v4/follow/follow_add",
            json!({"From_Account": user(a), "FollowItem": [{"To_Account": user(b)}]}),
        ),
        Op::Unfollow { a, b } => {
            ("v4/follow/follow_delete", json!({"From_Account": user(a), "To_Account": [user(b)]}))
        }
        Op::GroupAttr { group, key } => (
            "v4/group_open_http_svc/modify_group_attr",
            json!({"GroupId": m.group(group), "GroupAttr": [{"key": format!("k{key}"), "value": "v"}]}),
        ),
        Op::Counter { group } => (
            "v4/group_open_http_svc/update_group_counter",
            json!({"GroupId": m.group(group), "GroupCounter": [{"Key": "c", "Value": 1}], "Mode": "Increase"}),
        ),
        Op::CreateTopic { group } => (
            "v4/million_group_open_http_svc/create_topic",
            json!({"GroupId": m.group(group), "TopicName": "t"}),
        ),
        Op::TopicSend { group, from } => (
            "v4/group_open_http_svc/send_group_msg",
            json!({"GroupId": m.group(group), "TopicId": m.topics.get(&group).cloned().unwrap_or_else(|| "none".into()),
                   "From_Account": user(from), "Random": 3, "MsgBody": text("t")}),
        ),
        Op::PermissionGroup { group } => (
            "v4/group_open_http_svc/create_permission_group",
            json!({"GroupId": m.group(group), "PermissionGroupId": "@PMG#_prop", "PermissionGroupName": "p"}),
        ),
        Op::PermissionMember { group, member } => (
            "v4/group_open_http_svc/add_permission_group_member",
            json!({"GroupId": m.group(group), "PermissionGroupId": "@PMG#_prop", "MemberList": [{"Member_Account": user(member)}]}),
        ),
        Op::OfficialCreate { owner } => (
            "v4/official_account_open_http_svc/create_official_account",
            json!({"Owner_Account": user(owner), "OfficialAccountUserID": "@TOA#_prop", "Name": "o"}),
        ),
        Op::Subscribe(u) => (
            "v4/official_account_open_http_svc/add_subscriber",
            json!({"Official_Account": "@TOA#_prop", "SubscriberList": [{"Subscriber_Account": user(u)}]}),
        ),
        Op::OfficialSend => (
            "v4/official_account_open_http_svc/send_official_account_msg",
            json!({"Official_Account": "@TOA#_prop", "Random": 1, "MsgBody": text("o")}),
        ),
        Op::PushTag(u) => {
            ("v4/all_member_push/im_add_tag", json!({"UserTags": [{"To_Account": user(u), "Tags": ["t"]}]}))
        }
        Op::Push => (
            "v4/all_member_push/im_push",
            json!({"MsgRandom": 1, "Condition": {"TagsOr": ["t"]}, "MsgBody": text("p")}),
        ),
        Op::Keyword => (
            "v4/im_msg_audit_mgr/add_cloud_audit_keywords",
            json!({"SdkAppId": 1, "LibID": "lib", "UserKeywords": [{"Content": "hi", "Label": "Ad"}]}),
        ),
        Op::Moderate => (
            "v4/im_msg_audit/content_moderation",
            json!({"AuditName": "C2C", "ContentType": "Text", "Content": "hi there"}),
        ),
        Op::Robot(i) => ("v4/openim_robot_http_svc/create_robot", json!({"UserID": format!("@RBT#{i}")})),
    }
}

/// Runs one call through the world as the mock does with callbacks (before,
/// then handle), returning the reply body. With a `twin`, the same call
/// also runs there as the mock does without callbacks (one step, no
/// before-callback payloads), and the two replies must agree.
fn run(
    world: &mut World,
    twin: Option<&mut World>,
    path: &'static str,
    body: &Value,
) -> Result<Value, TestCaseError> {
    let entry = dynamic::find(tim_runtime::api::ENDPOINTS, path).ok_or_else(|| TestCaseError::fail(path))?;
    let bytes = serde_json::to_vec(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let canonical = (entry.parse_request)(&bytes)
        .map_err(|e| TestCaseError::fail(format!("{path}: the test built an invalid request: {e}")))?;
    let call = Call {
        meta: entry.meta,
        path: &path[3..],
        body: &canonical,
        operator: ADMIN,
        now: 1_700_000_000,
        sdkappid: 1_400_000_000,
        server: "127.0.0.1:8080",
        ticket: None,
    };
    let reply = match world.before(&call) {
        Some(Err(r)) => json!({"ActionStatus": "FAIL", "ErrorCode": r.code, "ErrorInfo": r.info}),
        before => match world.handle(&call) {
            Some(Ok(done)) => {
                let before = before.and_then(Result::ok).unwrap_or_default();
                for event in before.iter().chain(&done.events) {
                    check_event(event)?;
                }
                done.body()
            }
            Some(Err(r)) => json!({"ActionStatus": "FAIL", "ErrorCode": r.code, "ErrorInfo": r.info}),
            None => return Err(TestCaseError::fail(format!("{path} is not stateful"))),
        },
    };
    if let Some(twin) = twin {
        let alone = match twin.handle_without_callbacks(&call) {
            Some(Ok(done)) => done.body(),
            Some(Err(r)) => json!({"ActionStatus": "FAIL", "ErrorCode": r.code, "ErrorInfo": r.info}),
            None => return Err(TestCaseError::fail(format!("{path} is not stateful"))),
        };
        prop_assert_eq!(&alone, &reply, "{}: without callbacks the answer differs", path);
    }
    // Replies keep the documented field set.
    if reply["ErrorCode"] == 0 {
        let spec = specs().endpoints.iter().find(|e| e.path == path);
        let spec = spec.ok_or_else(|| TestCaseError::fail(format!("{path}: no spec")))?;
        for key in reply.as_object().into_iter().flat_map(|o| o.keys()) {
            let declared = ["ActionStatus", "ErrorCode", "ErrorInfo"].contains(&key.as_str())
                || spec.response.iter().any(|f| &f.wire == key);
            prop_assert!(declared, "{path}: `{key}` is not a response field of the spec");
        }
    }
    // Every answer decodes: a typed response, or a documented error code.
    let raw = serde_json::to_vec(&reply).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match (entry.parse_reply)(&raw) {
        Ok(_) => {}
        Err(Error::Api(e)) => {
            let documented =
                entry.meta.errors.iter().chain(entry.meta.shared_errors.iter().flat_map(|t| t.iter()));
            let code = reply["ErrorCode"].as_i64().unwrap_or(0);
            prop_assert!(documented.clone().any(|m| m.code == code), "{path}: undocumented code {code}: {e}");
        }
        Err(e) => {
            return Err(TestCaseError::fail(format!("{path}: the reply does not decode: {e}\n{reply}")))
        }
    }
    Ok(reply)
}

/// A callback the call fires parses as its known callback.
fn check_event(event: &Event) -> Result<(), TestCaseError> {
    let mut body = event.payload.clone();
    body.insert("CallbackCommand".into(), json!(event.command));
    let bytes = serde_json::to_vec(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match Callback::parse(event.command, &bytes) {
        Ok(cb) if cb.is_known() => Ok(()),
        Ok(_) => Err(TestCaseError::fail(format!("{} has no spec", event.command))),
        Err(e) => Err(TestCaseError::fail(format!("{}: {e}\n{}", event.command, Value::Object(body)))),
    }
}

fn check_sequence(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut world = World::new(ADMIN);
    let mut twin = World::new(ADMIN);
    let mut model = Model::default();
    for op in ops {
        let (path, body) = request(op, &model);
        let reply = run(&mut world, Some(&mut twin), path, &body)?;
        let ok = reply["ErrorCode"] == 0;
        match *op {
            Op::Import(u) if ok => {
                model.deleted.remove(&user(u));
            }
            Op::Delete(u) => {
                let r = reply["ResultItem"][0]["ResultCode"].as_i64();
                if ok && r == Some(0) {
                    model.deleted.insert(user(u));
                }
            }
            Op::CreateGroup { kind, group, .. } if ok => {
                let id = reply["GroupId"].as_str().unwrap_or_default().to_owned();
                model.last_seq.remove(&id);
                model.groups.insert(group, (id, TYPES[kind].to_owned()));
                model.topics.remove(&group);
            }
            Op::Destroy(group) if ok => {
                if let Some((id, _)) = model.groups.remove(&group) {
                    model.last_seq.remove(&id);
                }
                model.topics.remove(&group);
            }
            Op::CreateTopic { group } if ok => {
                let id = reply["TopicId"].as_str().unwrap_or_default().to_owned();
                model.last_seq.remove(&id);
                model.topics.insert(group, id);
            }
            Op::TopicSend { group, .. } if ok => {
                // A topic's MsgSeq rises on its own.
                let id = model.topics.get(&group).cloned().unwrap_or_default();
                if let Some(seq) = reply["MsgSeq"].as_u64() {
                    if let Some(last) = model.last_seq.insert(id.clone(), seq) {
                        prop_assert!(seq > last, "{id}: MsgSeq {seq} after {last}");
                    }
                }
            }
            Op::Moderate if ok => {
                prop_assert!(
                    ["Pass", "Block", "Review"].contains(&reply["Result"].as_str().unwrap_or("")),
                    "{reply}"
                );
            }
            Op::GroupSend { group, .. } if ok => {
                let id = model.group(group);
                if let Some(seq) = reply["MsgSeq"].as_u64() {
                    if let Some(last) = model.last_seq.insert(id.clone(), seq) {
                        prop_assert!(seq > last, "{id}: MsgSeq {seq} after {last}");
                    }
                }
            }
            Op::Unread(_) if ok => {
                // The total is reported without peers, per-peer counts with them.
                let counts = reply["C2CUnreadMsgNumList"].as_array().into_iter().flatten();
                for n in counts.map(|p| &p["C2CUnreadMsgNum"]).chain([&reply["AllC2CUnreadMsgNum"]]) {
                    prop_assert!(n.is_null() || n.as_u64().is_some(), "{reply}");
                }
            }
            Op::UnreadTotal(_) if ok => {
                prop_assert!(reply["AllC2CUnreadMsgNum"].as_u64().is_some(), "{reply}");
            }
            Op::SetUnread { group, .. } | Op::GroupInfo(group) => {
                // Member read positions never pass the group's latest message.
                if let Some(info) = reply["GroupInfo"].as_array().and_then(|l| l.first()) {
                    let next = info["NextMsgSeq"].as_u64().unwrap_or(u64::MAX);
                    for m in info["MemberList"].as_array().into_iter().flatten() {
                        if let Some(seq) = m["MsgSeq"].as_u64() {
                            prop_assert!(
                                seq < next.max(1),
                                "{} member read at {seq}, next {next}",
                                model.group(group)
                            );
                        }
                    }
                }
            }
            _ => {}
        }
        for gone in &model.deleted {
            prop_assert!(!world.accounts.exists(gone), "{gone} still has an account");
            prop_assert!(!world.mentions_account(gone), "{gone} is still named after {op:?}");
        }
    }
    // The state file round-trips, and serving without callbacks left the same state.
    let saved = serde_json::to_value(&world).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let twin = serde_json::to_value(&twin).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&twin, &saved, "without callbacks the state differs");
    let back: World =
        serde_json::from_value(saved.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(serde_json::to_value(&back).map_err(|e| TestCaseError::fail(e.to_string()))?, saved);
    Ok(())
}

#[test]
fn random_call_sequences_keep_the_invariants() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&proptest::collection::vec(op(), 1..60), |ops| check_sequence(&ops))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The same invariants hold in a long fixed sequence that touches every
/// family in order, so a regression shows without shrinking.
#[test]
fn a_scripted_sequence_keeps_the_invariants() {
    let mut ops = Vec::new();
    for u in 0..USERS {
        ops.push(Op::Import(u));
    }
    for (kind, group) in [(1, 0), (2, 1), (4, 2)] {
        ops.push(Op::CreateGroup { owner: 0, kind, group, member: 1 });
    }
    for i in 0..USERS {
        ops.push(Op::Send { from: i, to: (i + 1) % USERS });
        ops.push(Op::GroupSend { group: i % GROUPS, from: 0 });
        ops.push(Op::FriendAdd { a: i, b: (i + 2) % USERS });
    }
    ops.extend([
        Op::SetUnread { group: 0, member: 1, count: 9 },
        Op::GroupInfo(0),
        Op::Unread(1),
        Op::UnreadTotal(1),
        Op::Delete(1),
        Op::UnreadTotal(2),
        Op::GroupInfo(0),
        Op::ContactList(0),
        Op::Destroy(0),
        Op::GroupSend { group: 0, from: 0 },
    ]);
    check_sequence(&ops).unwrap_or_else(|e| panic!("{e}"));
}

/// Account ids a sample names (`*_Account`, `UserID` and `Accounts` values).
fn sample_accounts(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let names_accounts = k.contains("Account") || k == "UserID";
                match v {
                    Value::String(s) if names_accounts => {
                        out.insert(s.clone());
                    }
                    Value::Array(items) if names_accounts => {
                        out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
                        items.iter().for_each(|i| sample_accounts(i, out));
                    }
                    other => sample_accounts(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| sample_accounts(i, out)),
        _ => {}
    }
}

/// Every documented sample request of every stateful endpoint, against a
/// world holding the accounts it names: the answer decodes, as a typed
/// response with the documented fields or as a documented error.
#[test]
fn documented_samples_get_documented_answers() {
    let stateful: BTreeSet<&str> = tim_emulator::world::stateful_paths().collect();
    let mut checked = 0;
    for ep in specs().endpoints.iter().filter(|e| stateful.contains(&e.path[3..])) {
        let path: &'static str = dynamic::find(tim_runtime::api::ENDPOINTS, &ep.path).unwrap().meta.path;
        for sample in &ep.samples {
            let request = &sample.request;
            let mut world = World::new(ADMIN);
            let mut accounts = BTreeSet::new();
            sample_accounts(request, &mut accounts);
            for a in &accounts {
                world.accounts.ensure(a);
            }
            run(&mut world, None, path, request).unwrap_or_else(|e| panic!("{path} ({}): {e}", sample.name));
            checked += 1;
        }
    }
    assert!(checked >= 70, "only {checked} samples checked");
}
