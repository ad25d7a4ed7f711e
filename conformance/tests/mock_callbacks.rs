//! The mock sends the callbacks the real service sends for REST calls,
//! signed, to a receiver that verifies them; before-callbacks' replies decide
//! what happens to the call, and a receiver that is down, slow or answers
//! garbage lets it go ahead.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tim_core::callback::{CallbackMeta, CallbackReply, CallbackSet, CallbackVerifier, DecisionEffect};
use tim_emulator::world::World;
use tim_emulator::{AppliedDecision, CallbackResponse, EmittedCallback, MockConfig, MockServer};
use tim_runtime::api::callbacks::{Callback, CALLBACKS};
use tim_runtime::UserSigKey;

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";
const TOKEN: &str = "callback-token-for-tests";

/// What the receiver answers for a command.
#[derive(Clone)]
enum Script {
    /// HTTP 200 with this body.
    Reply(Vec<u8>),
    /// Waits, then answers 200 OK.
    Slow(Duration),
    /// This status with an HTML body.
    Status(u16),
}

fn reply(r: CallbackReply) -> Script {
    Script::Reply(r.to_bytes())
}

/// One callback as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    query: String,
    body: Value,
    /// Whether `Sign`, `RequestTime` and `SdkAppid` verified with the token.
    verified: Result<(), String>,
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    scripts: HashMap<String, Script>,
}

/// A callback endpoint on 127.0.0.1:0, hand-rolled on hyper.
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/im/callback", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = Arc::clone(&state);
        let verifier = CallbackVerifier::new(APPID, TOKEN).unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                let verifier = verifier.clone();
                let service = service_fn(move |req: Request<Incoming>| {
                    let state = Arc::clone(&state);
                    let verifier = verifier.clone();
                    async move {
                        let query = req.uri().query().unwrap_or("").to_owned();
                        let path = req.uri().path().to_owned();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let verified = match verifier.verify_query(&query) {
                            Ok(_) if path == "/im/callback" => Ok(()),
                            Ok(_) => Err(format!("wrong path {path}")),
                            Err(e) => Err(e.to_string()),
                        };
                        let command = body["CallbackCommand"].as_str().unwrap_or("").to_owned();
                        let script = {
                            let mut s = state.lock().unwrap();
                            s.received.push(Received { query, body, verified });
                            s.scripts.get(&command).cloned()
                        };
                        let ok = CallbackReply::ok().to_bytes();
                        let resp = match script {
                            None => Response::new(Full::new(Bytes::from(ok))),
                            Some(Script::Reply(bytes)) => Response::new(Full::new(Bytes::from(bytes))),
                            Some(Script::Slow(d)) => {
                                tokio::time::sleep(d).await;
                                Response::new(Full::new(Bytes::from(ok)))
                            }
                            Some(Script::Status(code)) => {
                                let mut r = Response::new(Full::new(Bytes::from("<html>oops</html>")));
                                *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
                                r
                            }
                        };
                        Ok::<_, Infallible>(resp)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service),
                );
            }
        });
        Self { url, state }
    }

    fn script(&self, command: &str, script: Script) {
        self.state.lock().unwrap().scripts.insert(command.to_owned(), script);
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

/// The emulator with the tests' accounts imported.
fn config() -> MockConfig {
    let mut world = World::new(ADMIN);
    for user in ["alice", "bob", "leckie", "tommy", "jared", "t"] {
        world.accounts.ensure(user);
    }
    MockConfig::new(APPID, KEY, ADMIN).state(world)
}

async fn mock_for(receiver: &Receiver) -> MockServer {
    let config = config().callbacks(&receiver.url, Some(TOKEN)).unwrap();
    MockServer::start(config).await.unwrap()
}

/// Creates a group through the REST call, then forgets its callbacks.
async fn create_group(server: &MockServer, id: &str, group_type: &str) {
    let body = json!({"Owner_Account": "leckie", "Type": group_type, "GroupId": id, "Name": id});
    let r = post(server, "group_open_http_svc/create_group", body).await;
    assert_eq!(code(&r), 0, "{r}");
    server.clear_callbacks();
}

/// Posts `body` to `path` with a valid auth query.
async fn post(server: &MockServer, path: &str, body: Value) -> Value {
    let sig = UserSigKey::new(APPID, KEY).gen(ADMIN, Duration::from_secs(600));
    let url = format!(
        "{}/v4/{path}?sdkappid={APPID}&identifier={ADMIN}&usersig={}&random=7&contenttype=json",
        server.base_url(),
        sig.replace('*', "%2A")
    );
    let resp = reqwest::Client::new().post(url).body(body.to_string()).send().await.unwrap();
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

fn code(reply: &Value) -> i64 {
    reply["ErrorCode"].as_i64().unwrap_or(-999)
}

fn commands(sent: &[EmittedCallback]) -> Vec<&str> {
    sent.iter().map(|c| c.command.as_str()).collect()
}

fn meta(command: &str) -> &'static CallbackMeta {
    CALLBACKS
        .iter()
        .copied()
        .find(|m| m.command == command)
        .unwrap_or_else(|| panic!("no spec for {command}"))
}

/// The caller error of the callback's plain deny (the spec's `caller_error`).
fn caller_error(command: &str) -> i64 {
    meta(command)
        .decisions
        .iter()
        .find(|d| d.effect == DecisionEffect::Deny && d.codes.0 == d.codes.1)
        .and_then(|d| d.caller_error)
        .unwrap_or_else(|| panic!("{command} has no deny with a caller_error"))
}

/// The `ErrorCode` of the callback's decision named `name`.
fn decision_code(command: &str, name: &str) -> i64 {
    meta(command).decisions.iter().find(|d| d.name == name).map(|d| d.codes.0).unwrap()
}

fn text(t: &str) -> Value {
    json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": t}}])
}

fn sendmsg(t: &str) -> Value {
    json!({"SyncOtherMachine": 2, "From_Account": "alice", "To_Account": "bob", "MsgRandom": 1287657,
           "MsgBody": text(t), "CloudCustomData": "cd"})
}

const C2C_BEFORE: &str = "C2C.CallbackBeforeSendMsg";
const C2C_AFTER: &str = "C2C.CallbackAfterSendMsg";
const GROUP_BEFORE: &str = "Group.CallbackBeforeSendMsg";
const GROUP_AFTER: &str = "Group.CallbackAfterSendMsg";

#[tokio::test]
async fn sendmsg_allowed_fires_before_and_after_signed() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let r = post(&server, "openim/sendmsg", sendmsg("hello")).await;
    assert_eq!(code(&r), 0, "{r}");

    let sent = server.callbacks();
    assert_eq!(commands(&sent), [C2C_BEFORE, C2C_AFTER]);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    for (g, s) in got.iter().zip(&sent) {
        assert_eq!(g.verified, Ok(()), "{}", g.query);
        assert_eq!(g.body, s.body);
        assert_eq!(
            s.response,
            CallbackResponse::Replied { status: 200, body: CallbackReply::ok().to_bytes() }
        );
        assert_eq!(s.query_param("SdkAppid"), Some("1400000001"));
        assert_eq!(s.query_param("CallbackCommand"), Some(s.command.as_str()));
        assert_eq!(s.query_param("contenttype"), Some("json"));
        assert_eq!(s.query_param("OptPlatform"), Some("RESTAPI"));
        assert_eq!(s.query_param("ClientIP"), Some("127.0.0.1"));
        assert!(s.query_param("Sign").is_some() && s.query_param("RequestTime").is_some());
    }
    assert!(
        matches!(sent[0].applied, AppliedDecision::Allowed { decision: "allow", .. }),
        "{:?}",
        sent[0].applied
    );
    assert_eq!(sent[1].applied, AppliedDecision::Acknowledged);
    let (before, after) = (&sent[0].body, &sent[1].body);
    assert_eq!(before["From_Account"], "alice");
    assert_eq!(before["To_Account"], "bob");
    assert_eq!(before["MsgBody"], text("hello"));
    assert_eq!(after["MsgBody"], before["MsgBody"]);
    assert_eq!(after["MsgKey"], before["MsgKey"]);
    // The key and time are the ones the caller got.
    assert_eq!(after["MsgKey"], r["MsgKey"]);
    assert_eq!(after["MsgTime"], r["MsgTime"]);
    assert_eq!(after["SendMsgResult"], 0);
    assert_eq!(after["UnreadMsgNum"], 1);
}

#[tokio::test]
async fn sendmsg_denied_gives_the_documented_error_and_no_after_callback() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let deny = decision_code(C2C_BEFORE, "deny");
    receiver.script(C2C_BEFORE, reply(CallbackReply::with_code(deny, "")));
    let r = post(&server, "openim/sendmsg", sendmsg("spam")).await;
    let expected = caller_error(C2C_BEFORE);
    assert_eq!(expected, 20006);
    assert_eq!(code(&r), expected, "{r}");
    assert_eq!(r["ActionStatus"], "FAIL");
    let sent = server.callbacks();
    assert_eq!(commands(&sent), [C2C_BEFORE]);
    assert!(
        matches!(sent[0].applied, AppliedDecision::Denied { caller_error, .. } if caller_error == expected)
    );
}

#[tokio::test]
async fn sendmsg_denied_with_a_custom_code_passes_it_on() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    receiver.script(C2C_BEFORE, reply(CallbackReply::with_code(120_005, "muted until noon")));
    let r = post(&server, "openim/sendmsg", sendmsg("hi")).await;
    assert_eq!(code(&r), 120_005, "{r}");
    assert_eq!(r["ErrorInfo"], "muted until noon");
    assert_eq!(commands(&server.callbacks()), [C2C_BEFORE]);
}

#[tokio::test]
async fn sendmsg_dropped_succeeds_without_after_callback() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    receiver
        .script(C2C_BEFORE, reply(CallbackReply::with_code(decision_code(C2C_BEFORE, "drop_silently"), "")));
    let r = post(&server, "openim/sendmsg", sendmsg("hi")).await;
    assert_eq!(code(&r), 0, "{r}");
    let sent = server.callbacks();
    assert_eq!(commands(&sent), [C2C_BEFORE]);
    assert!(matches!(sent[0].applied, AppliedDecision::Dropped { .. }));
}

#[tokio::test]
async fn sendmsg_modified_is_what_the_after_callback_reports() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let modified =
        CallbackReply::ok().field("MsgBody", text("***")).field("CloudCustomData", json!("new cd"));
    receiver.script(C2C_BEFORE, reply(modified));
    let r = post(&server, "openim/sendmsg", sendmsg("a bad word")).await;
    assert_eq!(code(&r), 0, "{r}");
    let sent = server.callbacks();
    assert_eq!(commands(&sent), [C2C_BEFORE, C2C_AFTER]);
    assert_eq!(sent[0].body["MsgBody"], text("a bad word"));
    assert_eq!(sent[1].body["MsgBody"], text("***"));
    assert_eq!(sent[1].body["CloudCustomData"], "new cd");
    let AppliedDecision::Allowed { modified, .. } = &sent[0].applied else { panic!("{:?}", sent[0].applied) };
    assert_eq!(
        modified.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&"CloudCustomData".to_owned(), &"MsgBody".to_owned()])
    );
}

#[tokio::test]
async fn a_receiver_that_is_down_lets_messages_through() {
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", closed.local_addr().unwrap());
    drop(closed);
    let config = config().callbacks(&url, Some(TOKEN)).unwrap();
    let server = MockServer::start(config).await.unwrap();
    let r = post(&server, "openim/sendmsg", sendmsg("hi")).await;
    assert_eq!(code(&r), 0, "{r}");
    let sent = server.callbacks();
    assert_eq!(commands(&sent), [C2C_BEFORE, C2C_AFTER]);
    for s in &sent {
        assert!(matches!(s.response, CallbackResponse::Failed(_)), "{:?}", s.response);
        assert!(matches!(s.applied, AppliedDecision::Default { .. }), "{:?}", s.applied);
    }
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_messages_go_through() {
    let receiver = Receiver::start().await;
    let config =
        config().callbacks(&receiver.url, Some(TOKEN)).unwrap().callback_timeout(Duration::from_millis(200));
    let server = MockServer::start(config).await.unwrap();
    receiver.script(C2C_BEFORE, Script::Slow(Duration::from_secs(3)));
    let start = Instant::now();
    let r = post(&server, "openim/sendmsg", sendmsg("hi")).await;
    assert_eq!(code(&r), 0, "{r}");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    let sent = server.callbacks();
    assert_eq!(commands(&sent), [C2C_BEFORE, C2C_AFTER]);
    assert!(matches!(sent[0].response, CallbackResponse::Failed(_)));
    assert!(matches!(sent[0].applied, AppliedDecision::Default { .. }));
}

#[tokio::test]
async fn garbage_replies_never_break_the_mock() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let scripts = [
        Script::Status(500),
        Script::Status(404),
        Script::Reply(b"<html>".to_vec()),
        Script::Reply(b"".to_vec()),
        Script::Reply(vec![0xff, 0xfe, 0x00]),
        Script::Reply(br#"{"ErrorCode":"1"}"#.to_vec()),
        Script::Reply(br#"{"ErrorCode":1.5}"#.to_vec()),
        Script::Reply(br#"{"ErrorCode":99999999999999999999}"#.to_vec()),
        Script::Reply(br#"{"ErrorCode":77}"#.to_vec()),
        Script::Reply(br#"[1,2,3]"#.to_vec()),
        Script::Reply(br#"{"ErrorCode":0,"MsgBody":"not a list"}"#.to_vec()),
        Script::Reply(vec![b'{'; 200_000]),
    ];
    for (i, script) in scripts.into_iter().enumerate() {
        receiver.script(C2C_BEFORE, script);
        server.clear_callbacks();
        let r = post(&server, "openim/sendmsg", sendmsg("hi")).await;
        assert_eq!(code(&r), 0, "script {i}: {r}");
        let sent = server.callbacks();
        assert_eq!(commands(&sent), [C2C_BEFORE, C2C_AFTER], "script {i}");
        assert!(!matches!(sent[0].applied, AppliedDecision::Denied { .. }), "script {i}");
    }
}

#[tokio::test]
async fn forbid_callback_control_skips_callbacks() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let mut body = sendmsg("hi");
    body["ForbidCallbackControl"] = json!(["ForbidBeforeSendMsgCallback"]);
    post(&server, "openim/sendmsg", body.clone()).await;
    assert_eq!(commands(&server.callbacks()), [C2C_AFTER]);
    server.clear_callbacks();
    body["ForbidCallbackControl"] = json!(["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]);
    post(&server, "openim/sendmsg", body).await;
    assert!(server.callbacks().is_empty());
}

#[tokio::test]
async fn without_a_token_callbacks_are_unsigned() {
    let receiver = Receiver::start().await;
    let config = config().callbacks(&receiver.url, None).unwrap();
    let server = MockServer::start(config).await.unwrap();
    post(&server, "openim/sendmsg", sendmsg("hi")).await;
    let sent = server.callbacks();
    assert_eq!(sent.len(), 2);
    for s in &sent {
        assert_eq!((s.query_param("Sign"), s.query_param("RequestTime")), (None, None));
    }
    assert!(receiver.received().iter().all(|r| r.verified.is_err()));
}

#[tokio::test]
async fn without_a_callback_url_nothing_is_sent() {
    let server = MockServer::start(config()).await.unwrap();
    let r = post(&server, "openim/sendmsg", sendmsg("hi")).await;
    assert_eq!(code(&r), 0);
    let r = post(
        &server,
        "group_open_http_svc/create_group",
        json!({"Owner_Account": "leckie", "Type": "Public", "Name": "g"}),
    )
    .await;
    assert_eq!(code(&r), 0);
    post(&server, "group_open_http_svc/destroy_group", json!({"GroupId": r["GroupId"]})).await;
    assert!(server.callbacks().is_empty());
}

#[tokio::test]
async fn config_refuses_plain_http_to_other_hosts_and_hides_the_token() {
    assert!(MockConfig::new(APPID, KEY, ADMIN).callbacks("http://example.com/cb", None).is_err());
    let config = MockConfig::new(APPID, KEY, ADMIN).callbacks("https://example.com/cb", Some(TOKEN)).unwrap();
    assert!(!format!("{config:?}").contains(TOKEN));
}

#[tokio::test]
async fn group_message_denied_gives_the_group_error() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    create_group(&server, "g1", "Public").await;
    let body = json!({"GroupId": "g1", "Random": 8912345, "MsgBody": text("hi")});
    let r = post(&server, "group_open_http_svc/send_group_msg", body.clone()).await;
    assert_eq!(code(&r), 0, "{r}");
    let sent = server.callbacks();
    assert_eq!(commands(&sent), [GROUP_BEFORE, GROUP_AFTER]);
    assert_eq!(sent[0].body["Type"], "Public");
    assert_eq!(sent[1].body["MsgBody"], text("hi"));

    server.clear_callbacks();
    receiver.script(GROUP_BEFORE, reply(CallbackReply::with_code(decision_code(GROUP_BEFORE, "deny"), "")));
    let r = post(&server, "group_open_http_svc/send_group_msg", body).await;
    let expected = caller_error(GROUP_BEFORE);
    assert_eq!(expected, 10016);
    assert_eq!(code(&r), expected, "{r}");
    assert_eq!(commands(&server.callbacks()), [GROUP_BEFORE]);
}

#[tokio::test]
async fn every_listed_trigger_fires_its_callbacks() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let sent = post(&server, "openim/sendmsg", sendmsg("to recall")).await;
    let key = sent["MsgKey"].clone();
    let cases: [(&str, Value, &[&str]); 7] = [
        (
            "openim/admin_set_msg_read",
            json!({"Report_Account": "bob", "Peer_Account": "alice", "MsgReadTime": "1653360000"}),
            &["C2C.CallbackAfterMsgReport"],
        ),
        (
            "openim/admin_msgwithdraw",
            json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key}),
            &["C2C.CallbackAfterMsgWithDraw"],
        ),
        (
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "leckie", "Type": "Public", "GroupId": "made", "Name": "MyFirstGroup",
                   "MemberList": [{"Member_Account": "bob"}]}),
            &["Group.CallbackBeforeCreateGroup", "Group.CallbackAfterCreateGroup"],
        ),
        (
            "group_open_http_svc/add_group_member",
            json!({"GroupId": "made", "MemberList": [{"Member_Account": "tommy"}, {"Member_Account": "jared"}]}),
            &["Group.CallbackBeforeInviteJoinGroup", "Group.CallbackAfterNewMemberJoin"],
        ),
        (
            "group_open_http_svc/delete_group_member",
            json!({"GroupId": "made", "MemberToDel_Account": ["tommy"]}),
            &["Group.CallbackAfterMemberExit"],
        ),
        (
            "group_open_http_svc/send_group_msg",
            json!({"GroupId": "made", "Random": 1, "MsgBody": text("hi")}),
            &[GROUP_BEFORE, GROUP_AFTER],
        ),
        (
            "group_open_http_svc/destroy_group",
            json!({"GroupId": "made"}),
            &["Group.CallbackAfterGroupDestroyed"],
        ),
    ];
    for (path, body, expected) in cases {
        server.clear_callbacks();
        let r = post(&server, path, body).await;
        assert_eq!(code(&r), 0, "{path}: {r}");
        assert_eq!(commands(&server.callbacks()), expected, "{path}");
        if path.ends_with("admin_set_msg_read") {
            // `MsgReadTime` is documented as a string of seconds.
            assert_eq!(server.callbacks()[0].body["LastReadTime"], 1_653_360_000_u64);
        }
    }
    // The mock remembers the group: type, owner, members.
    let destroyed = &server.callbacks()[0].body;
    assert_eq!(destroyed["Type"], "Public");
    assert_eq!(destroyed["Owner_Account"], "leckie");
    assert_eq!(destroyed["Name"], "MyFirstGroup");
    let members: Vec<&str> = destroyed["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Member_Account"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["leckie", "bob", "jared"]);
    assert!(receiver.received().iter().all(|r| r.verified.is_ok()));
}

#[tokio::test]
async fn group_creation_denied_creates_nothing() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let command = "Group.CallbackBeforeCreateGroup";
    receiver.script(command, reply(CallbackReply::with_code(decision_code(command, "deny"), "")));
    let r = post(
        &server,
        "group_open_http_svc/create_group",
        json!({"Owner_Account": "leckie", "Type": "Public", "Name": "G"}),
    )
    .await;
    assert_eq!(code(&r), caller_error(command), "{r}");
    assert_eq!(commands(&server.callbacks()), [command]);
}

#[tokio::test]
async fn invitations_can_refuse_some_members() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    create_group(&server, "g2", "Private").await;
    let refuse = CallbackReply::ok().field("RefusedMembers_Account", json!(["jared"]));
    receiver.script("Group.CallbackBeforeInviteJoinGroup", reply(refuse));
    let body =
        json!({"GroupId": "g2", "MemberList": [{"Member_Account": "tommy"}, {"Member_Account": "jared"}]});
    post(&server, "group_open_http_svc/add_group_member", body).await;
    let sent = server.callbacks();
    assert_eq!(commands(&sent), ["Group.CallbackBeforeInviteJoinGroup", "Group.CallbackAfterNewMemberJoin"]);
    assert_eq!(sent[1].body["NewMemberList"], json!([{"Member_Account": "tommy"}]));
    assert_eq!(sent[1].body["JoinType"], "Invited");
}

/// Every body the mock sends parses as its known callback and uses only the
/// payload fields its spec declares.
#[tokio::test]
async fn emitted_bodies_follow_the_specs() {
    let receiver = Receiver::start().await;
    let server = mock_for(&receiver).await;
    let key = post(&server, "openim/sendmsg", sendmsg("first")).await["MsgKey"].clone();
    let calls = [
        ("openim/sendmsg", sendmsg("hi")),
        ("openim/admin_set_msg_read", json!({"Report_Account": "bob", "Peer_Account": "alice"})),
        ("openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key})),
        (
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "leckie", "Type": "Public", "GroupId": "s", "Name": "N",
                   "MemberList": [{"Member_Account": "bob"}], "AppDefinedData": [{"Key": "K", "Value": "V"}]}),
        ),
        (
            "group_open_http_svc/add_group_member",
            json!({"GroupId": "s", "MemberList": [{"Member_Account": "t"}]}),
        ),
        (
            "group_open_http_svc/send_group_msg",
            json!({"GroupId": "s", "Random": 1, "MsgBody": text("x"), "CloudCustomData": "c"}),
        ),
        ("group_open_http_svc/delete_group_member", json!({"GroupId": "s", "MemberToDel_Account": ["t"]})),
        ("group_open_http_svc/destroy_group", json!({"GroupId": "s"})),
    ];
    for (path, body) in calls {
        let r = post(&server, path, body).await;
        assert_eq!(code(&r), 0, "{path}: {r}");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let specs = tim_codegen::load_dir(&dir, Path::new("specs")).unwrap_or_else(|e| panic!("{e}"));
    let sent = server.callbacks();
    assert_eq!(sent.len(), 14);
    let mut failures = Vec::new();
    for s in &sent {
        let Some(spec) = specs.callbacks.iter().find(|c| c.command == s.command) else {
            failures.push(format!("{}: no spec", s.command));
            continue;
        };
        let declared: BTreeSet<&str> =
            spec.payload.iter().map(|f| f.wire.as_str()).chain(["CallbackCommand"]).collect();
        for key in s.body.as_object().unwrap().keys() {
            if !declared.contains(key.as_str()) {
                failures.push(format!("{}: `{key}` is not a payload field of the spec", s.command));
            }
        }
        match Callback::parse(&s.command, &serde_json::to_vec(&s.body).unwrap()) {
            Ok(cb) if cb.is_known() => {}
            Ok(_) => failures.push(format!("{}: parsed as unknown", s.command)),
            Err(e) => failures.push(format!("{}: {e}", s.command)),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
