//! Friends and blocklists through the typed client against the stateful
//! mock: adds show in checks both ways or one way, deletes and blocks end
//! friendships, pages add up, unknown accounts get the documented per-item
//! code, and the callbacks the REST calls fire are sent.

mod support;

use std::time::Duration;

use serde_json::json;
use tim_core::callback::CallbackSet;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::callbacks::Callback;
use tim_runtime::api::im_open_login_svc::{account_delete, multiaccount_import};
use tim_runtime::api::sns::{
    black_list_add, black_list_check, black_list_delete, black_list_get, friend_add, friend_check,
    friend_delete, friend_get, friend_import, friend_update, group_get,
};
use tim_runtime::api::types::ProfileItem;
use tim_runtime::{ApiErrorKind, Client, EndpointMeta, ErrorRole};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

/// A mock with callbacks on and these accounts imported.
async fn setup(ids: &[&str]) -> (MockServer, Client) {
    let url = support::ok_receiver().await;
    let server =
        MockServer::start(MockConfig::new(APPID, KEY, ADMIN).callbacks(&url, None).unwrap()).await.unwrap();
    let client = server.client_builder().timeout(Duration::from_secs(5)).build().unwrap();
    for chunk in ids.chunks(100) {
        let accounts: Vec<String> = chunk.iter().map(|id| (*id).to_owned()).collect();
        let resp = client.call(&multiaccount_import::Request::new().accounts(accounts)).await.unwrap();
        assert_eq!(resp.fail_accounts, Some(vec![]));
    }
    (server, client)
}

/// The code `meta`'s spec gives `role`.
fn code(meta: &EndpointMeta, role: ErrorRole) -> i64 {
    meta.error_with_role(role).map(|e| e.code).unwrap()
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

async fn add(client: &Client, from: &str, to: &str, add_type: friend_add::AddType) -> friend_add::Response {
    let item = friend_add::AddFriendItem::new(to).add_source("AddSource_Type_Test").remark(format!("{to}!"));
    client.call(&friend_add::Request::new(from, vec![item]).add_type(add_type)).await.unwrap()
}

/// The relations `friend_check` reports, as wire strings.
async fn relations(client: &Client, from: &str, to: &[&str], both: bool) -> Vec<String> {
    let check_type = if both { friend_check::CheckType::Both } else { friend_check::CheckType::Single };
    let resp = client.call(&friend_check::Request::new(from, strings(to), check_type)).await.unwrap();
    resp.info_item
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.relation.map(|r| r.as_str().to_owned()).unwrap_or_default())
        .collect()
}

fn commands(server: &MockServer) -> Vec<String> {
    server.callbacks().into_iter().map(|c| c.command).collect()
}

#[tokio::test]
async fn both_way_and_one_way_friends_show_in_checks_and_deletes_end_them() {
    let (server, client) = setup(&["alice", "bob", "carol"]).await;
    let resp = add(&client, "alice", "bob", friend_add::AddType::Both).await;
    assert_eq!(resp.result_item.unwrap_or_default()[0].result_code, 0);
    let resp = add(&client, "alice", "carol", friend_add::AddType::Single).await;
    assert_eq!(resp.fail_account, None);

    assert_eq!(
        relations(&client, "alice", &["bob", "carol"], true).await,
        ["CheckResult_Type_BothWay", "CheckResult_Type_AWithB"]
    );
    assert_eq!(relations(&client, "carol", &["alice"], true).await, ["CheckResult_Type_BWithA"]);
    assert_eq!(relations(&client, "carol", &["alice"], false).await, ["CheckResult_Type_NoRelation"]);

    // The add callbacks list every pair made.
    let sent = server.callbacks();
    let adds: Vec<_> = sent.iter().filter(|c| c.command == "Sns.CallbackFriendAdd").collect();
    assert_eq!(adds.len(), 2);
    assert_eq!(
        adds[0].body["PairList"],
        json!([
            {"From_Account": "alice", "To_Account": "bob", "Initiator_Account": "alice"},
            {"From_Account": "bob", "To_Account": "alice", "Initiator_Account": "alice"}
        ])
    );
    assert_eq!(adds[0].body["Admin_Account"], ADMIN);

    // The friend's data as added, then updated.
    let upd = friend_update::UpdateItem::new(
        "bob",
        vec![
            ProfileItem::new("Tag_SNS_IM_Remark", json!("Bobby")),
            ProfileItem::new("Tag_SNS_IM_Group", json!(["work"])),
        ],
    );
    let resp = client.call(&friend_update::Request::new("alice", vec![upd])).await.unwrap();
    assert_eq!(resp.fail_account, None);
    let resp = client.call(&group_get::Request::new("alice")).await.unwrap();
    let lists = resp.result_item.unwrap_or_default();
    assert_eq!((lists[0].group_name.as_str(), lists[0].friend_number), ("work", Some(1)));
    server.world(|w| {
        let f = w.friends.friend("alice", "bob").unwrap();
        assert_eq!((f.remark.as_str(), f.add_source.as_str()), ("Bobby", "AddSource_Type_Test"));
    });

    // One-way delete leaves the other side; a second delete finds no friend.
    let del = friend_delete::Request::new("alice", strings(&["bob", "carol"]))
        .delete_type(friend_delete::DeleteType::Single);
    let resp = client.call(&del).await.unwrap();
    assert!(resp.result_item.unwrap_or_default().iter().all(|r| r.result_code == 0));
    assert_eq!(
        relations(&client, "alice", &["bob", "carol"], true).await,
        ["CheckResult_Type_BWithA", "CheckResult_Type_NoRelation"]
    );
    let resp = client.call(&friend_delete::Request::new("alice", strings(&["bob"]))).await.unwrap();
    assert_eq!(
        resp.result_item.unwrap_or_default()[0].result_code,
        code(&friend_delete::META, ErrorRole::NotFriend)
    );
    let deleted = server.callbacks().into_iter().filter(|c| c.command == "Sns.CallbackFriendDelete").count();
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn blocklist_add_check_get_delete() {
    let (server, client) = setup(&["alice", "bob", "carol", "dave"]).await;
    add(&client, "alice", "bob", friend_add::AddType::Both).await;
    let resp = client
        .call(&black_list_add::Request::new("alice", strings(&["bob", "carol", "dave"])))
        .await
        .unwrap();
    assert_eq!(resp.fail_account, None);
    // Blocking ends the friendship both ways.
    assert_eq!(relations(&client, "alice", &["bob"], true).await, ["CheckResult_Type_NoRelation"]);
    assert!(commands(&server).contains(&"Sns.CallbackBlackListAdd".to_owned()));

    client.call(&black_list_add::Request::new("carol", strings(&["alice"]))).await.unwrap();
    let resp = client
        .call(&black_list_check::Request::new(
            "alice",
            strings(&["bob", "carol", "alice"]),
            black_list_check::BlackCheckType::Both,
        ))
        .await
        .unwrap();
    let rels: Vec<String> = resp
        .black_list_check_item
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.relation.map(|r| r.as_str().to_owned()).unwrap_or_default())
        .collect();
    assert_eq!(
        rels,
        ["BlackCheckResult_Type_AWithB", "BlackCheckResult_Type_BothWay", "BlackCheckResult_Type_NO"]
    );

    // A blocked user cannot be added, forced or not.
    let item = friend_add::AddFriendItem::new("carol");
    let resp =
        client.call(&friend_add::Request::new("alice", vec![item]).force_add_flags(1u8)).await.unwrap();
    assert_eq!(
        resp.result_item.unwrap_or_default()[0].result_code,
        code(&friend_add::META, ErrorRole::Blocked)
    );

    // Pages of two.
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let resp = client.call(&black_list_get::Request::new("alice", start, 2u32, 0u64)).await.unwrap();
        let page = resp.black_list_item.unwrap_or_default();
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|b| b.to_account));
        start = resp.start_index.unwrap_or(0);
        if start == 0 {
            break;
        }
    }
    assert_eq!(seen, ["bob", "carol", "dave"]);

    let resp =
        client.call(&black_list_delete::Request::new("alice", strings(&["carol", "ghost"]))).await.unwrap();
    let results = resp.result_item.unwrap_or_default();
    assert_eq!(results[0].result_code, 0);
    assert_eq!(results[1].result_code, code(&black_list_delete::META, ErrorRole::AccountNotFound));
    assert_eq!(resp.fail_account, Some(vec!["ghost".to_owned()]));
    assert!(commands(&server).contains(&"Sns.CallbackBlackListDelete".to_owned()));
    assert_eq!(server.world(|w| w.friends.blocklist_of("alice")), ["bob", "dave"]);
}

#[tokio::test]
async fn friend_get_pages_through_every_friend() {
    let ids: Vec<String> = (0..130).map(|i| format!("user{i:03}")).collect();
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.push("owner");
    let (server, client) = setup(&all).await;
    let items: Vec<_> = ids
        .iter()
        .map(|id| {
            friend_import::ImportFriendItem::new(id.as_str(), "AddSource_Type_Import").custom_item(vec![
                friend_import::CustomFriendItem::new().tag("Tag_SNS_Custom_Rank").value(json!(1)),
            ])
        })
        .collect();
    let resp = client.call(&friend_import::Request::new("owner", items)).await.unwrap();
    assert_eq!(resp.fail_account, None);
    // Imports fire no callback.
    assert!(!commands(&server).contains(&"Sns.CallbackFriendAdd".to_owned()));

    let mut seen = Vec::new();
    let mut start = 0;
    let mut pages = 0;
    loop {
        let resp = client.call(&friend_get::Request::new("owner", start)).await.unwrap();
        pages += 1;
        assert_eq!(resp.friend_num, Some(130));
        for f in resp.user_data_item.unwrap_or_default() {
            let values = f.value_item.unwrap_or_default();
            assert!(values
                .iter()
                .any(|v| v.tag == "Tag_SNS_IM_AddSource" && v.value == json!("AddSource_Type_Import")));
            assert!(values.iter().any(|v| v.tag == "Tag_SNS_Custom_Rank"));
            seen.push(f.to_account);
        }
        if resp.complete_flag != Some(0) {
            assert_eq!(resp.next_start_index, Some(0));
            break;
        }
        start = resp.next_start_index.unwrap_or(0);
        assert!(pages < 10);
    }
    assert!(pages > 1);
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn unknown_accounts_get_the_documented_per_item_code() {
    let (_server, client) = setup(&["alice"]).await;
    let resp = add(&client, "alice", "ghost", friend_add::AddType::Both).await;
    assert_eq!(resp.fail_account, Some(vec!["ghost".to_owned()]));
    assert_eq!(
        resp.result_item.unwrap_or_default()[0].result_code,
        code(&friend_add::META, ErrorRole::AccountNotFound)
    );
    let resp = client
        .call(&friend_check::Request::new("alice", strings(&["ghost"]), friend_check::CheckType::Both))
        .await
        .unwrap();
    assert_eq!(
        resp.info_item.unwrap_or_default()[0].result_code,
        Some(code(&friend_check::META, ErrorRole::AccountNotFound))
    );
    // A From_Account that does not exist fails the whole call.
    let err = client.call(&friend_get::Request::new("ghost", 0u64)).await.unwrap_err();
    assert!(
        matches!(err, tim_runtime::Error::Api(ref e) if e.code() == code(&friend_get::META, ErrorRole::AccountNotFound)),
        "{err:?}"
    );
}

#[tokio::test]
async fn deleting_an_account_removes_it_from_friends_and_blocklists() {
    let (server, client) = setup(&["alice", "bob", "carol"]).await;
    add(&client, "alice", "bob", friend_add::AddType::Both).await;
    add(&client, "carol", "bob", friend_add::AddType::Single).await;
    client
        .call(&black_list_add::Request::new("bob", strings(&["alice"])))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client.call(&black_list_add::Request::new("carol", strings(&["bob"]))).await.unwrap();
    client.call(&account_delete::Request::new(vec![account_delete::DeleteItem::new("bob")])).await.unwrap();

    assert_eq!(relations(&client, "carol", &["alice"], true).await, ["CheckResult_Type_NoRelation"]);
    let resp = client.call(&friend_get::Request::new("carol", 0u64)).await.unwrap();
    assert_eq!(resp.friend_num, Some(0));
    let resp = client.call(&black_list_get::Request::new("carol", 0u64, 10u32, 0u64)).await.unwrap();
    assert_eq!(resp.black_list_item.unwrap_or_default().len(), 0);
    let resp = client
        .call(&friend_check::Request::new("alice", strings(&["bob"]), friend_check::CheckType::Both))
        .await
        .unwrap();
    assert_eq!(
        resp.info_item.unwrap_or_default()[0].result_code,
        Some(code(&friend_check::META, ErrorRole::AccountNotFound))
    );
    assert!(!server.world(|w| w.mentions_account("bob")));
}

/// Every callback the friend calls send parses as its known callback and
/// uses only the payload fields its spec declares.
#[tokio::test]
async fn emitted_callbacks_follow_their_specs() {
    let (server, client) = setup(&["alice", "bob", "carol"]).await;
    add(&client, "alice", "bob", friend_add::AddType::Both).await;
    add(&client, "alice", "carol", friend_add::AddType::Single).await;
    client.call(&friend_delete::Request::new("alice", strings(&["carol"]))).await.unwrap();
    client.call(&black_list_add::Request::new("alice", strings(&["bob"]))).await.unwrap();
    client.call(&black_list_delete::Request::new("alice", strings(&["bob"]))).await.unwrap();

    let sent = server.callbacks();
    let commands: Vec<&str> = sent.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            "Sns.CallbackFriendAdd",
            "Sns.CallbackFriendAdd",
            "Sns.CallbackFriendDelete",
            "Sns.CallbackBlackListAdd",
            "Sns.CallbackFriendDelete",
            "Sns.CallbackBlackListDelete"
        ]
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let specs = tim_codegen::load_dir(&dir, std::path::Path::new("specs")).unwrap_or_else(|e| panic!("{e}"));
    for s in &sent {
        let spec = specs.callbacks.iter().find(|c| c.command == s.command).unwrap();
        let declared: Vec<&str> =
            spec.payload.iter().map(|f| f.wire.as_str()).chain(["CallbackCommand"]).collect();
        for key in s.body.as_object().unwrap().keys() {
            assert!(declared.contains(&key.as_str()), "{}: `{key}` is not in the spec", s.command);
        }
        let cb = Callback::parse(&s.command, &serde_json::to_vec(&s.body).unwrap()).unwrap();
        assert!(cb.is_known(), "{}", s.command);
    }
}
