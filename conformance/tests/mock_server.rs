//! The mock server checks what the real service checks, and the generated
//! client talks to it end to end.

use std::time::Duration;

use serde_json::json;
use tim_emulator::{Fault, MockConfig, MockServer, Outcome};
use tim_runtime::api::group_open_http_svc::set_unread_msg_num;
use tim_runtime::api::openim::{admin_set_msg_read, c2c_msg_read_receipt};
use tim_runtime::{ApiErrorKind, Client, Error, UserSigKey};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

async fn server() -> MockServer {
    MockServer::start(MockConfig::new(APPID, KEY, ADMIN).replay()).await.unwrap()
}

fn client(server: &MockServer) -> Client {
    Client::builder(APPID, ADMIN, KEY)
        .base_url(&server.base_url())
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Posts a raw body with a valid auth query, bypassing the typed client.
async fn raw_post(server: &MockServer, path: &str, body: &str) -> serde_json::Value {
    let sig = UserSigKey::new(APPID, KEY).gen(ADMIN, Duration::from_secs(600));
    let url = format!(
        "{}/{path}?sdkappid={APPID}&identifier={ADMIN}&usersig={}&random=7&contenttype=json",
        server.base_url(),
        sig.replace('*', "%2A")
    );
    let resp = reqwest::Client::new().post(url).body(body.to_owned()).send().await.unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn typed_calls_reach_the_mock_with_exact_bodies() {
    let server = server().await;
    let client = client(&server);
    client.call(&admin_set_msg_read::Request::new("dramon1", "dramon2")).await.unwrap();
    let receipt = c2c_msg_read_receipt::Request::new(
        "user1",
        "user2",
        vec![c2c_msg_read_receipt::C2cMsgInfo::new("user2", "user1", "1467329515_5675354_1708676941")],
    );
    client.call(&receipt).await.unwrap();
    client.call(&set_unread_msg_num::Request::new("@TGS#2CLUZEAEJ", "bob", 5u32)).await.unwrap();

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].path, "v4/openim/admin_set_msg_read");
    assert_eq!(reqs[0].json().unwrap(), json!({"Report_Account": "dramon1", "Peer_Account": "dramon2"}));
    assert!(!String::from_utf8_lossy(&reqs[0].body).contains("null"));
    assert_eq!(
        reqs[1].json().unwrap(),
        json!({"Operator_Account": "user1", "Peer_Account": "user2",
               "C2CMsgInfo": [{"From_Account": "user2", "To_Account": "user1", "MsgKey": "1467329515_5675354_1708676941"}]})
    );
    assert_eq!(
        reqs[2].json().unwrap(),
        json!({"GroupId": "@TGS#2CLUZEAEJ", "Member_Account": "bob", "UnreadMsgNum": 5})
    );
    for r in &reqs {
        assert_eq!(r.outcome, Outcome::Replied(0));
        assert_eq!(r.query_param("contenttype"), Some("json"));
        assert_eq!(r.query_param("sdkappid"), Some("1400000001"));
        assert_eq!(r.query_param("identifier"), Some(ADMIN));
        UserSigKey::new(APPID, KEY).verify(ADMIN, r.query_param("usersig").unwrap()).unwrap();
    }
}

#[tokio::test]
async fn wrong_key_is_rejected_with_a_usersig_code() {
    let server = server().await;
    let client = Client::builder(APPID, ADMIN, "not-the-key").base_url(&server.base_url()).build().unwrap();
    let err = client.call(&admin_set_msg_read::Request::new("a", "b")).await.unwrap_err();
    match err {
        Error::Api(e) => assert_eq!(e.code(), 70009),
        other => panic!("expected API error, got {other:?}"),
    }
    // Renewed once and resent once, never in a loop.
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn non_admin_identifier_is_rejected() {
    let server = server().await;
    let client = Client::builder(APPID, "someone", KEY).base_url(&server.base_url()).build().unwrap();
    let err = client.call(&admin_set_msg_read::Request::new("a", "b")).await.unwrap_err();
    assert!(matches!(err, Error::Api(ref e) if e.code() == 60010), "{err:?}");
}

#[tokio::test]
async fn body_problems_get_documented_codes() {
    let server = server().await;
    let path = "v4/openim/admin_set_msg_read";
    assert_eq!(raw_post(&server, path, "{not json").await["ErrorCode"], 90001);
    assert_eq!(raw_post(&server, path, r#"{"Report_Account": "a"}"#).await["ErrorCode"], 90003);
    assert_eq!(raw_post(&server, path, r#"{"Peer_Account": "a"}"#).await["ErrorCode"], 90008);
    let receipt =
        r#"{"Operator_Account":"u1","Peer_Account":"u2","C2CMsgInfo":[{"From_Account":"u2","MsgKey":"k"}]}"#;
    let reply = raw_post(&server, "v4/openim/c2c_msg_read_receipt", receipt).await;
    assert_eq!(reply["ErrorCode"], 90003, "{reply}");
    assert!(reply["ErrorInfo"].as_str().unwrap().contains("C2CMsgInfo[0].To_Account"), "{reply}");
    let bad_type = r#"{"GroupId":"g","Member_Account":"m","UnreadMsgNum":"five"}"#;
    assert_eq!(
        raw_post(&server, "v4/group_open_http_svc/set_unread_msg_num", bad_type).await["ErrorCode"],
        10004
    );
    assert_eq!(raw_post(&server, "v4/openim/no_such_api", "{}").await["ErrorCode"], 60009);
}

#[tokio::test]
async fn oversized_body_is_rejected() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).replay().max_body(64)).await.unwrap();
    let big = format!(r#"{{"Report_Account":"{}","Peer_Account":"b"}}"#, "x".repeat(100));
    let reply = raw_post(&server, "v4/openim/admin_set_msg_read", &big).await;
    assert_eq!(reply["ErrorCode"], 70402);
}

#[tokio::test]
async fn unsupported_group_types_are_ignored_as_documented() {
    let server = server().await;
    server.register_group("@room", "ChatRoom");
    server.register_group("@live", "AVChatRoom");
    server.register_group("@pub", "Public");
    let client = client(&server);
    for g in ["@room", "@live", "@pub"] {
        client.call(&set_unread_msg_num::Request::new(g, "bob", 3u32)).await.unwrap();
    }
    let outcomes: Vec<_> = server.requests().into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Outcome::Ignored, Outcome::Ignored, Outcome::Replied(0)]);
}

#[tokio::test]
async fn faults_502_and_retryable_codes_are_retried_on_idempotent_endpoints() {
    let server = server().await;
    let client = client(&server);
    server.push_fault(Fault::HttpStatus(502));
    server.push_fault(Fault::ErrorCode(60007, "busy".into()));
    client.call(&admin_set_msg_read::Request::new("a", "b")).await.unwrap();
    let outcomes: Vec<_> = server.requests().into_iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Fault(Fault::HttpStatus(502)),
            Outcome::Fault(Fault::ErrorCode(60007, "busy".into())),
            Outcome::Replied(0)
        ]
    );
}

#[tokio::test]
async fn truncated_body_and_timeouts_become_errors() {
    let server = server().await;
    let client = Client::builder(APPID, ADMIN, KEY)
        .base_url(&server.base_url())
        .max_attempts(1)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    server.push_fault(Fault::TruncatedBody);
    server.push_reply(
        "v4/openim/admin_set_msg_read",
        json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "Padding": "xxxxxxxxxxxxxxxx"}),
    );
    let err = client.call(&admin_set_msg_read::Request::new("a", "b")).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    server.push_fault(Fault::Delay(Duration::from_secs(2)));
    let err = client.call(&admin_set_msg_read::Request::new("a", "b")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. } | Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn api_errors_are_typed_with_meaning() {
    let server = server().await;
    let client = client(&server);
    server.push_fault(Fault::ErrorCode(10010, "group gone".into()));
    let err = client.call(&set_unread_msg_num::Request::new("g", "m", 1u32)).await.unwrap_err();
    let Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!(*api, set_unread_msg_num::Error::GroupNotFound("group gone".into()));
    assert!(err.to_string().contains("10010") && err.to_string().contains("does not exist"), "{err}");
    server.push_fault(Fault::ErrorCode(12345, "new".into()));
    let err = client.call(&set_unread_msg_num::Request::new("g", "m", 1u32)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api(set_unread_msg_num::Error::Unknown(u)) if u.code() == 12345 && !u.info().is_empty()),
        "{err:?}"
    );
}
