//! Limits the service enforces, as the emulator enforces them: the
//! documented per-endpoint rate limits answer the endpoint's frequency code
//! (so a client's throttling can be tested) unless turned off, and a client
//! that throttles itself to the documented rate is never refused.

use std::time::Duration;

use serde_json::json;
use tim_emulator::{MockConfig, MockServer, Outcome};
use tim_runtime::{dynamic, Client, Error, ErrorRole};

const APPID: u64 = 1_400_000_011;
const KEY: &str = "limits-secret";
const ADMIN: &str = "administrator";
/// Documented at 10 calls per second.
const PATH: &str = "v4/open_msg_svc/get_history";

/// A client that paces itself (`throttle`) or sends at once and gets the
/// frequency errors back (no deadline to retry them in).
fn client(server: &MockServer, throttle: bool) -> Client {
    Client::builder(APPID, ADMIN, KEY)
        .base_url(&server.base_url())
        .rate_limit(throttle)
        .deadline(if throttle { Duration::from_secs(60) } else { Duration::ZERO })
        .max_attempts(1)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Makes `n` calls as fast as the client lets it; the codes refused. The
/// hour asked for is long gone, so a call that gets through is answered
/// from the state with the documented "file expired" code, which is not a
/// refusal.
async fn burst(client: &Client, n: usize) -> Vec<i64> {
    let entry = dynamic::find(tim_runtime::api::ENDPOINTS, PATH).unwrap();
    let expired = entry.meta.errors.iter().find(|e| e.name == "FileExpired").unwrap().code;
    let mut refused = Vec::new();
    for _ in 0..n {
        match (entry.call_json)(client, json!({"ChatType": "C2C", "MsgTime": "2015120121"})).await {
            Ok(_) => {}
            Err(Error::Api(e)) if e.code == expired => {}
            Err(Error::Api(e)) => refused.push(e.code),
            Err(other) => panic!("{other}"),
        }
    }
    refused
}

#[tokio::test]
async fn over_the_documented_rate_calls_get_the_frequency_code() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    let meta = dynamic::find(tim_runtime::api::ENDPOINTS, PATH).unwrap().meta;
    assert_eq!(meta.rate_limit.calls, 10);
    let expected = meta.error_with_role(ErrorRole::RateLimited).unwrap().code;
    let refused = burst(&client(&server, false), 30).await;
    assert!(!refused.is_empty(), "30 calls at once were all accepted");
    assert!(refused.iter().all(|c| *c == expected), "{refused:?}");
    // The first calls of the second fit in the bucket.
    let outcomes: Vec<Outcome> = server.requests().into_iter().map(|r| r.outcome).collect();
    let limited = Outcome::Replied(expected);
    assert!(outcomes[..10].iter().all(|o| *o != limited), "{outcomes:?}");
}

#[tokio::test]
async fn a_client_throttling_itself_is_never_refused() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    assert_eq!(burst(&client(&server, true), 15).await, Vec::<i64>::new());
}

#[tokio::test]
async fn frequency_errors_are_retried_with_a_slower_pace_until_they_pass() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    // No pacing of its own: the emulator refuses part of the burst, and the
    // client waits and sends again until every call gets through.
    let unpaced = Client::builder(APPID, ADMIN, KEY)
        .base_url(&server.base_url())
        .rate_limit(false)
        .max_attempts(1)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(burst(&unpaced, 25).await, Vec::<i64>::new());
    let meta = dynamic::find(tim_runtime::api::ENDPOINTS, PATH).unwrap().meta;
    let limited = Outcome::Replied(meta.error_with_role(ErrorRole::RateLimited).unwrap().code);
    let refused = server.requests().iter().filter(|r| r.outcome == limited).count();
    assert!(refused > 0, "the burst was never refused, so nothing was retried");
    // 25 calls at 10/s cannot take less than 1.5 s once the first 10 are spent.
    assert!(started.elapsed() >= Duration::from_millis(1400), "{:?}", started.elapsed());
}

#[tokio::test]
async fn rate_limits_can_be_turned_off() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).rate_limits(false)).await.unwrap();
    assert_eq!(burst(&client(&server, false), 30).await, Vec::<i64>::new());
}

#[tokio::test]
async fn batches_over_the_documented_size_are_refused_and_change_nothing() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    let entry =
        dynamic::find(tim_runtime::api::ENDPOINTS, "v4/im_open_login_svc/multiaccount_import").unwrap();
    let too_many: Vec<String> = (0..101).map(|i| format!("user{i}")).collect();
    let body = serde_json::to_vec(&json!({ "Accounts": too_many })).unwrap();
    // Sent as raw bytes: the typed client would refuse it before sending.
    let url = format!(
        "{}/v4/im_open_login_svc/multiaccount_import?sdkappid={APPID}&identifier={ADMIN}&usersig={}&random=1&contenttype=json",
        server.base_url(),
        tim_runtime::UserSigKey::new(APPID, KEY).gen(ADMIN, Duration::from_secs(60)).replace('*', "%2A"),
    );
    let resp = reqwest::Client::new().post(url).body(body).send().await.unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    let expected = entry.meta.error_for_field("Accounts").unwrap().code;
    assert_eq!(reply["ErrorCode"], expected, "{reply}");
    server.world(|w| assert!(!w.accounts.exists("user0")));
    // The client refuses the same body locally, naming the field.
    let local = (entry.parse_request)(
        &serde_json::to_vec(&json!({ "Accounts": (0..101).map(|i| i.to_string()).collect::<Vec<_>>() }))
            .unwrap(),
    );
    assert!(local.is_err_and(|e| e.path.contains("Accounts")));
}

#[tokio::test]
async fn batches_are_counted_per_recipient_against_a_raised_quota() {
    let path = "v4/openim/batchsendmsg";
    let entry = dynamic::find(tim_runtime::api::ENDPOINTS, path).unwrap();
    let quota = entry.meta.rate_limits.iter().find(|l| l.main).unwrap();
    // A quota of 100 recipients a minute, as `tim mock --limit` sets it.
    let config = MockConfig::new(APPID, KEY, ADMIN).limit(path, tim_runtime::RateLimit::per_minute(100));
    let server = MockServer::start(config).await.unwrap();
    let client = client(&server, false);
    let accounts: Vec<String> = (0..60).map(|i| format!("r{i}")).collect();
    let import =
        dynamic::find(tim_runtime::api::ENDPOINTS, "v4/im_open_login_svc/multiaccount_import").unwrap();
    (import.call_json)(&client, json!({"Accounts": accounts})).await.unwrap();
    let send = json!({"From_Account": ADMIN, "To_Account": accounts, "MsgRandom": 1,
                      "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]});
    (entry.call_json)(&client, send.clone()).await.unwrap();
    // 60 + 60 recipients pass 100 a minute: the documented code.
    match (entry.call_json)(&client, send).await {
        Err(Error::Api(e)) => assert_eq!(Some(e.code), quota.code),
        other => panic!("expected the batch quota code, got {other:?}"),
    }
}

#[tokio::test]
async fn group_messages_are_limited_per_group() {
    let path = "v4/group_open_http_svc/send_group_msg";
    let entry = dynamic::find(tim_runtime::api::ENDPOINTS, path).unwrap();
    let per_group = entry.meta.rate_limits.iter().find(|l| l.per == Some("GroupId")).unwrap();
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    let client = client(&server, false);
    let create = dynamic::find(tim_runtime::api::ENDPOINTS, "v4/group_open_http_svc/create_group").unwrap();
    for id in ["busy", "quiet"] {
        (create.call_json)(
            &client,
            json!({"Owner_Account": ADMIN, "Type": "Public", "Name": id, "GroupId": id}),
        )
        .await
        .unwrap();
    }
    let send = |g: &str| json!({"GroupId": g, "Random": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]});
    let mut codes = Vec::new();
    for _ in 0..per_group.limit.calls + 20 {
        if let Err(Error::Api(e)) = (entry.call_json)(&client, send("busy")).await {
            codes.push(e.code);
        }
    }
    assert!(!codes.is_empty() && codes.iter().all(|c| Some(*c) == per_group.code), "{codes:?}");
    // Another group has its own budget.
    (entry.call_json)(&client, send("quiet")).await.unwrap();
}

#[tokio::test]
async fn passing_80_percent_of_a_limit_sends_the_alert_callback() {
    use tim_runtime::api::callbacks::alert::request_over_limit as over_limit;
    // A loopback port nothing listens on: the callback is refused at once and still recorded.
    let config = MockConfig::new(APPID, KEY, ADMIN).callbacks("http://127.0.0.1:9/cb", None).unwrap();
    let server = MockServer::start(config).await.unwrap();
    let meta = dynamic::find(tim_runtime::api::ENDPOINTS, PATH).unwrap().meta;
    burst(&client(&server, false), meta.rate_limit.calls as usize).await;
    let alerts: Vec<_> =
        server.callbacks().into_iter().filter(|c| c.command == over_limit::META.command).collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let body = &alerts[0].body;
    assert_eq!(
        (body["ServiceName"].as_str(), body["Command"].as_str()),
        (Some("open_msg_svc"), Some("get_history"))
    );
    assert_eq!(body["Limit"], meta.rate_limit.calls);
    let percent = over_limit::META.limit("alert_percent").unwrap().max;
    assert!(body["Request"].as_u64().unwrap() * 100 >= percent * u64::from(meta.rate_limit.calls), "{body}");
}
