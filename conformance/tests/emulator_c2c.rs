//! One-to-one messages against the stateful mock, through the typed client:
//! what one call stores, the next call reads.

use std::time::Duration;

use serde_json::json;
use tim_emulator::world::World;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::openim::{
    admin_getroammsg, admin_msgwithdraw, admin_set_msg_read, batchsendmsg, c2c_msg_read_receipt,
    get_c2c_unread_msg_num, modify_c2c_msg, sendmsg,
};
use tim_runtime::api::openim_msg_ext_http_svc::{get_key_values, set_key_values};
use tim_runtime::api::types::{MsgBodyElem, MsgExtOperateType, MsgExtension, TIMTextElem};
use tim_runtime::{Client, Error};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

/// A loopback port nothing listens on: callbacks are refused at once, and
/// the mock still records them.
const DEAD_CALLBACK_URL: &str = "http://127.0.0.1:9/callback";

fn seeded(accounts: &[&str]) -> MockConfig {
    let mut world = World::new(ADMIN);
    for a in accounts {
        world.accounts.ensure(a);
    }
    MockConfig::new(APPID, KEY, ADMIN).state(world).rate_limits(false)
}

async fn start(config: MockConfig) -> (MockServer, Client) {
    let server = MockServer::start(config).await.unwrap();
    let client = server.client_builder().timeout(Duration::from_secs(5)).build().unwrap();
    (server, client)
}

fn text(t: &str) -> Vec<MsgBodyElem> {
    vec![MsgBodyElem::Text(TIMTextElem::new().text(t))]
}

async fn send(client: &Client, from: &str, to: &str, t: &str) -> String {
    let reply = client.call(&sendmsg::Request::new(to, 7u32, text(t)).from_account(from)).await.unwrap();
    reply.msg_key.unwrap()
}

async fn unread(client: &Client, reader: &str, peer: &str) -> (u32, u32) {
    let total = client.call(&get_c2c_unread_msg_num::Request::new(reader)).await.unwrap();
    let per_peer = client
        .call(&get_c2c_unread_msg_num::Request::new(reader).peer_account(vec![peer.to_owned()]))
        .await
        .unwrap();
    let list = per_peer.c2c_unread_msg_num_list.unwrap_or_default();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].peer_account.as_deref(), Some(peer));
    (total.all_c2c_unread_msg_num.unwrap(), list[0].c2c_unread_msg_num.unwrap())
}

async fn roam_all(client: &Client, op: &str, peer: &str, page: u32) -> Vec<admin_getroammsg::RoamMsg> {
    let mut out = Vec::new();
    let (mut max_time, mut last_key) = (u64::from(u32::MAX), None::<String>);
    for _ in 0..100 {
        let mut req = admin_getroammsg::Request::new(op, peer, page, 0u64, max_time);
        if let Some(k) = &last_key {
            req = req.last_msg_key(k.clone());
        }
        let reply = client.call(&req).await.unwrap();
        let mut list = reply.msg_list.unwrap_or_default();
        assert_eq!(reply.msg_cnt, Some(list.len() as u32));
        list.append(&mut out);
        out = list;
        if reply.complete == Some(1) {
            return out;
        }
        max_time = reply.last_msg_time.unwrap();
        last_key = reply.last_msg_key;
    }
    panic!("history never completed");
}

#[tokio::test]
async fn unread_counts_rise_and_a_read_mark_clears_them_with_a_callback() {
    let config = seeded(&["alice", "bob"]).callbacks(DEAD_CALLBACK_URL, None).unwrap();
    let (server, client) = start(config).await;
    for i in 0..3 {
        send(&client, "alice", "bob", &format!("hello {i}")).await;
    }
    assert_eq!(unread(&client, "bob", "alice").await, (3, 3));
    assert_eq!(unread(&client, "alice", "bob").await, (0, 0));
    assert_eq!(server.world(|w| w.c2c.unread("bob", "alice")), 3);

    let after_send: Vec<_> =
        server.callbacks().into_iter().filter(|c| c.command == "C2C.CallbackAfterSendMsg").collect();
    assert_eq!(after_send.len(), 3);
    assert_eq!(after_send[2].body["UnreadMsgNum"], json!(3));

    server.clear_callbacks();
    client.call(&admin_set_msg_read::Request::new("bob", "alice")).await.unwrap();
    assert_eq!(unread(&client, "bob", "alice").await, (0, 0));
    let sent = server.callbacks();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].command, "C2C.CallbackAfterMsgReport");
    assert_eq!(sent[0].body["Report_Account"], json!("bob"));
    assert_eq!(sent[0].body["Peer_Account"], json!("alice"));
    assert_eq!(sent[0].body["UnreadMsgNum"], json!(0));
}

#[tokio::test]
async fn a_read_time_in_the_past_leaves_later_messages_unread() {
    let (server, client) = start(seeded(&["alice", "bob"])).await;
    send(&client, "alice", "bob", "one").await;
    send(&client, "alice", "bob", "two").await;
    client.call(&admin_set_msg_read::Request::new("bob", "alice").msg_read_time("1000")).await.unwrap();
    assert_eq!(unread(&client, "bob", "alice").await, (2, 2));
    assert_eq!(server.world(|w| w.c2c.messages_between("alice", "bob").len()), 2);
}

#[tokio::test]
async fn receipts_show_as_is_peer_read() {
    let (_server, client) = start(seeded(&["alice", "bob"])).await;
    let first = send(&client, "alice", "bob", "read me").await;
    let _second = send(&client, "alice", "bob", "not yet").await;
    let receipt = c2c_msg_read_receipt::Request::new(
        "bob",
        "alice",
        vec![c2c_msg_read_receipt::C2cMsgInfo::new("alice", "bob", first.clone())],
    );
    client.call(&receipt).await.unwrap();
    let history = roam_all(&client, "alice", "bob", 10).await;
    let flags: Vec<(Option<String>, Option<u32>)> =
        history.iter().map(|m| (m.msg_key.clone(), m.is_peer_read)).collect();
    assert_eq!(flags.len(), 2);
    assert_eq!(flags[0], (Some(first), Some(1)));
    assert_eq!(flags[1].1, Some(0));
}

#[tokio::test]
async fn history_pages_return_every_message_exactly_once() {
    let (server, client) = start(seeded(&["alice", "bob"])).await;
    let mut keys = Vec::new();
    for i in 0..11 {
        let (from, to) = if i % 3 == 0 { ("bob", "alice") } else { ("alice", "bob") };
        keys.push(send(&client, from, to, &format!("m{i}")).await);
    }
    for page in [1, 3, 4, 50] {
        let history = roam_all(&client, "bob", "alice", page).await;
        let got: Vec<String> = history.iter().filter_map(|m| m.msg_key.clone()).collect();
        assert_eq!(got, keys, "page size {page}");
    }
    let stored: Vec<String> =
        server.world(|w| w.c2c.messages_between("alice", "bob").iter().map(|m| m.key.clone()).collect());
    assert_eq!(stored, keys);
}

#[tokio::test]
async fn withdraw_flags_the_message_and_an_unknown_key_is_refused() {
    let config = seeded(&["alice", "bob"]).callbacks(DEAD_CALLBACK_URL, None).unwrap();
    let (server, client) = start(config).await;
    let key = send(&client, "alice", "bob", "oops").await;
    server.clear_callbacks();
    client.call(&admin_msgwithdraw::Request::new("alice", "bob", key.clone())).await.unwrap();
    let sent = server.callbacks();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].command, "C2C.CallbackAfterMsgWithDraw");
    assert_eq!(sent[0].body["MsgKey"], json!(key));
    assert_eq!(sent[0].body["UnreadMsgNum"], json!(0));
    assert_eq!(unread(&client, "bob", "alice").await, (0, 0));

    let history = roam_all(&client, "bob", "alice", 10).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].msg_flag_bits, Some(8));

    let err = client.call(&admin_msgwithdraw::Request::new("alice", "bob", "1_2_3")).await.unwrap_err();
    assert!(matches!(err, Error::Api(admin_msgwithdraw::Error::MessageNotFound(_))), "{err:?}");
}

#[tokio::test]
async fn modify_replaces_the_stored_content() {
    let (server, client) = start(seeded(&["alice", "bob"])).await;
    let key = send(&client, "alice", "bob", "typo").await;
    let modify = modify_c2c_msg::Request::new("alice", "bob", key.clone())
        .msg_body(text("fixed"))
        .cloud_custom_data("v2");
    client.call(&modify).await.unwrap();
    let history = roam_all(&client, "bob", "alice", 10).await;
    assert_eq!(history[0].msg_body, Some(text("fixed")));
    assert_eq!(history[0].cloud_custom_data.as_deref(), Some("v2"));
    assert!(server.world(|w| w.c2c.message("alice", "bob", &key).is_some_and(|m| serde_json::to_value(
        &m.body
    )
    .unwrap()[0]["MsgContent"]["Text"]
        == "fixed")));
}

#[tokio::test]
async fn extensions_round_trip() {
    let (_server, client) = start(seeded(&["alice", "bob"])).await;
    let reply = client
        .call(
            &sendmsg::Request::new("bob", 1u32, text("poll"))
                .from_account("alice")
                .support_message_extension(1u32),
        )
        .await
        .unwrap();
    let key = reply.msg_key.unwrap();
    let set = set_key_values::Request::new("bob", key.clone(), MsgExtOperateType::Set)
        .from_account("alice")
        .extension_list(vec![MsgExtension::new("yes", "3"), MsgExtension::new("no", "1")]);
    let reply = client.call(&set).await.unwrap();
    let results = reply.extension_list.unwrap_or_default();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r.error_code == Some(0)));
    let delete = set_key_values::Request::new("bob", key.clone(), MsgExtOperateType::Delete)
        .extension_list(vec![MsgExtension::new("no", "")]);
    client.call(&delete).await.unwrap();

    let got = client.call(&get_key_values::Request::new("bob", key.clone())).await.unwrap();
    let pairs = got.extension_list.unwrap_or_default();
    assert_eq!(pairs.len(), 1);
    assert_eq!((pairs[0].key.as_str(), pairs[0].value.as_str(), pairs[0].seq), ("yes", "3", Some(1)));
    assert_eq!(got.latest_seq, Some(2));
    assert_eq!(got.complete_flag, Some(1));

    let plain = send(&client, "alice", "bob", "no extensions").await;
    let refused = set_key_values::Request::new("bob", plain, MsgExtOperateType::Set)
        .extension_list(vec![MsgExtension::new("k", "v")]);
    let err = client.call(&refused).await.unwrap_err();
    assert!(matches!(err, Error::Api(set_key_values::Error::ExtensionNotSupported(_))), "{err:?}");
    let err = client.call(&get_key_values::Request::new("bob", "9_9_9")).await.unwrap_err();
    assert!(matches!(err, Error::Api(get_key_values::Error::MessageNotFound(_))), "{err:?}");
}

#[tokio::test]
async fn sending_to_a_missing_account_gets_the_documented_code() {
    let (server, client) = start(seeded(&["alice"])).await;
    let err = client
        .call(&sendmsg::Request::new("ghost", 1u32, text("hi")).from_account("alice"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(sendmsg::Error::ToAccountNotFound(_))), "{err:?}");
    let err = client
        .call(&sendmsg::Request::new("alice", 1u32, text("hi")).from_account("ghost"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(sendmsg::Error::InvalidUserId(_))), "{err:?}");
    assert!(server.world(|w| w.c2c.messages_between("alice", "ghost").is_empty()));
}

#[tokio::test]
async fn batch_send_delivers_to_those_who_exist() {
    let (server, client) = start(seeded(&["alice", "bob", "carol"])).await;
    let req = batchsendmsg::Request::new(
        vec!["bob".to_owned(), "ghost".to_owned(), "carol".to_owned()],
        3u32,
        text("news"),
    )
    .from_account("alice");
    let reply = client.call(&req).await.unwrap();
    let errors = reply.error_list.unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].to_account.as_deref(), Some("ghost"));
    let key = reply.msg_key.unwrap();
    assert!(server
        .world(|w| w.c2c.message("alice", "bob", &key).is_some()
            && w.c2c.message("alice", "carol", &key).is_some()));
    assert_eq!(unread(&client, "carol", "alice").await, (1, 1));
}
