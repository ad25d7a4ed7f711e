//! Group scenarios through the typed client against the stateful mock: the
//! replies come from the emulated state, and the state is checked after.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tim_emulator::world::World;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::callbacks::group::{before_invite_join_group, before_send_msg};
use tim_runtime::api::group_open_http_svc::{
    add_group_member, change_group_owner, create_group, delete_group_member, destroy_group, forbid_send_msg,
    get_appid_group_list, get_group_info, get_group_member_info, get_group_muted_account,
    group_msg_get_simple, group_msg_recall, modify_group_base_info, send_group_msg, set_unread_msg_num,
};
use tim_runtime::api::types::{GroupMemberRole, GroupType, MsgBodyElem, TIMTextElem};
use tim_runtime::callback::CallbackReply;
use tim_runtime::{ApiErrorKind, Client, Error, ErrorRole};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

/// A mock whose state holds the admin and a few imported accounts.
async fn server() -> MockServer {
    let mut world = World::new(ADMIN);
    for a in ["alice", "bob", "carol", "dave", "erin"] {
        world.accounts.ensure(a);
    }
    let config = MockConfig::new(APPID, KEY, ADMIN).rate_limits(false).state(world);
    MockServer::start(config).await.unwrap()
}

fn client(server: &MockServer) -> Client {
    server.client_builder().timeout(Duration::from_secs(5)).build().unwrap()
}

fn text(t: &str) -> Vec<MsgBodyElem> {
    vec![MsgBodyElem::Text(TIMTextElem::new().text(t))]
}

fn role_of<E: ApiErrorKind>(r: Result<impl std::fmt::Debug, Error<E>>) -> Option<ErrorRole> {
    match r {
        Err(Error::Api(e)) => e.role(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A public group owned by alice with bob and carol.
async fn public_group(client: &Client) -> String {
    let req = create_group::Request::new(GroupType::Public, "team").owner_account("alice").member_list(vec![
        create_group::InitialMember::new("bob"),
        create_group::InitialMember::new("carol").role(GroupMemberRole::Admin),
    ]);
    client.call(&req).await.unwrap().group_id
}

async fn send(client: &Client, group: &str, from: &str, t: &str) -> send_group_msg::Response {
    client.call(&send_group_msg::Request::new(group, 7u32, text(t)).from_account(from)).await.unwrap()
}

#[tokio::test]
async fn create_with_generated_and_custom_ids() {
    let server = server().await;
    let client = client(&server);
    let generated = public_group(&client).await;
    assert!(generated.starts_with("@TGS#"), "{generated}");
    let custom = create_group::Request::new(GroupType::Public, "mine").group_id("MyFirstGroup");
    assert_eq!(client.call(&custom).await.unwrap().group_id, "MyFirstGroup");
    // The ID is taken now.
    let again = create_group::Request::new(GroupType::Private, "again").group_id("MyFirstGroup");
    assert_eq!(role_of(client.call(&again).await), Some(ErrorRole::AlreadyExists));
    // Custom IDs may not look generated; communities' must.
    let bad = create_group::Request::new(GroupType::Public, "bad").group_id("@TGS#fake");
    assert!(matches!(client.call(&bad).await, Err(Error::Api(create_group::Error::InvalidParameter(_)))));
    let bad = create_group::Request::new(GroupType::Community, "bad").group_id("plain");
    assert!(matches!(client.call(&bad).await, Err(Error::Api(create_group::Error::InvalidParameter(_)))));
    let community = create_group::Request::new(GroupType::Community, "c").group_id("@TGS#_club");
    assert_eq!(client.call(&community).await.unwrap().group_id, "@TGS#_club");

    server.world(|w| {
        assert_eq!(w.groups.groups.len(), 3);
        let g = w.groups.get(&generated).unwrap();
        assert_eq!(g.owner.as_deref(), Some("alice"));
        let roles: Vec<_> = g.members().iter().map(|m| (m.account.as_str(), m.role.as_str())).collect();
        assert_eq!(roles, [("alice", "Owner"), ("bob", "Member"), ("carol", "Admin")]);
        assert_eq!(w.groups.type_of("@TGS#_club"), Some("Community"));
    });
}

#[tokio::test]
async fn info_modify_destroy_and_unknown_groups() {
    let server = server().await;
    let client = client(&server);
    let gid = public_group(&client).await;
    send(&client, &gid, "bob", "hello").await;

    let modify = modify_group_base_info::Request::new(&gid).name("renamed").notification("read me");
    client.call(&modify).await.unwrap();

    let info =
        client.call(&get_group_info::Request::new(vec![gid.clone(), "@TGS#nothere".into()])).await.unwrap();
    let list = info.group_info.unwrap();
    let g = &list[0];
    assert_eq!(g.error_code, Some(0));
    assert_eq!(g.name.as_deref(), Some("renamed"));
    assert_eq!(g.notification.as_deref(), Some("read me"));
    assert_eq!(g.member_num, Some(3));
    assert_eq!(g.next_msg_seq, Some(2));
    let members = g.member_list.as_ref().unwrap();
    let bob = members.iter().find(|m| m.member_account == "bob").unwrap();
    assert_eq!(bob.msg_seq, Some(1));
    let carol = members.iter().find(|m| m.member_account == "carol").unwrap();
    assert_eq!(carol.msg_seq, Some(0));
    // The unknown group gets the group-not-found code of the spec.
    let missing = tim_runtime::api::group_open_http_svc::get_group_info::META
        .error_with_role(ErrorRole::GroupNotFound)
        .unwrap()
        .code;
    assert_eq!(list[1].error_code, Some(missing));

    client.call(&destroy_group::Request::new(&gid)).await.unwrap();
    assert!(server.world(|w| w.groups.get(&gid).is_none()));
    assert_eq!(
        role_of(client.call(&destroy_group::Request::new(&gid)).await),
        Some(ErrorRole::GroupNotFound)
    );
    let send = send_group_msg::Request::new(&gid, 1u32, text("x"));
    assert_eq!(role_of(client.call(&send).await), Some(ErrorRole::GroupNotFound));
}

#[tokio::test]
async fn members_add_delete_and_page() {
    let server = server().await;
    let client = client(&server);
    let gid = public_group(&client).await;
    let add = add_group_member::Request::new(
        &gid,
        vec![
            add_group_member::NewMember::new("dave"),
            add_group_member::NewMember::new("bob"),
            add_group_member::NewMember::new("ghost"),
        ],
    );
    let added = client.call(&add).await.unwrap().member_list.unwrap();
    let outcomes: Vec<_> = added.iter().map(|r| (r.member_account.as_str(), r.result.clone())).collect();
    assert_eq!(
        outcomes,
        [
            ("dave", add_group_member::AddOutcome::Added),
            ("bob", add_group_member::AddOutcome::AlreadyMember),
            ("ghost", add_group_member::AddOutcome::Failed),
        ]
    );

    let page =
        client.call(&get_group_member_info::Request::new(&gid).limit(2u32).offset(2u32)).await.unwrap();
    assert_eq!(page.member_num, Some(4));
    let names: Vec<_> = page.member_list.unwrap().into_iter().map(|m| m.member_account).collect();
    assert_eq!(names, ["carol", "dave"]);

    client.call(&delete_group_member::Request::new(&gid, vec!["dave".to_owned()])).await.unwrap();
    assert!(server.world(|w| !w.groups.get(&gid).unwrap().is_member("dave")));
    // The owner cannot be removed.
    let kick_owner = delete_group_member::Request::new(&gid, vec!["alice".to_owned()]);
    assert_eq!(role_of(client.call(&kick_owner).await), Some(ErrorRole::PermissionDenied));
}

#[tokio::test]
async fn community_members_page_with_next() {
    let server = server().await;
    let client = client(&server);
    let req = create_group::Request::new(GroupType::Community, "club")
        .owner_account("alice")
        .member_list(["bob", "carol", "dave", "erin"].map(create_group::InitialMember::new).to_vec());
    let gid = client.call(&req).await.unwrap().group_id;
    let mut next = String::new();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page =
            client.call(&get_group_member_info::Request::new(&gid).limit(2u32).next(next)).await.unwrap();
        pages += 1;
        seen.extend(page.member_list.unwrap().into_iter().map(|m| m.member_account));
        next = page.next.unwrap_or_default();
        if next.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["alice", "bob", "carol", "dave", "erin"]);
}

#[tokio::test]
async fn owner_change_and_mute_list() {
    let server = server().await;
    let client = client(&server);
    let gid = public_group(&client).await;
    client.call(&change_group_owner::Request::new(&gid, "bob")).await.unwrap();
    server.world(|w| {
        let g = w.groups.get(&gid).unwrap();
        assert_eq!(g.owner.as_deref(), Some("bob"));
        assert_eq!(g.member("alice").unwrap().role, "Member");
        assert_eq!(g.member("bob").unwrap().role, "Owner");
    });

    client.call(&forbid_send_msg::Request::new(&gid, vec!["carol".to_owned()], 600u32)).await.unwrap();
    let muted = client.call(&get_group_muted_account::Request::new(&gid)).await.unwrap();
    let list = muted.muted_account_list.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].member_account, "carol");
    assert!(list[0].muted_until > tim_emulator::world::unix_now());
    // A muted member cannot speak.
    let from_carol = send_group_msg::Request::new(&gid, 1u32, text("hi")).from_account("carol");
    assert_eq!(role_of(client.call(&from_carol).await), Some(ErrorRole::PermissionDenied));
    client.call(&forbid_send_msg::Request::new(&gid, vec!["carol".to_owned()], 0u32)).await.unwrap();
    let muted = client.call(&get_group_muted_account::Request::new(&gid)).await.unwrap();
    assert!(muted.muted_account_list.unwrap_or_default().is_empty());
    client.call(&from_carol).await.unwrap();
}

#[tokio::test]
async fn sequence_numbers_and_unread_counts() {
    let server = server().await;
    let client = client(&server);
    let gid = public_group(&client).await;
    let first = send(&client, &gid, "alice", "one").await;
    let second = send(&client, &gid, "alice", "two").await;
    let (s1, s2) = (first.msg_seq.unwrap(), second.msg_seq.unwrap());
    assert_eq!(s2, s1 + 1);
    assert!(second.msg_time.unwrap() > 0);
    assert_eq!(server.world(|w| w.groups.unread(&gid, "bob")), Some(2));
    // Five is more than the group holds: every message is unread, i.e. two.
    client.call(&set_unread_msg_num::Request::new(&gid, "bob", 5u32)).await.unwrap();
    assert_eq!(server.world(|w| w.groups.unread(&gid, "bob")), Some(2));
    client.call(&set_unread_msg_num::Request::new(&gid, "bob", 1u32)).await.unwrap();
    assert_eq!(server.world(|w| w.groups.unread(&gid, "bob")), Some(1));
    // The sender has read its own messages.
    assert_eq!(server.world(|w| w.groups.unread(&gid, "alice")), Some(0));
    let third = send(&client, &gid, "bob", "three").await;
    assert_eq!(third.msg_seq, Some(s2 + 1));
    assert_eq!(server.world(|w| w.groups.unread(&gid, "bob")), Some(0));
}

#[tokio::test]
async fn chatroom_unread_count_is_left_alone() {
    let server = server().await;
    let client = client(&server);
    let req = create_group::Request::new(GroupType::ChatRoom, "room")
        .owner_account("alice")
        .member_list(vec![create_group::InitialMember::new("bob")]);
    let gid = client.call(&req).await.unwrap().group_id;
    send(&client, &gid, "alice", "one").await;
    send(&client, &gid, "alice", "two").await;
    let before = server.snapshot();
    client.call(&set_unread_msg_num::Request::new(&gid, "bob", 0u32)).await.unwrap();
    assert_eq!(server.world(|w| w.groups.unread(&gid, "bob")), Some(2));
    assert_eq!(
        serde_json::to_value(&before.groups).unwrap(),
        server.world(|w| serde_json::to_value(&w.groups).unwrap())
    );
}

#[tokio::test]
async fn history_pages_backwards_and_recall() {
    let server = server().await;
    let client = client(&server);
    let gid = public_group(&client).await;
    for i in 1..=5 {
        send(&client, &gid, "bob", &format!("m{i}")).await;
    }
    let mut seqs = Vec::new();
    let mut req = group_msg_get_simple::Request::new(&gid, 2u32);
    loop {
        let page = client.call(&req).await.unwrap();
        assert_eq!(page.is_finished, Some(1));
        let msgs = page.rsp_msg_list.unwrap_or_default();
        if msgs.is_empty() {
            break;
        }
        for m in &msgs {
            assert_eq!(m.from_account.as_deref(), Some("bob"));
            assert_eq!(m.is_place_msg, Some(0));
        }
        let page_seqs: Vec<u64> = msgs.iter().filter_map(|m| m.msg_seq).collect();
        let smallest = *page_seqs.iter().min().unwrap();
        seqs.extend(page_seqs);
        if smallest <= 1 {
            break;
        }
        req = group_msg_get_simple::Request::new(&gid, 2u32).req_msg_seq(smallest - 1);
    }
    assert_eq!(seqs, [5, 4, 3, 2, 1]);

    let recall = group_msg_recall::Request::new(
        &gid,
        vec![group_msg_recall::MsgSeqItem::new(4u64), group_msg_recall::MsgSeqItem::new(99u64)],
    );
    let rets = client.call(&recall).await.unwrap().recall_ret_list.unwrap();
    assert_eq!(rets[0].ret_code, Some(0));
    let missing = group_msg_recall::META.error_with_role(ErrorRole::MessageNotFound).map(|e| e.code as i32);
    assert_eq!(rets[1].ret_code, missing);
    let page = client.call(&group_msg_get_simple::Request::new(&gid, 10u32)).await.unwrap();
    let left: Vec<u64> = page.rsp_msg_list.unwrap().iter().filter_map(|m| m.msg_seq).collect();
    assert_eq!(left, [5, 3, 2, 1]);
    assert!(server.world(|w| w
        .groups
        .get(&gid)
        .unwrap()
        .messages()
        .iter()
        .any(|m| m.seq == 4 && m.recalled)));
}

#[tokio::test]
async fn appid_group_list_pages() {
    let server = server().await;
    let client = client(&server);
    for i in 0..3 {
        client.call(&create_group::Request::new(GroupType::Public, format!("p{i}"))).await.unwrap();
    }
    client.call(&create_group::Request::new(GroupType::ChatRoom, "room")).await.unwrap();
    let mut next = 0u64;
    let mut ids = Vec::new();
    loop {
        let page = client.call(&get_appid_group_list::Request::new().limit(3u32).next(next)).await.unwrap();
        assert_eq!(page.total_count, Some(4));
        ids.extend(page.group_id_list.unwrap_or_default().into_iter().map(|g| g.group_id));
        next = page.next.unwrap_or(0);
        if next == 0 {
            break;
        }
    }
    assert_eq!(ids.len(), 4);
    let rooms = client
        .call(
            &get_appid_group_list::Request::new().group_type(get_appid_group_list::GroupTypeFilter::ChatRoom),
        )
        .await
        .unwrap();
    assert_eq!(rooms.total_count, Some(1));
}

/// A callback endpoint answering each command with a scripted reply (OK
/// otherwise).
async fn receiver(scripts: HashMap<&'static str, CallbackReply>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let scripts = Arc::new(Mutex::new(scripts));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let scripts = Arc::clone(&scripts);
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let scripts = Arc::clone(&scripts);
                async move {
                    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let command = body["CallbackCommand"].as_str().unwrap_or_default();
                    let reply =
                        scripts.lock().unwrap().get(command).cloned().unwrap_or_else(CallbackReply::ok);
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(reply.to_bytes()))))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    url
}

#[tokio::test]
async fn callbacks_carry_real_state_and_decide() {
    let mut scripts = HashMap::new();
    scripts.insert(
        "Group.CallbackBeforeSendMsg",
        CallbackReply::from(before_send_msg::Reply::modify(text("***"))),
    );
    scripts.insert(
        "Group.CallbackBeforeInviteJoinGroup",
        CallbackReply::from(before_invite_join_group::Reply::refuse_members(vec!["erin".to_owned()])),
    );
    let url = receiver(scripts).await;
    let mut world = World::new(ADMIN);
    for a in ["alice", "bob", "dave", "erin"] {
        world.accounts.ensure(a);
    }
    let config =
        MockConfig::new(APPID, KEY, ADMIN).rate_limits(false).state(world).callbacks(&url, None).unwrap();
    let server = MockServer::start(config).await.unwrap();
    let client = client(&server);

    let create = create_group::Request::new(GroupType::Public, "team").owner_account("alice");
    let gid = client.call(&create).await.unwrap().group_id;
    let add = add_group_member::Request::new(
        &gid,
        vec![add_group_member::NewMember::new("dave"), add_group_member::NewMember::new("erin")],
    );
    let added = client.call(&add).await.unwrap().member_list.unwrap();
    assert_eq!(added.len(), 1, "the refused invitee is not listed: {added:?}");
    server.world(|w| {
        let g = w.groups.get(&gid).unwrap();
        assert!(g.is_member("dave"));
        assert!(!g.is_member("erin"));
    });
    let sent = send(&client, &gid, "dave", "a bad word").await;
    server.world(|w| {
        let stored = &w.groups.get(&gid).unwrap().messages()[0];
        assert_eq!(
            serde_json::to_value(&stored.body).unwrap(),
            json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "***"}}])
        );
    });

    let emitted = server.callbacks();
    let commands: Vec<&str> = emitted.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            "Group.CallbackBeforeCreateGroup",
            "Group.CallbackAfterCreateGroup",
            "Group.CallbackBeforeInviteJoinGroup",
            "Group.CallbackAfterNewMemberJoin",
            "Group.CallbackBeforeSendMsg",
            "Group.CallbackAfterSendMsg",
        ]
    );
    assert_eq!(emitted[1].body["GroupId"], json!(gid));
    assert_eq!(emitted[3].body["NewMemberList"], json!([{"Member_Account": "dave"}]));
    assert_eq!(emitted[3].body["JoinType"], json!("Invited"));
    let after = &emitted[5].body;
    assert_eq!(after["MsgSeq"], json!(sent.msg_seq.unwrap()));
    assert_eq!(after["MsgTime"], json!(sent.msg_time.unwrap()));
    assert_eq!(after["From_Account"], json!("dave"));
    assert_eq!(after["MsgBody"][0]["MsgContent"]["Text"], json!("***"));
}
