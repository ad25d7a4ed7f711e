//! `tim callback`: the list matches the callback catalog kept in the repo,
//! `listen` accepts every documented sample when signed and refuses forged,
//! stale, future, foreign, unsigned and truncated requests, and `send` signs
//! what it sends and checks the body first.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tim_conformance::fixtures::{default_dir, load_callbacks};
use tim_runtime::callback::testing::{signed_query, unsigned_query};

const APPID: u64 = 1_400_000_321;
const TOKEN: &str = "cli-callback-token";

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A `tim` command with no inherited `TIM_*` configuration.
fn tim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tim"));
    for var in [
        "TIM_SDKAPPID",
        "TIM_IDENTIFIER",
        "TIM_SECRET_KEY",
        "TIM_REGION",
        "TIM_BASE_URL",
        "TIM_CALLBACK_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Commands of `specs/callbacks.tsv`.
fn catalog() -> BTreeSet<String> {
    let file = workspace().join("specs/callbacks.tsv");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("command\t") && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "row needs command, title, source, completeness: {l}");
            cols[0].to_owned()
        })
        .collect()
}

#[test]
fn list_names_every_catalogued_callback_and_nothing_else() {
    let out = tim().args(["callback", "list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: BTreeSet<String> =
        v.as_array().unwrap().iter().map(|c| c["command"].as_str().unwrap().to_owned()).collect();
    let catalog = catalog();
    let missing: Vec<_> = catalog.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&catalog).collect();
    assert!(missing.is_empty(), "catalogued callbacks without a spec: {missing:?}");
    assert!(extra.is_empty(), "specs without a catalog row (add them to specs/callbacks.tsv): {extra:?}");
    for c in v.as_array().unwrap() {
        assert!(matches!(c["kind"].as_str(), Some("before" | "after")), "{c}");
        assert!(!c["title"].as_str().unwrap().is_empty(), "{c}");
    }
    let table = tim().args(["callback", "list"]).output().unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.lines().count() == listed.len() + 1, "{text}");
}

/// A running `tim callback listen`, its address, and its stdout lines.
struct Listener {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen() -> Listener {
    let mut child = tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .env("TIM_CALLBACK_TOKEN", TOKEN)
        .args(["callback", "listen", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (out_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    let (err_tx, stderr) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = err_tx.send(line);
        }
    });
    let first = stderr.recv_timeout(Duration::from_secs(30)).expect("listen prints its address");
    let addr = first.split("http://").nth(1).and_then(|s| s.split('/').next()).expect(&first).to_owned();
    Listener { child, addr, lines, stderr }
}

/// POSTs `body` to `/?query` over a fresh connection; the status and body of the reply.
fn post(addr: &str, query: &str, body: &[u8], claimed_len: Option<usize>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let len = claimed_len.unwrap_or(body.len());
    let head = format!(
        "POST /?{query} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    if claimed_len.is_some() {
        // A truncated body: the sender gives up half-way.
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    let status = reply.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[test]
fn listen_accepts_every_documented_sample_and_refuses_bad_requests() {
    let l = listen();
    let fixtures = load_callbacks(&default_dir()).unwrap();
    assert!(!fixtures.is_empty());
    for f in &fixtures {
        let body = serde_json::to_vec(&f.body).unwrap();
        let (status, reply) = post(&l.addr, &signed_query(APPID, &f.command, TOKEN, now()), &body, None);
        assert_eq!(status, 200, "{}: {reply}", f.file.display());
        let reply: Value = serde_json::from_str(&reply).unwrap();
        assert_eq!((reply["ActionStatus"].as_str(), reply["ErrorCode"].as_i64()), (Some("OK"), Some(0)));
        let line = l.lines.recv_timeout(Duration::from_secs(10)).expect("a line per accepted callback");
        let line: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(line["command"], f.command.as_str(), "{line}");
        assert_eq!(line["known"], true, "{}: {line}", f.file.display());
        assert!(line["event"].is_object(), "{line}");
    }

    let sample = &fixtures[0];
    let body = serde_json::to_vec(&sample.body).unwrap();
    let cmd = sample.command.as_str();
    let mut forged = signed_query(APPID, cmd, TOKEN, now());
    forged = forged.replace("Sign=", "Sign=0");
    let refused = [
        ("forged", forged, None),
        ("wrong token", signed_query(APPID, cmd, "another-token", now()), None),
        ("stale", signed_query(APPID, cmd, TOKEN, now() - 600), None),
        ("future", signed_query(APPID, cmd, TOKEN, now() + 600), None),
        ("foreign app", signed_query(APPID + 1, cmd, TOKEN, now()), None),
        ("unsigned", unsigned_query(APPID, cmd), None),
        ("truncated", signed_query(APPID, cmd, TOKEN, now()), Some(body.len() + 40)),
    ];
    for (what, query, claimed) in refused {
        let (status, reply) = post(&l.addr, &query, &body, claimed);
        assert!((400..500).contains(&status), "{what}: HTTP {status} {reply}");
        if !reply.is_empty() {
            let reply: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
            assert_eq!(reply["ActionStatus"], "FAIL", "{what}: {reply}");
        }
        let reason = l.stderr.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        assert!(reason.contains("refused"), "{what}: stderr {reason:?}");
    }
    // A body cut short whose length header matches is simply a bad body.
    let (status, _) = post(&l.addr, &signed_query(APPID, cmd, TOKEN, now()), &body[..body.len() / 2], None);
    assert_eq!(status, 400);

    // Still serving; an unknown command is acknowledged and kept raw.
    let unknown = br#"{"CallbackCommand":"Future.CallbackNobodyKnows","A":1}"#;
    let (status, _) =
        post(&l.addr, &signed_query(APPID, "Future.CallbackNobodyKnows", TOKEN, now()), unknown, None);
    assert_eq!(status, 200);
    let line: Value = serde_json::from_str(&l.lines.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(
        (line["command"].as_str(), line["known"].as_bool()),
        (Some("Future.CallbackNobodyKnows"), Some(false))
    );
    assert_eq!(line["event"]["A"], 1);
    assert!(l.lines.try_recv().is_err(), "no line for refused requests");
}

#[test]
fn send_signs_checks_the_body_and_reports_the_reply() {
    let l = listen();
    let url = format!("http://{}/", l.addr);
    let send = |args: &[&str]| {
        tim()
            .env("TIM_SDKAPPID", APPID.to_string())
            .env("TIM_CALLBACK_TOKEN", TOKEN)
            .args(["callback", "send"])
            .args(args)
            .output()
            .unwrap()
    };
    let body = r#"{"From_Account":"jared","To_Account":"John","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}"#;
    let out = send(&["C2C.CallbackBeforeSendMsg", "--url", &url, "--data", body]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["ErrorCode"], 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("decision `allow`"));
    let line: Value = serde_json::from_str(&l.lines.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(line["event"]["To_Account"], "John");

    // A bad field is named and nothing is sent.
    let bad = r#"{"From_Account":"jared","To_Account":"John","MsgBody":"hi"}"#;
    let out = send(&["C2C.CallbackBeforeSendMsg", "--url", &url, "--data", bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`MsgBody`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An unknown command needs --raw.
    let out = send(&["Future.Callback", "--url", &url, "--data", "{}"]);
    assert_eq!(out.status.code(), Some(2));
    let out = send(&[
        "Future.Callback",
        "--url",
        &url,
        "--data",
        r#"{"CallbackCommand":"Future.Callback"}"#,
        "--raw",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_str(&l.lines.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(line["known"], false);
    assert!(l.lines.try_recv().is_err(), "the refused body was not sent");

    // A wrong token is refused by the receiver: non-zero exit.
    let out = tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .args([
            "callback",
            "send",
            "C2C.CallbackBeforeSendMsg",
            "--url",
            &url,
            "--data",
            body,
            "--token",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // Plain http elsewhere than loopback is refused before sending.
    let out = send(&["C2C.CallbackBeforeSendMsg", "--url", "http://example.com/", "--data", body]);
    assert_eq!(out.status.code(), Some(2));
    // Without a token, nothing is signed unless authentication is said to be off.
    let out = tim()
        .env("TIM_SDKAPPID", APPID.to_string())
        .args(["callback", "send", "C2C.CallbackBeforeSendMsg", "--url", &url, "--data", body])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TIM_CALLBACK_TOKEN"));
}
