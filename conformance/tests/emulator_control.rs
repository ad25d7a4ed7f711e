//! The emulator as a long-running product: the control API under `/__tim/`
//! (reset, state export and import, the logs), its credentials off
//! loopback, and the bounds on what a client can make it hold (bodies read
//! only after authentication, declared oversize refused unread, broken
//! bodies named as such, logs capped in bytes, connections capped and timed
//! out).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::im_open_login_svc::{account_check, account_import};
use tim_runtime::api::openim::sendmsg;
use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};
use tim_runtime::UserSigKey;

const APPID: u64 = 1_400_000_002;
const KEY: &str = "control-secret";
const ADMIN: &str = "administrator";

fn config() -> MockConfig {
    MockConfig::new(APPID, KEY, ADMIN)
}

fn auth_query() -> String {
    let sig = UserSigKey::new(APPID, KEY).gen(ADMIN, Duration::from_secs(600));
    format!(
        "sdkappid={APPID}&identifier={ADMIN}&usersig={}&random=7&contenttype=json",
        sig.replace('*', "%2A")
    )
}

async fn control(
    server: &MockServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}/__tim/{path}", server.base_url()));
    if let Some(body) = body {
        req = req.body(body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes))),
    )
}

async fn raw_post(server: &MockServer, path: &str, body: Vec<u8>) -> Value {
    let url = format!("{}/{path}?{}", server.base_url(), auth_query());
    let resp = reqwest::Client::new().post(url).body(body).send().await.unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

fn text(t: &str) -> Vec<MsgBodyElem> {
    vec![MsgBodyElem::Text(TIMTextElem::new().text(t))]
}

#[tokio::test]
async fn reset_export_import_and_logs() {
    let server = MockServer::start(config()).await.unwrap();
    let client = server.client_builder().build().unwrap();
    client.call(&account_import::Request::new("alice")).await.unwrap();
    client.call(&account_import::Request::new("bob")).await.unwrap();
    client.call(&sendmsg::Request::new("bob", 1u32, text("hi")).from_account("alice")).await.unwrap();

    // The state, in the state file's format.
    let (status, exported) = control(&server, reqwest::Method::GET, "state", None).await;
    assert_eq!(status, 200);
    assert_eq!(exported["format"], "tim-emulator-state");
    assert_eq!(exported["version"], 1);
    assert!(exported["world"]["accounts"]["accounts"]["alice"].is_object(), "{exported}");

    // The request log: path, code, latency; no query (it holds the UserSig).
    let (status, requests) = control(&server, reqwest::Method::GET, "requests", None).await;
    assert_eq!(status, 200);
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 3);
    let last = &requests[2];
    assert_eq!(last["path"], "v4/openim/sendmsg");
    assert_eq!(last["ErrorCode"], 0);
    assert!(last["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(last["body"]["To_Account"], "bob");
    assert!(!last.to_string().contains("usersig"));

    // Reset: only the admin is left, and the logs are empty.
    let (status, _) = control(&server, reqwest::Method::POST, "reset", None).await;
    assert_eq!(status, 200);
    server.world(|w| assert_eq!(w.accounts.ids(), [ADMIN]));

    // An invalid document is a 400 and changes nothing.
    for bad in [&b"{}"[..], b"[]", br#"{"format":"tim-emulator-state","version":1,"world":{"acounts":{}}}"#] {
        let (status, err) = control(&server, reqwest::Method::PUT, "state", Some(bad.to_vec())).await;
        assert_eq!(status, 400, "{err}");
        assert!(err["error"].as_str().unwrap().contains("not a state document"), "{err}");
    }
    server.world(|w| assert_eq!(w.accounts.ids(), [ADMIN]));

    // The exported state comes back whole.
    let (status, _) =
        control(&server, reqwest::Method::PUT, "state", Some(serde_json::to_vec(&exported).unwrap())).await;
    assert_eq!(status, 200);
    assert!(server.world(|w| w.accounts.exists("alice")));
    assert_eq!(server.world(|w| w.c2c.unread("bob", "alice")), 1);

    // Wrong methods and unknown control paths say what exists.
    let (status, _) = control(&server, reqwest::Method::GET, "reset", None).await;
    assert_eq!(status, 405);
    let (status, err) = control(&server, reqwest::Method::GET, "nothing", None).await;
    assert_eq!(status, 404);
    assert!(err["error"].as_str().unwrap().contains("/__tim/reset"));
}

#[tokio::test]
async fn a_state_without_the_admin_gets_it_back() {
    let server = MockServer::start(config()).await.unwrap();
    let doc = br#"{"format":"tim-emulator-state","version":1,"world":{"accounts":{"accounts":{"zoe":{}}}}}"#;
    let (status, _) = control(&server, reqwest::Method::PUT, "state", Some(doc.to_vec())).await;
    assert_eq!(status, 200);
    server.world(|w| assert_eq!(w.accounts.ids(), [ADMIN, "zoe"]));
}

#[tokio::test]
async fn the_control_api_asks_for_credentials_when_told_to() {
    let server = MockServer::start(config().control_auth(true)).await.unwrap();
    let get = |query: String| {
        let url = format!("{}/__tim/state?{query}", server.base_url());
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    assert_eq!(get(String::new()).await, 401);
    let forged = auth_query().replace("usersig=", "usersig=x");
    assert_eq!(get(forged).await, 403);
    let other_user = {
        let sig = UserSigKey::new(APPID, KEY).gen("alice", Duration::from_secs(600));
        format!(
            "sdkappid={APPID}&identifier=alice&usersig={}&random=7&contenttype=json",
            sig.replace('*', "%2A")
        )
    };
    assert_eq!(get(other_user).await, 403);
    assert_eq!(get(auth_query()).await, 200);
}

#[tokio::test]
async fn bodies_of_refused_requests_are_not_kept() {
    let server = MockServer::start(config()).await.unwrap();
    let path = "v4/im_open_login_svc/account_check";
    // Unauthenticated: refused before the body is read.
    let url = format!(
        "{}/{path}?sdkappid={APPID}&identifier={ADMIN}&usersig=bad&random=1&contenttype=json",
        server.base_url()
    );
    let reply =
        reqwest::Client::new().post(url).body(vec![b'x'; 4096]).send().await.unwrap().bytes().await.unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_ne!(reply["ErrorCode"], 0);
    // Not JSON.
    let reply = raw_post(&server, path, b"{nope".to_vec()).await;
    assert_ne!(reply["ErrorCode"], 0);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.body.is_empty()));
    // A valid one is kept as sent.
    let body = br#"{"CheckItem":[{"UserID":"a"}]}"#.to_vec();
    raw_post(&server, path, body.clone()).await;
    assert_eq!(server.requests()[2].body, body);
}

#[tokio::test]
async fn error_info_quotes_only_a_prefix_of_the_input() {
    let server = MockServer::start(config()).await.unwrap();
    let long = "x".repeat(100_000);
    let body = format!(r#"{{"CheckItem":[{{"UserID":{{"{long}":1}}}}]}}"#);
    let reply = raw_post(&server, "v4/im_open_login_svc/account_check", body.into_bytes()).await;
    assert_ne!(reply["ErrorCode"], 0);
    assert!(reply["ErrorInfo"].as_str().unwrap().len() < 400, "{}", reply["ErrorInfo"]);
}

/// Sends `head` and `body` on a fresh connection; the reply's bytes.
fn raw_exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_and_broken_bodies_are_named_as_such() {
    let server = MockServer::start(config().max_body(1000)).await.unwrap();
    let addr = server.addr();
    let path = format!("/v4/im_open_login_svc/account_check?{}", auth_query());
    // Declared larger than accepted: refused without reading it.
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n");
    let reply = tokio::task::spawn_blocking(move || raw_exchange(addr, &head, b"")).await.unwrap();
    assert!(reply.contains("exceeds 1000 bytes"), "{reply}");
    // A malformed chunked body: a body error, not a field error.
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    let reply = tokio::task::spawn_blocking(move || raw_exchange(addr, &head, b"5\r\n{\"Che\r\nzz\r\n"))
        .await
        .unwrap();
    assert!(reply.contains("could not be read"), "{reply}");
    assert!(!reply.contains("field"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_stay_within_their_byte_budget() {
    let server = MockServer::start(config().log_max_bytes(1 << 20).rate_limits(false)).await.unwrap();
    let pad = "p".repeat(50_000);
    let body = format!(r#"{{"CheckItem":[{{"UserID":"a"}}],"Padding":"{pad}"}}"#).into_bytes();
    for _ in 0..100 {
        let reply = raw_post(&server, "v4/im_open_login_svc/account_check", body.clone()).await;
        assert_eq!(reply["ErrorCode"], 0, "{reply}");
    }
    let kept = server.requests();
    let bytes: usize = kept.iter().map(|r| r.body.len()).sum();
    assert!(bytes <= 1 << 20, "{bytes} bytes of bodies kept");
    assert!(kept.len() < 100 && !kept.is_empty(), "{} kept", kept.len());
    assert_eq!(server.request_count(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_time_out_and_free_their_slots() {
    let server = MockServer::start(config().max_connections(10).read_timeout(Duration::from_millis(300)))
        .await
        .unwrap();
    let addr = server.addr();
    // Twenty connections that send half a request and stall: twice the cap.
    let stalled: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"POST /v4/im_open_login_svc/account_check HTTP/1.1\r\nHost:").unwrap();
            s
        })
        .collect();
    let client = server.client_builder().build().unwrap();
    let started = Instant::now();
    let check = account_check::Request::new(vec![account_check::CheckItem::new(ADMIN)]);
    let reply = tokio::time::timeout(Duration::from_secs(2), client.call(&check)).await;
    assert!(reply.is_ok_and(|r| r.is_ok()), "no answer within 2 s");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_keep_the_msg_key_their_before_callback_announced() {
    let url = support::slow_receiver(Duration::from_millis(30)).await;
    let server = MockServer::start(config().rate_limits(false).callbacks(&url, None).unwrap()).await.unwrap();
    let client = server.client_builder().build().unwrap();
    for a in ["alice", "bob"] {
        client.call(&account_import::Request::new(a)).await.unwrap();
    }
    let sends = (0..24u32).map(|i| {
        let client = client.clone();
        async move {
            client.call(&sendmsg::Request::new("bob", i, text("hi")).from_account("alice")).await.unwrap()
        }
    });
    let replies = futures_join_all(sends).await;
    let callbacks = server.callbacks();
    for reply in &replies {
        let key = reply.msg_key.clone().unwrap();
        let before = callbacks
            .iter()
            .filter(|c| c.command == "C2C.CallbackBeforeSendMsg")
            .filter(|c| c.body["MsgKey"] == key.as_str())
            .count();
        let after = callbacks
            .iter()
            .filter(|c| c.command == "C2C.CallbackAfterSendMsg" && c.body["MsgKey"] == key.as_str())
            .count();
        assert_eq!((before, after), (1, 1), "MsgKey {key}");
    }
}

/// Runs the futures concurrently; their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn history_files_are_served_where_get_history_points() {
    use tim_runtime::api::open_msg_svc::get_history;
    let server = MockServer::start(config()).await.unwrap();
    let client = server.client_builder().build().unwrap();
    for a in ["alice", "bob"] {
        client.call(&account_import::Request::new(a)).await.unwrap();
    }
    // A message two hours ago, by its own timestamp.
    let hour_ago = tim_emulator::world::unix_now() - 7_200;
    let hour_ago = hour_ago - hour_ago % 3_600 + 60;
    let msg = serde_json::json!({"SyncFromOldSystem": 2, "From_Account": "alice", "To_Account": "bob", "MsgSeq": 1,
        "MsgRandom": 1, "MsgTimeStamp": hour_ago, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "archived"}}]});
    let reply = raw_post(&server, "v4/openim/importmsg", serde_json::to_vec(&msg).unwrap()).await;
    assert_eq!(reply["ErrorCode"], 0, "{reply}");
    let secs = hour_ago - hour_ago % 3_600;
    let days = secs / 86_400;
    // The hour as YYYYMMDDHH, through the emulator's own history endpoint.
    let hour = {
        let z = (days as i64) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{y:04}{m:02}{d:02}{:02}", secs % 86_400 / 3_600)
    };
    let files =
        client.call(&get_history::Request::new(get_history::ChatType::C2c, hour.as_str())).await.unwrap();
    let file = &files.file.unwrap()[0];
    let url = file.url.clone().unwrap();
    assert!(url.starts_with(&server.base_url()), "{url}");
    let gz = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip file");
    assert_eq!(file.gzip_size, Some(gz.len() as u64));
}

#[tokio::test]
async fn the_inspector_endpoints_page_filter_and_follow_changes() {
    let server = MockServer::start(config()).await.unwrap();
    let (_, v0) = control(&server, reqwest::Method::GET, "version", None).await;
    let client = server.client_builder().build().unwrap();
    for id in ["alice", "bob", "carol"] {
        client.call(&account_import::Request::new(id)).await.unwrap();
    }
    let (_, v1) = control(&server, reqwest::Method::GET, "version", None).await;
    assert!(v1["version"].as_u64() > v0["version"].as_u64(), "{v0} then {v1}");

    // The session's query parameters are a working admin UserSig.
    let (status, session) = control(&server, reqwest::Method::GET, "session", None).await;
    assert_eq!(status, 200);
    let query = session["query"].as_str().unwrap();
    let url = format!("{}/v4/im_open_login_svc/account_import?{query}&random=9", server.base_url());
    let reply = reqwest::Client::new().post(url).body(r#"{"UserID":"dave"}"#).send().await.unwrap();
    let reply: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
    assert_eq!(reply["ErrorCode"], 0, "{reply}");

    // Views are paged and name what is wrong with a request.
    let (status, page) = control(&server, reqwest::Method::GET, "view/accounts?offset=1&limit=2", None).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 5, "{page}"); // the admin and four accounts
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let (status, err) = control(&server, reqwest::Method::GET, "view/accounts?limit=0", None).await;
    assert_eq!(status, 400);
    assert!(err["error"].as_str().unwrap().contains("limit"), "{err}");
    let (status, _) = control(&server, reqwest::Method::GET, "view/nothing", None).await;
    assert_eq!(status, 404);

    // The request log filters by path and by error, newest last.
    let missing = sendmsg::Request::new("nobody", 1u32, text("hi")).from_account("alice");
    assert!(client.call(&missing).await.is_err());
    let (_, failed) = control(&server, reqwest::Method::GET, "requests?errors=1", None).await;
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["path"], "v4/openim/sendmsg");
    let (_, imports) =
        control(&server, reqwest::Method::GET, "requests?path=account_import&limit=2", None).await;
    assert_eq!(imports.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn the_page_needs_no_credentials_and_its_data_does() {
    let server = MockServer::start(config().control_auth(true)).await.unwrap();
    let get = |path: &str| {
        let url = format!("{}/__tim/{path}", server.base_url());
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    assert_eq!(get("ui").await, 200);
    assert_eq!(get("ui/app.js").await, 200);
    assert_eq!(get("ui/secrets.json").await, 404);
    assert_eq!(get("view/summary").await, 401);
    assert_eq!(get("session").await, 401);
    assert_eq!(get(&format!("view/summary?{}", auth_query())).await, 200);
}
