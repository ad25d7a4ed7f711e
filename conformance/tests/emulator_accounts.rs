//! Accounts and profiles through the typed client against the stateful mock:
//! imports are seen by checks and profile reads, profile writes fire their
//! callback, and a deleted account is gone everywhere.

mod support;

use std::time::Duration;

use serde_json::json;
use tim_core::callback::CallbackSet;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::callbacks::Callback;
use tim_runtime::api::im_open_login_svc::{
    account_check, account_delete, account_import, kick, multiaccount_import,
};
use tim_runtime::api::profile::{portrait_get, portrait_set};
use tim_runtime::api::sns::{black_list_add, friend_add};
use tim_runtime::api::types::ProfileItem;
use tim_runtime::{ApiErrorKind, Client, EndpointMeta, Error, ErrorRole};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

async fn server() -> MockServer {
    let url = support::ok_receiver().await;
    MockServer::start(MockConfig::new(APPID, KEY, ADMIN).callbacks(&url, None).unwrap()).await.unwrap()
}

fn client(server: &MockServer) -> Client {
    server.client_builder().timeout(Duration::from_secs(5)).build().unwrap()
}

/// The code `meta`'s spec gives `role`.
fn code(meta: &EndpointMeta, role: ErrorRole) -> i64 {
    meta.error_with_role(role).map(|e| e.code).unwrap()
}

async fn import(client: &Client, id: &str, nick: &str) {
    client.call(&account_import::Request::new(id).nick(nick)).await.unwrap();
}

async fn statuses(client: &Client, ids: &[&str]) -> Vec<(String, String)> {
    let items: Vec<_> = ids.iter().map(|id| account_check::CheckItem::new(*id)).collect();
    let resp = client.call(&account_check::Request::new(items)).await.unwrap();
    resp.result_item
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            assert_eq!(r.result_code, 0);
            (r.user_id, r.account_status.map(|s| s.as_str().to_owned()).unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn imports_are_checked_and_reimport_updates_the_profile() {
    let server = server().await;
    let client = client(&server);
    import(&client, "alice", "Alice").await;
    // The older and the newer form of multiaccount_import.
    let resp = client
        .call(&multiaccount_import::Request::new().accounts(vec!["bob".to_owned(), "x".repeat(33)]))
        .await
        .unwrap();
    assert_eq!(resp.fail_accounts, Some(vec!["x".repeat(33)]));
    let list = vec![
        multiaccount_import::ImportedAccount::new("carol").nick("Carol"),
        multiaccount_import::ImportedAccount::new("alice").nick("Alicia").face_url("https://img/alice.png"),
    ];
    let resp = client.call(&multiaccount_import::Request::new().account_list(list)).await.unwrap();
    assert_eq!(resp.fail_accounts, Some(vec![]));

    let st = statuses(&client, &["alice", "bob", "carol", "dave"]).await;
    let st: Vec<(&str, &str)> = st.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        st,
        [("alice", "Imported"), ("bob", "Imported"), ("carol", "Imported"), ("dave", "NotImported")]
    );
    assert_eq!(server.world(|w| w.accounts.nick("alice").map(str::to_owned)), Some("Alicia".to_owned()));

    // The import's Nick and FaceUrl are the nickname and image tags.
    let resp = client
        .call(&portrait_get::Request::new(
            vec!["alice".to_owned()],
            vec!["Tag_Profile_IM_Nick".to_owned(), "Tag_Profile_IM_Image".to_owned()],
        ))
        .await
        .unwrap();
    let items = resp.user_profile_item.unwrap_or_default();
    let profile = items[0].profile_item.clone().unwrap_or_default();
    assert_eq!(profile[0].tag, "Tag_Profile_IM_Nick");
    assert_eq!(profile[0].value, json!("Alicia"));
    assert_eq!(profile[1].value, json!("https://img/alice.png"));

    client.call(&kick::Request::new("alice")).await.unwrap();
    let err = client.call(&kick::Request::new("dave")).await.unwrap_err();
    assert!(
        matches!(err, Error::Api(ref e) if e.code() == code(&kick::META, ErrorRole::AccountNotFound)),
        "{err:?}"
    );
}

#[tokio::test]
async fn portrait_set_then_get_round_trips_and_fires_its_callback() {
    let server = server().await;
    let client = client(&server);
    import(&client, "alice", "Alice").await;
    let items = vec![
        ProfileItem::new("Tag_Profile_IM_Nick", json!("Queen Alice")),
        ProfileItem::new("Tag_Profile_IM_AllowType", json!("AllowType_Type_NeedConfirm")),
        ProfileItem::new("Tag_Profile_Custom_Level", json!(7)),
    ];
    client.call(&portrait_set::Request::new("alice", items)).await.unwrap();

    let sent = server.callbacks();
    let cb = sent.iter().find(|c| c.command == "Profile.CallbackPortraitSet").expect("portrait callback");
    assert_eq!(cb.body["From_Account"], "alice");
    assert_eq!(cb.body["Operator_Account"], ADMIN);
    assert_eq!(cb.body["ProfileItem"][2], json!({"Tag": "Tag_Profile_Custom_Level", "Value": 7}));
    // The body is the callback the spec describes.
    let parsed = Callback::parse(&cb.command, &serde_json::to_vec(&cb.body).unwrap()).unwrap();
    assert!(parsed.is_known());

    let tags = ["Tag_Profile_IM_Nick", "Tag_Profile_Custom_Level", "Tag_Profile_IM_AllowType"];
    let resp = client
        .call(&portrait_get::Request::new(
            vec!["alice".to_owned()],
            tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(),
        ))
        .await
        .unwrap();
    assert_eq!(resp.fail_account, None);
    let user = &resp.user_profile_item.unwrap_or_default()[0];
    assert_eq!(user.result_code, Some(0));
    let values: Vec<(String, serde_json::Value)> =
        user.profile_item.clone().unwrap_or_default().into_iter().map(|p| (p.tag, p.value)).collect();
    assert_eq!(
        values,
        [
            ("Tag_Profile_IM_Nick".to_owned(), json!("Queen Alice")),
            ("Tag_Profile_Custom_Level".to_owned(), json!(7)),
            ("Tag_Profile_IM_AllowType".to_owned(), json!("AllowType_Type_NeedConfirm")),
        ]
    );

    // Writing the profile of an account that does not exist is refused.
    let err = client
        .call(&portrait_set::Request::new("ghost", vec![ProfileItem::new("Tag_Profile_IM_Nick", json!("x"))]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Api(ref e) if e.code() == code(&portrait_set::META, ErrorRole::AccountNotFound)),
        "{err:?}"
    );
}

#[tokio::test]
async fn deleting_an_account_removes_it_everywhere() {
    let server = server().await;
    let client = client(&server);
    for id in ["alice", "bob", "carol"] {
        import(&client, id, id).await;
    }
    let add =
        friend_add::Request::new("alice", vec![friend_add::AddFriendItem::new("bob")]).force_add_flags(1u8);
    client.call(&add).await.unwrap();
    client.call(&black_list_add::Request::new("carol", vec!["bob".to_owned()])).await.unwrap();
    assert!(server.world(|w| w.friends.is_friend("alice", "bob") && w.friends.is_blocked("carol", "bob")));

    let resp = client
        .call(&account_delete::Request::new(vec![
            account_delete::DeleteItem::new("bob"),
            account_delete::DeleteItem::new("nobody"),
        ]))
        .await
        .unwrap();
    let results = resp.result_item.unwrap_or_default();
    assert_eq!((results[0].user_id.as_str(), results[0].result_code), ("bob", 0));
    assert_eq!(results[1].user_id, "nobody");
    assert_eq!(results[1].result_code, code(&account_delete::META, ErrorRole::AccountNotFound));

    assert_eq!(statuses(&client, &["bob"]).await, [("bob".to_owned(), "NotImported".to_owned())]);
    let resp = client
        .call(&portrait_get::Request::new(
            vec!["alice".to_owned(), "bob".to_owned()],
            vec!["Tag_Profile_IM_Nick".to_owned()],
        ))
        .await
        .unwrap();
    assert_eq!(resp.fail_account, Some(vec!["bob".to_owned()]));
    let users = resp.user_profile_item.unwrap_or_default();
    assert_eq!(users[0].result_code, Some(0));
    assert_eq!(users[1].result_code, Some(code(&portrait_get::META, ErrorRole::AccountNotFound)));

    server.world(|w| {
        assert!(!w.accounts.exists("bob"));
        assert!(!w.mentions_account("bob"));
        assert!(w.friends.friends_of("alice").is_empty());
        assert!(w.friends.blocklist_of("carol").is_empty());
    });
}
