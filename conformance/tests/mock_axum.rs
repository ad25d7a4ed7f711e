//! End to end: the typed client calls the mock, the mock fires signed
//! callbacks at a receiver built with the axum adapter (the README's
//! moderation handler), and the receiver's decisions reach the caller.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tim_emulator::world::World;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::callbacks::{c2c, group, Callback};
use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};
use tim_runtime::api::{group_open_http_svc::send_group_msg, openim::sendmsg};
use tim_runtime::callback::{CallbackEvent, CallbackReceiver, CallbackReply, CallbackSet, CallbackVerifier};
use tim_runtime::{ApiErrorKind, Client, Error};

const APPID: u64 = 1_400_000_099;
const KEY: &str = "axum-e2e-secret";
const ADMIN: &str = "administrator";
const TOKEN: &str = "axum-e2e-token";

fn said(body: &Option<tim_runtime::api::types::MsgBody>, word: &str) -> bool {
    body.iter()
        .flatten()
        .any(|e| matches!(e, MsgBodyElem::Text(t) if t.text.as_deref().is_some_and(|x| x.contains(word))))
}

/// Denies one-to-one and group messages that contain "forbidden", and
/// records every command it saw.
async fn moderate(seen: Arc<Mutex<Vec<String>>>, event: CallbackEvent<Callback>) -> CallbackReply {
    seen.lock().unwrap().push(event.callback.command().to_owned());
    match event.callback {
        Callback::C2cBeforeSendMsg(m) if said(&m.msg_body, "forbidden") => {
            c2c::before_send_msg::Reply::deny().into()
        }
        Callback::GroupBeforeSendMsg(m) if said(&m.msg_body, "forbidden") => {
            group::before_send_msg::Reply::deny().into()
        }
        _ => CallbackReply::ok(),
    }
}

async fn receiver(seen: Arc<Mutex<Vec<String>>>) -> String {
    let verifier = CallbackVerifier::new(APPID, TOKEN).unwrap();
    let app = tim_runtime::callback_axum::router(CallbackReceiver::new(verifier), move |event| {
        moderate(Arc::clone(&seen), event)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn text(t: &str) -> Vec<MsgBodyElem> {
    vec![MsgBodyElem::Text(TIMTextElem::new().text(t))]
}

#[tokio::test]
async fn decisions_of_an_axum_receiver_reach_the_caller() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = receiver(Arc::clone(&seen)).await;
    let mut world = World::new(ADMIN);
    world.accounts.ensure("bob");
    let config = MockConfig::new(APPID, KEY, ADMIN).state(world).callbacks(&url, Some(TOKEN)).unwrap();
    let mock = MockServer::start(config).await.unwrap();
    let client = Client::builder(APPID, ADMIN, KEY)
        .base_url(&mock.base_url())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    // Allowed: delivered, both callbacks verified and handled.
    client.call(&sendmsg::Request::new("bob", 1_u32, text("hello"))).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), ["C2C.CallbackBeforeSendMsg", "C2C.CallbackAfterSendMsg"]);

    // Denied: the caller gets the documented one-to-one refusal, and no after-callback is sent.
    let err = client.call(&sendmsg::Request::new("bob", 2_u32, text("a forbidden word"))).await.unwrap_err();
    let caller_error =
        c2c::before_send_msg::META.decisions.iter().find(|d| d.name == "deny").unwrap().caller_error;
    match err {
        Error::Api(api) => assert_eq!(Some(api.code()), caller_error, "{api}"),
        other => panic!("expected the refusal, got {other}"),
    }
    assert_eq!(seen.lock().unwrap().len(), 3);

    // Groups: the documented group refusal.
    let create =
        tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, "v4/group_open_http_svc/create_group")
            .unwrap();
    let group = json!({"Owner_Account": "bob", "Type": "Public", "GroupId": "moderated", "Name": "m"});
    (create.call_json)(&client, group).await.unwrap();
    let err =
        client.call(&send_group_msg::Request::new("moderated", 3_u32, text("forbidden"))).await.unwrap_err();
    let caller_error =
        group::before_send_msg::META.decisions.iter().find(|d| d.name == "deny").unwrap().caller_error;
    match err {
        Error::Api(api) => assert_eq!(Some(api.code()), caller_error, "{api}"),
        other => panic!("expected the refusal, got {other}"),
    }
    let emitted = mock.callbacks();
    assert!(emitted.iter().all(|c| c.query_param("Sign").is_some()), "every callback is signed");
    assert_eq!(seen.lock().unwrap().last().map(String::as_str), Some("Group.CallbackBeforeSendMsg"));
}
