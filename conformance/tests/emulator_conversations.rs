//! Conversation lists, deletion, conversation groups and marks against the
//! stateful mock, through the typed client.

use std::time::Duration;

use tim_emulator::world::World;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::openim::{admin_getroammsg, get_c2c_unread_msg_num, sendmsg};
use tim_runtime::api::recentcontact::{
    create_contact_group, delete, get_contact_group, get_list, mark_contact, update_contact_group,
};
use tim_runtime::api::types::{
    ContactItem, ContactOptType, ConversationType, MarkOptType, MsgBodyElem, TIMTextElem,
};
use tim_runtime::{Client, Error};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

async fn start(accounts: &[&str]) -> (MockServer, Client) {
    let mut world = World::new(ADMIN);
    for a in accounts {
        world.accounts.ensure(a);
    }
    let config = MockConfig::new(APPID, KEY, ADMIN).state(world).rate_limits(false);
    let server = MockServer::start(config).await.unwrap();
    let client = server.client_builder().timeout(Duration::from_secs(5)).build().unwrap();
    (server, client)
}

async fn send(client: &Client, from: &str, to: &str) {
    let body = vec![MsgBodyElem::Text(TIMTextElem::new().text("hi"))];
    client.call(&sendmsg::Request::new(to, 1u32, body).from_account(from)).await.unwrap();
}

/// Every conversation of `account` (all pages), as (peer, pinned).
async fn conversations(client: &Client, account: &str) -> Vec<(String, u32)> {
    let (mut ts, mut idx, mut top_ts, mut top_idx) = (0u64, 0u32, 0u64, 0u32);
    let mut out = Vec::new();
    for _ in 0..50 {
        let reply =
            client.call(&get_list::Request::new(account, ts, idx, top_ts, top_idx, 7u32)).await.unwrap();
        for item in reply.session_item.unwrap_or_default() {
            assert_eq!(item.r#type, Some(ConversationType::C2c));
            assert!(item.msg_time.is_some_and(|t| t > 0));
            out.push((item.to_account.unwrap_or_default(), item.top_flag.unwrap_or(0)));
        }
        if reply.complete_flag == Some(1) {
            return out;
        }
        (ts, idx) = (reply.time_stamp.unwrap_or(0), reply.start_index.unwrap_or(0));
        (top_ts, top_idx) = (reply.top_time_stamp.unwrap_or(0), reply.top_start_index.unwrap_or(0));
    }
    panic!("conversation list never completed");
}

async fn unread_from(client: &Client, reader: &str, peer: &str) -> u32 {
    let reply = client
        .call(&get_c2c_unread_msg_num::Request::new(reader).peer_account(vec![peer.to_owned()]))
        .await
        .unwrap();
    reply.c2c_unread_msg_num_list.unwrap_or_default().first().and_then(|n| n.c2c_unread_msg_num).unwrap_or(0)
}

fn c2c(peer: &str) -> ContactItem {
    ContactItem::new(ConversationType::C2c).to_account(peer)
}

#[tokio::test]
async fn deleted_conversations_come_back_with_a_new_message() {
    let (server, client) = start(&["alice", "bob", "carol"]).await;
    send(&client, "bob", "alice").await;
    send(&client, "bob", "alice").await;
    send(&client, "alice", "carol").await;

    let list = conversations(&client, "alice").await;
    let mut peers: Vec<&str> = list.iter().map(|(p, _)| p.as_str()).collect();
    peers.sort_unstable();
    assert_eq!(peers, ["bob", "carol"]);
    assert!(list.iter().all(|(_, top)| *top == 0));
    assert_eq!(unread_from(&client, "alice", "bob").await, 2);
    assert_eq!(server.world(|w| w.c2c.conversations_of("alice").iter().map(|c| c.unread).sum::<u64>()), 2);

    client.call(&delete::Request::new("alice", ConversationType::C2c).to_account("bob")).await.unwrap();
    let list = conversations(&client, "alice").await;
    assert_eq!(list, [("carol".to_owned(), 0)]);
    assert_eq!(unread_from(&client, "alice", "bob").await, 0);
    assert_eq!(conversations(&client, "bob").await.len(), 1, "bob still has the conversation");

    send(&client, "bob", "alice").await;
    let list = conversations(&client, "alice").await;
    assert!(list.iter().any(|(p, _)| p == "bob"));
    assert_eq!(unread_from(&client, "alice", "bob").await, 1);
}

#[tokio::test]
async fn clear_ramble_removes_the_history_on_one_side() {
    let (_server, client) = start(&["alice", "bob"]).await;
    send(&client, "bob", "alice").await;
    let req = delete::Request::new("alice", ConversationType::C2c).to_account("bob").clear_ramble(1u32);
    client.call(&req).await.unwrap();
    let mine = client
        .call(&admin_getroammsg::Request::new("alice", "bob", 10u32, 0u64, u64::from(u32::MAX)))
        .await
        .unwrap();
    assert_eq!(mine.msg_cnt, Some(0));
    let theirs = client
        .call(&admin_getroammsg::Request::new("bob", "alice", 10u32, 0u64, u64::from(u32::MAX)))
        .await
        .unwrap();
    assert_eq!(theirs.msg_cnt, Some(1));
}

#[tokio::test]
async fn an_unknown_account_has_no_list() {
    let (_server, client) = start(&["alice"]).await;
    let err = client.call(&get_list::Request::new("ghost", 0u64, 0u32, 0u64, 0u32, 0u32)).await.unwrap_err();
    assert!(matches!(err, Error::Api(get_list::Error::UserNotImported(_))), "{err:?}");
}

#[tokio::test]
async fn conversation_groups_and_marks_are_kept() {
    let (server, client) = start(&["alice", "bob", "carol"]).await;
    let create = create_contact_group::Request::new(
        "alice",
        vec![create_contact_group::GroupContactItem::new("friends", vec![c2c("bob")])],
    );
    let reply = client.call(&create).await.unwrap();
    let created = reply.group_result_item.unwrap_or_default();
    let group_id = created[0].group_item.as_ref().and_then(|g| g.group_id).unwrap();

    let add = update_contact_group::Request::new(
        "alice",
        1u32,
        update_contact_group::UpdateGroup::new(update_contact_group::UpdateGroupType::Contacts)
            .old_group_name("friends")
            .contact_update_item(vec![update_contact_group::ContactUpdateItem::new(
                ContactOptType::Add,
                c2c("carol"),
            )]),
    );
    client.call(&add).await.unwrap();

    let mark = mark_contact::Request::new(
        "alice",
        vec![mark_contact::MarkItem::new(MarkOptType::Both, c2c("bob"))
            .set_mark(vec![1u32, 2])
            .custom_mark("vip")],
    );
    let reply = client.call(&mark).await.unwrap();
    assert_eq!(reply.result_item.unwrap_or_default()[0].result_code, Some(0));

    let got = client.call(&get_contact_group::Request::new("alice", 0u32)).await.unwrap();
    let groups = got.group_item.unwrap_or_default();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].group_name.as_deref(), Some("friends"));
    let items = got.contact_item.unwrap_or_default();
    assert_eq!(items.len(), 2);
    let bob = items.iter().find(|i| i.to_account.as_deref() == Some("bob")).unwrap();
    assert_eq!(bob.standard_mark.as_deref(), Some("11"));
    assert_eq!(bob.custom_mark.as_deref(), Some("vip"));
    assert_eq!(bob.contact_group_id.as_deref(), Some(&[group_id][..]));
    assert_eq!(got.complete_flag, Some(1));
    assert_eq!(server.world(|w| w.conversations.contact_groups_of("alice").len()), 1);
}
