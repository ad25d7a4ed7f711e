//! Runs the built `tim` binary against the in-process mock server.

use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use tim_emulator::{Fault, MockConfig, MockServer, RecordedRequest};
use tim_runtime::UserSigKey;

const APPID: u64 = 1_400_000_123;
const ADMIN: &str = "admin";
const SECRET: &str = "cli-test-secret-0123456789abcdef";

/// The mock and the runtime that serves it; the server is dropped first.
struct Mock {
    server: MockServer,
    _rt: tokio::runtime::Runtime,
}

fn mock() -> Mock {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(MockServer::start(MockConfig::new(APPID, SECRET, ADMIN).replay())).unwrap();
    Mock { server, _rt: rt }
}

/// A `tim` command with no inherited `TIM_*` configuration.
fn tim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tim"));
    for var in ["TIM_SDKAPPID", "TIM_IDENTIFIER", "TIM_SECRET_KEY", "TIM_REGION", "TIM_BASE_URL"] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let Output { status, stdout, stderr } = cmd.output().unwrap();
    let run = Run {
        code: status.code().expect("exited normally"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    };
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET), "secret printed");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// `tim call` configured for `m` (app via environment, URL via flag).
fn call(m: &Mock, path: &str, data: &str) -> Run {
    let base = m.server.base_url();
    run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(["--base-url", &base, "call", path, "--timeout", "5", "--data", data]))
}

fn assert_signed(r: &RecordedRequest) {
    let keys: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["sdkappid", "identifier", "usersig", "random", "contenttype"]);
    assert_eq!(r.query_param("sdkappid"), Some(APPID.to_string().as_str()));
    assert_eq!(r.query_param("identifier"), Some(ADMIN));
    assert_eq!(r.query_param("contenttype"), Some("json"));
    assert!(r.query_param("random").unwrap().parse::<u32>().is_ok());
    let sig = r.query_param("usersig").unwrap();
    let v = UserSigKey::new(APPID, SECRET).verify(ADMIN, sig).unwrap();
    assert_eq!((v.identifier.as_str(), v.sdkappid), (ADMIN, APPID));
    assert_eq!(r.method, "POST");
}

fn assert_exit(r: &Run, code: i32) {
    assert_eq!(r.code, code, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

#[test]
fn three_endpoints_send_exact_bodies() {
    let m = mock();
    let cases = [
        (
            "v4/openim/admin_set_msg_read",
            // Reordered keys, whitespace and an explicit null optional field.
            r#"{ "Peer_Account": "dramon2", "Report_Account": "dramon1", "MsgReadTime": null }"#,
            r#"{"Report_Account":"dramon1","Peer_Account":"dramon2"}"#,
        ),
        (
            "/v4/openim/c2c_msg_read_receipt",
            r#"{"Operator_Account":"dramon2","Peer_Account":"dramon1","C2CMsgInfo":[
                {"MsgKey":"1467329515_5675354_1708676941","From_Account":"dramon1","To_Account":"dramon2"}]}"#,
            r#"{"Operator_Account":"dramon2","Peer_Account":"dramon1","C2CMsgInfo":[{"From_Account":"dramon1","To_Account":"dramon2","MsgKey":"1467329515_5675354_1708676941"}]}"#,
        ),
        (
            "v4/group_open_http_svc/set_unread_msg_num",
            r#"{"GroupId":"@TGS#2CLUZEAEJ","Member_Account":"bob","UnreadMsgNum":5}"#,
            r#"{"GroupId":"@TGS#2CLUZEAEJ","Member_Account":"bob","UnreadMsgNum":5}"#,
        ),
    ];
    for (i, (path, data, wire)) in cases.iter().enumerate() {
        let r = call(&m, path, data);
        assert_exit(&r, 0);
        let printed: Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(printed.is_object(), "{}", r.stdout);
        let reqs = m.server.requests();
        assert_eq!(reqs.len(), i + 1);
        let rec = &reqs[i];
        assert_eq!(rec.path, path.trim_start_matches('/'));
        assert_eq!(String::from_utf8_lossy(&rec.body), *wire);
        assert_signed(rec);
        let sig = rec.query_param("usersig").unwrap();
        assert!(!r.stdout.contains(sig) && !r.stderr.contains(sig));
    }
}

#[test]
fn data_from_file() {
    let m = mock();
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tim-cli-body.json");
    std::fs::write(&file, r#"{"Report_Account":"a","Peer_Account":"b","MsgReadTime":"1700000000"}"#).unwrap();
    let r = call(&m, "v4/openim/admin_set_msg_read", &format!("@{}", file.display()));
    assert_exit(&r, 0);
    let reqs = m.server.requests();
    assert_eq!(reqs[0].body, br#"{"Report_Account":"a","Peer_Account":"b","MsgReadTime":"1700000000"}"#);

    let r = call(&m, "v4/openim/admin_set_msg_read", "@/nonexistent/tim-body.json");
    assert_exit(&r, 2);
    assert!(r.stderr.contains("/nonexistent/tim-body.json"), "{}", r.stderr);
    assert_eq!(m.server.requests().len(), 1);
}

#[test]
fn bad_input_is_rejected_before_sending() {
    let m = mock();
    let r = call(
        &m,
        "v4/openim/c2c_msg_read_receipt",
        r#"{"Operator_Account":"b","Peer_Account":"a","C2CMsgInfo":[{"From_Account":"a","To_Account":"b"}]}"#,
    );
    assert_exit(&r, 2);
    assert!(r.stderr.contains("C2CMsgInfo[0].MsgKey") && r.stderr.contains("missing field"), "{}", r.stderr);

    let r = call(
        &m,
        "v4/group_open_http_svc/set_unread_msg_num",
        r#"{"GroupId":"g","Member_Account":"bob","UnreadMsgNum":"five"}"#,
    );
    assert_exit(&r, 2);
    assert!(r.stderr.contains("UnreadMsgNum") && r.stderr.contains("invalid type"), "{}", r.stderr);

    let r = call(&m, "v4/openim/admin_set_msg_read", r#"{"Report_Account": "a", "#);
    assert_exit(&r, 2);
    assert!(r.stderr.contains("nothing was sent"), "{}", r.stderr);

    let r =
        call(&m, "v4/openim/admin_set_msg_read", r#"{"Report_Account":"a","Peer_Account":"b","Extra":1}"#);
    assert_exit(&r, 2);
    assert!(r.stderr.contains("Extra"), "{}", r.stderr);

    let r = call(&m, "v4/openim/no_such_endpoint", "{}");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no_such_endpoint") && r.stderr.contains("tim endpoints"), "{}", r.stderr);

    assert!(m.server.requests().is_empty());
}

#[test]
fn api_error_prints_code_info_and_meaning() {
    let m = mock();
    m.server.push_fault(Fault::ErrorCode(90001, "json format error".into()));
    let r = call(&m, "v4/openim/admin_set_msg_read", r#"{"Report_Account":"a","Peer_Account":"b"}"#);
    assert_exit(&r, 1);
    assert!(r.stderr.contains("90001"), "{}", r.stderr);
    assert!(r.stderr.contains("json format error"), "{}", r.stderr);
    assert!(r.stderr.contains("The request body could not be parsed as JSON."), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    // Not retryable: sent once.
    assert_eq!(m.server.requests().len(), 1);
}

#[test]
fn wrong_key_is_reported_as_usersig_error() {
    let m = mock();
    let base = m.server.base_url();
    let r = run(tim().args([
        "--sdkappid",
        &APPID.to_string(),
        "--identifier",
        ADMIN,
        "--secret-key",
        "wrong-key",
        "--base-url",
        &base,
        "call",
        "v4/openim/admin_set_msg_read",
        "--timeout",
        "5",
        "--data",
        r#"{"Report_Account":"a","Peer_Account":"b"}"#,
    ]));
    assert_exit(&r, 1);
    assert!(r.stderr.contains("70009") && r.stderr.contains("--secret-key"), "{}", r.stderr);
}

#[test]
fn http_502_is_retried_on_idempotent_endpoint() {
    let m = mock();
    m.server.push_fault(Fault::HttpStatus(502));
    let r = call(&m, "v4/openim/admin_set_msg_read", r#"{"Report_Account":"a","Peer_Account":"b"}"#);
    assert_exit(&r, 0);
    let reqs = m.server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[test]
fn transport_failures_exit_1() {
    let m = mock();
    m.server.push_fault(Fault::HttpStatus(503));
    let base = m.server.base_url();
    let args = |extra: &[&str]| {
        let mut cmd = tim();
        cmd.env("TIM_SDKAPPID", APPID.to_string())
            .env("TIM_IDENTIFIER", ADMIN)
            .env("TIM_SECRET_KEY", SECRET)
            .env("TIM_BASE_URL", &base)
            .args(["call", "v4/openim/admin_set_msg_read", "--no-rate-limit", "--data"])
            .arg(r#"{"Report_Account":"a","Peer_Account":"b"}"#)
            .args(extra);
        cmd
    };
    let r = run(&mut args(&["--max-attempts", "1"]));
    assert_exit(&r, 1);
    assert!(r.stderr.contains("503"), "{}", r.stderr);

    m.server.push_fault(Fault::TruncatedBody);
    let r = run(&mut args(&["--max-attempts", "1"]));
    assert_exit(&r, 1);
    assert!(r.stderr.contains("decode"), "{}", r.stderr);

    m.server.push_fault(Fault::Delay(std::time::Duration::from_secs(3)));
    let r = run(&mut args(&["--max-attempts", "1", "--timeout", "0.3"]));
    assert_exit(&r, 1);
    assert!(r.stderr.contains("timed out after 1 attempt and 0.3 s in all"), "{}", r.stderr);

    // Frequency errors are retried until --deadline, which bounds the whole call.
    for _ in 0..200 {
        m.server.push_fault(Fault::ErrorCode(60007, "too fast".into()));
    }
    let started = std::time::Instant::now();
    let r = run(&mut args(&["--deadline", "0.8"]));
    assert_exit(&r, 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(r.stderr.contains("60007") || r.stderr.contains("--deadline"), "{}", r.stderr);
}

#[test]
fn missing_configuration_names_flag_and_variable() {
    let r = run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_REGION", "singapore")
        .args([
            "call",
            "v4/openim/admin_set_msg_read",
            "--data",
            r#"{"Report_Account":"a","Peer_Account":"b"}"#,
        ]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("--secret-key") && r.stderr.contains("TIM_SECRET_KEY"), "{}", r.stderr);
    assert!(!r.stderr.contains("TIM_SDKAPPID"), "{}", r.stderr);

    let r = run(tim()
        .env("TIM_SECRET_KEY", SECRET)
        .args(["--sdkappid", "1", "--identifier", "a", "call", "v4/openim/admin_set_msg_read"])
        .args(["--data", r#"{"Report_Account":"a","Peer_Account":"b"}"#]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("--region") && r.stderr.contains("TIM_BASE_URL"), "{}", r.stderr);

    let r = run(tim()
        .env("TIM_SECRET_KEY", SECRET)
        .env("TIM_REGION", "mars")
        .args(["--sdkappid", "1", "--identifier", "a", "call", "v4/openim/admin_set_msg_read"])
        .args(["--data", r#"{"Report_Account":"a","Peer_Account":"b"}"#]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("TIM_REGION") && r.stderr.contains("mars"), "{}", r.stderr);

    // Empty variables count as unset.
    let r = run(tim()
        .env("TIM_SDKAPPID", "")
        .env("TIM_SECRET_KEY", SECRET)
        .args(["usersig", "gen", "--user", "u"]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("missing configuration: --sdkappid"), "{}", r.stderr);

    let r = run(tim().args(["usersig", "gen", "--user", "u"]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("TIM_SDKAPPID") && r.stderr.contains("TIM_SECRET_KEY"), "{}", r.stderr);
}

fn usersig(args: &[&str]) -> Run {
    run(tim().env("TIM_SDKAPPID", APPID.to_string()).env("TIM_SECRET_KEY", SECRET).arg("usersig").args(args))
}

#[test]
fn usersig_round_trip() {
    let r = usersig(&["gen", "--user", "alice", "--expire", "600", "--userbuf", "room-7"]);
    assert_exit(&r, 0);
    let sig = r.stdout.trim().to_owned();
    let v = UserSigKey::new(APPID, SECRET).verify("alice", &sig).unwrap();
    assert_eq!((v.expire, v.userbuf.as_deref()), (600, Some(&b"room-7"[..])));

    let r = usersig(&["verify", "--user", "alice", &sig]);
    assert_exit(&r, 0);
    assert!(r.stdout.contains("alice") && r.stdout.contains("expires"), "{}", r.stdout);

    let r = usersig(&["verify", "--user", "bob", &sig]);
    assert_exit(&r, 1);
    assert!(r.stderr.contains("alice") && r.stderr.contains("bob"), "{}", r.stderr);

    // Flip one character in the middle of the sig.
    let mut tampered: Vec<char> = sig.chars().collect();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let r = usersig(&["verify", "--user", "alice", &tampered]);
    assert_exit(&r, 1);
    assert!(r.stderr.contains("invalid UserSig"), "{}", r.stderr);

    let other_key = run(tim().args([
        "--sdkappid",
        &APPID.to_string(),
        "--secret-key",
        "another-key",
        "usersig",
        "verify",
        "--user",
        "alice",
        &sig,
    ]));
    assert_exit(&other_key, 1);

    let expired = UserSigKey::new(APPID, SECRET).gen_at("alice", 60, 1_000_000, None);
    let r = usersig(&["verify", "--user", "alice", &expired]);
    assert_exit(&r, 1);
    assert!(r.stderr.contains("expired"), "{}", r.stderr);

    let r = usersig(&["verify", "--user", "alice", "not a sig!"]);
    assert_exit(&r, 1);
}

#[test]
fn endpoints_lists_paths() {
    let paths = [
        "v4/openim/admin_set_msg_read",
        "v4/openim/c2c_msg_read_receipt",
        "v4/group_open_http_svc/set_unread_msg_num",
    ];
    let r = run(tim().arg("endpoints"));
    assert_exit(&r, 0);
    assert!(r.stdout.starts_with("PATH"));
    for p in paths {
        let line = r.stdout.lines().find(|l| l.starts_with(&format!("{p} "))).unwrap();
        assert!(line.contains("200/s") && line.contains("yes"), "{line}");
    }
    let r = run(tim().args(["endpoints", "--json"]));
    assert_exit(&r, 0);
    let list: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    for p in paths {
        let e = list.iter().find(|e| e["path"] == p).unwrap();
        assert_eq!(e["rate_limit"], json!({"calls": 200, "per_secs": 1}));
        assert_eq!(e["idempotent"], true);
    }
}

#[test]
fn endpoints_filter_by_words_of_path_or_title() {
    let r = run(tim().args(["endpoints", "group", "MEMBER"]));
    assert_exit(&r, 0);
    assert!(r.stdout.contains("v4/group_open_http_svc/add_group_member"), "{}", r.stdout);
    assert!(!r.stdout.contains("v4/openim/sendmsg "), "{}", r.stdout);
    let rows = r.stdout.lines().skip(1).collect::<Vec<_>>();
    assert!(
        rows.iter().all(|l| l.to_lowercase().contains("group") && l.to_lowercase().contains("member")),
        "{rows:?}"
    );
    let r = run(tim().args(["endpoints", "sendmgs"]));
    assert_exit(&r, 1);
    assert!(r.stderr.contains("no endpoint matches") && r.stderr.contains("openim/sendmsg"), "{}", r.stderr);
}

#[test]
fn describe_explains_an_endpoint() {
    let r = run(tim().args(["describe", "openim/sendmsg"]));
    assert_exit(&r, 0);
    for part in [
        "v4/openim/sendmsg: Send a one-to-one message",
        "rate limit: 200/s",
        "idempotent: no",
        "To_Account (string, required)",
        "SyncOtherMachine (SyncOtherMachine (enum), one of 1 | 2)",
        "MsgBody (MsgBody (array of MsgBodyElem (union on `MsgType`)), required)",
        "      Text (string)",
        "90001",
        "sample request:",
    ] {
        assert!(r.stdout.contains(part), "missing {part:?} in\n{}", r.stdout);
    }
    let r = run(tim().args(["describe", "v4/group_open_http_svc/get_group_member_info", "--json"]));
    assert_exit(&r, 0);
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d["idempotent"], true);
    let limit = d["request"].as_array().unwrap().iter().find(|f| f["name"] == "Limit").unwrap();
    assert_eq!(limit["type"], "u32");
    assert_eq!(limit["constraints"], "at most 6000");
    assert!(d["group_types"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["group_type"] == "AVChatRoom" && g["supported"] == false));
    assert_eq!(d["pagination"]["items"], json!(["MemberList"]));
    assert_eq!(d["pagination"]["offset"], "Offset");
    let r = run(tim().args(["describe", "sns/friend_get"]));
    assert!(
        r.stdout.contains("pages: items in `UserDataItem`, `StartIndex` from the reply's `NextStartIndex`"),
        "{}",
        r.stdout
    );
    let r = run(tim().args(["describe", "openim/batchsendmsg", "--json"]));
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d["rate_limits"][0]["cost"], "To_Account");
    let r = run(tim().args(["describe", "openim/sendmgs"]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("did you mean v4/openim/sendmsg"), "{}", r.stderr);
}

#[test]
fn unknown_keys_deep_inside_are_refused_with_their_path() {
    let m = mock();
    let body = r#"{"To_Account":"bob","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Txt":"hi"}}]}"#;
    let r = call(&m, "openim/sendmsg", body);
    assert_exit(&r, 2);
    assert!(
        r.stderr.contains("`MsgBody[0].MsgContent.Txt`: unknown field; did you mean `Text`?"),
        "{}",
        r.stderr
    );
    assert!(m.server.requests().is_empty(), "a refused request was sent");
}

#[test]
fn near_misses_get_a_suggestion() {
    let r = run(tim().arg("cal"));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("call"), "{}", r.stderr);
    let r = run(tim()
        .env("TIM_SDKAPPID", "1400000000")
        .env("TIM_IDENTIFIER", "admin")
        .env("TIM_SECRET_KEY", "k")
        .args(["--base-url", "http://127.0.0.1:9", "call", "v4/openim/sendmgs"]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("did you mean v4/openim/sendmsg"), "{}", r.stderr);
}

#[test]
fn mock_refuses_a_plain_http_callback_url_to_another_host() {
    let r = run(tim().args(["mock", "--callback-url", "http://example.com/cb"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("loopback"), "{}", r.stderr);
    let r = run(tim().args(["mock", "--callback-token", "t"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn unknown_fields_are_refused_unless_allowed_and_then_sent_as_given() {
    let m = mock();
    let body = r#"{"Report_Account":"dramon1","Peer_Account":"dramon2","MsgTimeStamp":5}"#;
    let r = call(&m, "v4/openim/admin_set_msg_read", body);
    assert_exit(&r, 2);
    assert!(r.stderr.contains("MsgTimeStamp") && r.stderr.contains("--allow-unknown"), "{}", r.stderr);
    assert!(m.server.requests().is_empty(), "nothing was sent");

    let base = m.server.base_url();
    let r = run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args([
            "--base-url",
            &base,
            "call",
            "v4/openim/admin_set_msg_read",
            "--allow-unknown",
            "--data",
            body,
        ]));
    assert_exit(&r, 0);
    assert!(r.stderr.contains("`MsgTimeStamp`"), "{}", r.stderr);
    let sent = m.server.requests();
    assert_eq!(sent[0].json().unwrap(), serde_json::from_str::<Value>(body).unwrap());
    assert_eq!(sent[0].ignored_fields, ["MsgTimeStamp"]);
    // Known fields are still checked.
    let r = run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(["--base-url", &base, "call", "v4/openim/admin_set_msg_read", "--allow-unknown"])
        .args(["--data", r#"{"Report_Account":5,"Peer_Account":"b","X":1}"#]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("Report_Account"), "{}", r.stderr);
}

/// A stateful emulator (not replaying samples), for listings.
fn stateful_mock() -> Mock {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = rt.block_on(MockServer::start(MockConfig::new(APPID, SECRET, ADMIN))).unwrap();
    Mock { server, _rt: rt }
}

#[test]
fn paginate_prints_one_line_per_item_across_pages() {
    let m = stateful_mock();
    let accounts: Vec<String> = (0..250).map(|i| format!("u{i:03}")).collect();
    for chunk in accounts.chunks(100) {
        let r = call(&m, "v4/im_open_login_svc/multiaccount_import", &json!({"Accounts": chunk}).to_string());
        assert_exit(&r, 0);
    }
    let body = json!({"Owner_Account": "u000", "Type": "Public", "Name": "g", "GroupId": "g",
                      "MemberList": accounts[1..100].iter().map(|a| json!({"Member_Account": a})).collect::<Vec<_>>()});
    assert_exit(&call(&m, "v4/group_open_http_svc/create_group", &body.to_string()), 0);
    let more: Vec<Value> = accounts[100..].iter().map(|a| json!({"Member_Account": a})).collect();
    let r = call(
        &m,
        "v4/group_open_http_svc/add_group_member",
        &json!({"GroupId": "g", "MemberList": more}).to_string(),
    );
    assert_exit(&r, 0);

    let base = m.server.base_url();
    let list = |extra: &[&str]| {
        let mut cmd = tim();
        cmd.env("TIM_SDKAPPID", APPID.to_string())
            .env("TIM_IDENTIFIER", ADMIN)
            .env("TIM_SECRET_KEY", SECRET)
            .args(["--base-url", &base, "call", "group_open_http_svc/get_group_member_info"])
            .args(["-d", r#"{"GroupId":"g"}"#, "--paginate", "--page-size", "40"])
            .args(extra);
        run(&mut cmd)
    };
    let before = m.server.request_count();
    let r = list(&[]);
    assert_exit(&r, 0);
    let members: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: std::collections::BTreeSet<&str> =
        members.iter().map(|m| m["Member_Account"].as_str().unwrap()).collect();
    assert_eq!((members.len(), names.len()), (250, 250));
    // 250 members by 40: 7 pages.
    assert_eq!(m.server.request_count() - before, 7);

    let r = list(&["--max-items", "45"]);
    assert_exit(&r, 0);
    assert_eq!(r.stdout.lines().count(), 45);

    // An endpoint that does not page, and a bad first request.
    let r = run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(["--base-url", &base, "call", "openim/sendmsg", "--paginate"]));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("v4/openim/sendmsg does not page; --paginate works with:"), "{}", r.stderr);
    assert!(r.stderr.contains("v4/sns/friend_get"), "{}", r.stderr);
    let r = list(&["--page-size", "0"]);
    assert_exit(&r, 2);
}

/// `tim bulk` against `m`, configured like `call`.
fn bulk(m: &Mock, args: &[&str]) -> Run {
    let base = m.server.base_url();
    run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(["--base-url", &base, "bulk"])
        .args(args))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn accounts_jsonl(n: usize, prefix: &str) -> String {
    (0..n).map(|i| format!("{{\"UserID\":\"{prefix}{i:05}\"}}\n")).collect()
}

#[test]
fn bulk_imports_reports_failed_items_and_refuses_bad_usage() {
    let m = stateful_mock();
    let dir = temp_dir("bulk");
    let input = dir.join("accounts.jsonl");
    let mut lines = accounts_jsonl(250, "b");
    lines.push_str(&format!("{{\"UserID\":\"{}\"}}\n", "x".repeat(40)));
    lines.push_str("not json\n\n");
    std::fs::write(&input, lines).unwrap();
    let report = dir.join("failed.jsonl");
    let (input_s, report_s) = (input.to_str().unwrap(), report.to_str().unwrap());
    let r = bulk(&m, &["im_open_login_svc/multiaccount_import", "--input", input_s, "--report", report_s]);
    assert_exit(&r, 1);
    assert!(r.stderr.contains("252 items, 250 succeeded, 2 failed; 3 parts of up to 100"), "{}", r.stderr);
    let failed: Vec<Value> =
        std::fs::read_to_string(&report).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["line"], 251);
    assert!(failed[0]["info"].as_str().unwrap().contains("AccountList[].UserID"), "{}", failed[0]);
    assert_eq!(failed[1]["line"], 252);
    let imported =
        m.server.world(|w| (0..250).all(|i| w.accounts.accounts.contains_key(&format!("b{i:05}"))));
    assert!(imported);

    // Every item done: exit 0.
    std::fs::write(&input, accounts_jsonl(30, "c")).unwrap();
    assert_exit(&bulk(&m, &["im_open_login_svc/multiaccount_import", "--input", input_s]), 0);

    // Bad usage exits 2 and sends nothing.
    let before = m.server.request_count();
    let r = bulk(&m, &["openim/sendmsg", "--input", input_s]);
    assert_exit(&r, 2);
    assert!(
        r.stderr.contains("tim bulk works with:") && r.stderr.contains("v4/openim/batchsendmsg"),
        "{}",
        r.stderr
    );
    let r = bulk(
        &m,
        &["im_open_login_svc/multiaccount_import", "--input", input_s, "-d", r#"{"AccountList":[]}"#],
    );
    assert_exit(&r, 2);
    assert!(r.stderr.contains("must not hold `AccountList`"), "{}", r.stderr);
    std::fs::write(&input, "\"u1\"\n\"u2\"\n").unwrap();
    let r = bulk(&m, &["openim/batchsendmsg", "--input", input_s, "-d", r#"{"MsgRandom":1}"#]);
    assert_exit(&r, 2);
    assert!(r.stderr.contains("MsgBody"), "{}", r.stderr);
    assert_eq!(m.server.request_count(), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bulk_resumes_from_its_journal_after_kill_9() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // A quota of 10 imports a second on both sides: 40 parts take about 4 s.
    let quota = tim_runtime::RateLimit::per_second(10);
    let path = "v4/im_open_login_svc/multiaccount_import";
    let server =
        rt.block_on(MockServer::start(MockConfig::new(APPID, SECRET, ADMIN).limit(path, quota))).unwrap();
    let m = Mock { server, _rt: rt };
    let dir = temp_dir("journal");
    let (input, journal) = (dir.join("in.jsonl"), dir.join("journal.jsonl"));
    std::fs::write(&input, accounts_jsonl(4000, "j")).unwrap();
    let base = m.server.base_url();
    let args = [
        "--base-url",
        &base,
        "bulk",
        path,
        "--input",
        input.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "--limit",
        "im_open_login_svc/multiaccount_import=10/s",
    ];
    let mut child = tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once a few parts are confirmed.
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.matches("\"done\"").count() >= 12 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "no progress: {text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let sent_before = m.server.request_count();
    assert!(sent_before < 40, "the first run finished before the kill");

    let r = run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(args));
    assert_exit(&r, 0);
    let all = m.server.world(|w| (0..4000).all(|i| w.accounts.accounts.contains_key(&format!("j{i:05}"))));
    assert!(all, "some accounts were not imported");
    // Only parts in flight at the kill (at most --concurrency, 4) were sent twice.
    // Each of the 40 parts reached the server once, some of those in flight
    // at the kill twice; the summary counts the parts in flight (at most
    // --concurrency, 4), sent again whether they had reached it or not.
    let twice = m.server.request_count() - 40;
    let said: usize = r
        .stderr
        .split(" in flight at the stop were sent again")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of resent parts in {}", r.stderr));
    assert!(twice <= said && said <= 4, "{twice} sent twice, {said} said resent; {}", r.stderr);

    // A journal of another job is refused and left alone.
    std::fs::write(&input, accounts_jsonl(10, "other")).unwrap();
    let before = std::fs::read(&journal).unwrap();
    let r = run(tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_IDENTIFIER", ADMIN)
        .env("TIM_SECRET_KEY", SECRET)
        .args(args));
    assert_exit(&r, 2);
    assert!(r.stderr.contains("belongs to another job"), "{}", r.stderr);
    assert_eq!(std::fs::read(&journal).unwrap(), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn each_subcommand_lists_only_the_settings_it_uses() {
    let help = |args: &[&str]| {
        let r = run(tim().args(args));
        assert_exit(&r, 0);
        r.stdout
    };
    for args in
        [&["--help"][..], &["describe", "--help"], &["endpoints", "--help"], &["callback", "list", "--help"]]
    {
        let h = help(args);
        assert!(!h.contains("--secret-key") && !h.contains("--base-url"), "{args:?}:\n{h}");
    }
    for args in [&["call", "--help"][..], &["bulk", "--help"]] {
        let h = help(args);
        for flag in ["--sdkappid", "--identifier", "--secret-key", "--region", "--base-url"] {
            assert!(h.contains(flag), "{args:?} lacks {flag}:\n{h}");
        }
    }
    let h = help(&["usersig", "gen", "--help"]);
    assert!(h.contains("--secret-key") && h.contains("--sdkappid"), "{h}");
    assert!(!h.contains("--base-url") && !h.contains("--identifier"), "{h}");
    let h = help(&["callback", "listen", "--help"]);
    assert!(h.contains("--sdkappid") && !h.contains("--secret-key"), "{h}");
    let h = help(&["mock", "--help"]);
    assert!(h.contains("--secret-key") && !h.contains("--base-url"), "{h}");

    // Flags after the subcommand, and before it as older scripts write them.
    let m = mock();
    let base = m.server.base_url();
    let body = r#"{"Report_Account":"a","Peer_Account":"b"}"#;
    let after = run(tim()
        .args(["call", "openim/admin_set_msg_read", "--base-url", &base, "--sdkappid", &APPID.to_string()])
        .args(["--identifier", ADMIN, "--secret-key", SECRET, "-d", body]));
    assert_exit(&after, 0);
    let before = run(tim()
        .args(["--base-url", &base, "--sdkappid", &APPID.to_string(), "--identifier", ADMIN])
        .args(["--secret-key", SECRET, "call", "openim/admin_set_msg_read", "-d", body]));
    assert_exit(&before, 0);
}
