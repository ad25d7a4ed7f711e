//! `tim mock` as a process: an emulator whose state survives a restart
//! through `--state`, starts from `--seed`, refuses what is not a state
//! file and leaves it as it was, saves on signals, and stays within its
//! memory and connection bounds whatever clients send.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `tim` command with no inherited `TIM_*` configuration.
fn tim() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tim"));
    for var in ["TIM_SDKAPPID", "TIM_IDENTIFIER", "TIM_SECRET_KEY", "TIM_REGION", "TIM_BASE_URL"] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// A running `tim mock` and the settings it printed.
struct Emulator {
    child: Child,
    settings: Vec<(String, String)>,
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Emulator {
    fn start(args: &[&str]) -> Self {
        Self::start_with(args, Stdio::null())
    }

    /// Starts it with stderr going to `stderr` (e.g. a pipe nobody reads).
    fn start_with(args: &[&str], stderr: Stdio) -> Self {
        let mut child = tim()
            .args(["mock", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut settings = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some((k, v)) = line.split_once('=') {
                settings.push((k.to_owned(), v.to_owned()));
            }
            if line.starts_with("TIM_SECRET_KEY=") {
                break;
            }
        }
        assert!(!settings.is_empty(), "tim mock printed no settings");
        Self { child, settings, _stdout: lines }
    }

    fn get(&self, key: &str) -> String {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap()
    }

    /// `tim call` against this emulator; the printed reply.
    fn call(&self, path: &str, data: &str) -> Value {
        let out = tim()
            .env("TIM_BASE_URL", self.get("TIM_BASE_URL"))
            .env("TIM_SDKAPPID", self.get("TIM_SDKAPPID"))
            .env("TIM_IDENTIFIER", self.get("TIM_IDENTIFIER"))
            .env("TIM_SECRET_KEY", self.get("TIM_SECRET_KEY"))
            .args(["call", path, "--timeout", "5", "--data", data])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{path}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{path}: {e}: {stdout}"))
    }

    /// Stops it as Ctrl-C does, so it saves its state.
    fn interrupt(self) {
        self.stop_with("INT");
    }

    /// Sends a signal (`INT`, `TERM`, `HUP`).
    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        // The shell's built-in kill: no procps package needed.
        let status = Command::new("sh").args(["-c", &format!("kill -{name} {pid}")]).status().unwrap();
        assert!(status.success());
    }

    /// Stops it with a signal; it must exit 0.
    fn stop_with(mut self, name: &str) {
        self.signal(name);
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "tim mock exited with {exit} after SIG{name}");
    }

    /// `host:port` it listens on.
    fn addr(&self) -> String {
        self.get("TIM_BASE_URL").trim_start_matches("http://").to_owned()
    }

    /// Its resident memory, KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The query of an admin REST call to it.
    fn auth_query(&self) -> String {
        let appid: u64 = self.get("TIM_SDKAPPID").parse().unwrap();
        let key = tim_runtime::UserSigKey::new(appid, self.get("TIM_SECRET_KEY"));
        let admin = self.get("TIM_IDENTIFIER");
        let sig = key.gen(&admin, std::time::Duration::from_secs(3600));
        format!(
            "sdkappid={appid}&identifier={admin}&usersig={}&random=1&contenttype=json",
            sig.replace('*', "%2A")
        )
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const QUERIES: [(&str, &str); 4] = [
    ("v4/openim/get_c2c_unread_msg_num", r#"{"To_Account":"bob"}"#),
    ("v4/im_open_login_svc/account_check", r#"{"CheckItem":[{"UserID":"alice"},{"UserID":"carol"}]}"#),
    ("v4/profile/portrait_get", r#"{"To_Account":["alice"],"TagList":["Tag_Profile_IM_Nick"]}"#),
    (
        "v4/openim/admin_getroammsg",
        r#"{"Operator_Account":"alice","Peer_Account":"bob","MaxCnt":10,"MinTime":0,"MaxTime":4294967295}"#,
    ),
];

fn answers(e: &Emulator) -> Vec<Value> {
    QUERIES.iter().map(|(path, data)| e.call(path, data)).collect()
}

#[test]
fn state_survives_a_restart() {
    let dir = tempdir();
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap();
    let first = Emulator::start(&["--state", state_arg]);
    first.call("v4/im_open_login_svc/account_import", r#"{"UserID":"alice","Nick":"Alice"}"#);
    first.call("v4/im_open_login_svc/account_import", r#"{"UserID":"bob"}"#);
    for i in 0..3 {
        let msg = format!(
            r#"{{"From_Account":"alice","To_Account":"bob","MsgRandom":{i},"MsgBody":[{{"MsgType":"TIMTextElem","MsgContent":{{"Text":"m{i}"}}}}]}}"#
        );
        first.call("v4/openim/sendmsg", &msg);
    }
    let before = answers(&first);
    assert_eq!(before[0]["AllC2CUnreadMsgNum"], 3, "{}", before[0]);
    first.interrupt();
    assert!(state.exists(), "no state file written");

    let second = Emulator::start(&["--state", state_arg]);
    assert_eq!(answers(&second), before);
    second.interrupt();

    // A seed starts another emulator from the same accounts and messages.
    let third = Emulator::start(&["--seed", state_arg]);
    assert_eq!(answers(&third), before);
}

#[test]
fn an_unreadable_state_file_is_an_error_naming_it() {
    let dir = tempdir();
    let state = dir.join("broken.json");
    std::fs::write(&state, b"{not json").unwrap();
    let out = tim().args(["mock", "--port", "0", "--state", state.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
    let out = tim()
        .args(["mock", "--port", "0", "--seed", dir.join("missing.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}

#[test]
fn help_lists_the_stateful_endpoints() {
    let out = tim().args(["mock", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("openim/sendmsg") && help.contains("stateless"), "{help}");
}

/// A fresh directory under the target directory (tests never write outside it).
fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join(format!("mock-state-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `tim mock` with `args`, which must fail at once; its exit code and
/// stderr.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let mut child = tim()
        .args(["mock", "--port", "0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tim mock {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn what_is_not_a_state_file_is_refused_and_left_as_it_was() {
    let dir = tempdir();
    for (name, content, says) in [
        ("empty-object.json", "{}", "no \"format\""),
        ("array.json", "[]", "array"),
        ("package.json", r#"{"name":"my-app","version":"1.0.0","dependencies":{}}"#, "no \"format\""),
        (
            "misspelt.json",
            r#"{"format":"tim-emulator-state","version":1,"world":{"acounts":{}}}"#,
            "world.acounts",
        ),
        ("newer.json", r#"{"format":"tim-emulator-state","version":2,"world":{}}"#, "newer"),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, content).unwrap();
        for flag in ["--state", "--seed"] {
            let (code, stderr) = refused(&[flag, file.to_str().unwrap()]);
            assert_eq!(code, Some(2), "{name} {flag}: {stderr}");
            assert!(stderr.contains(name) && stderr.contains(says), "{name} {flag}: {stderr}");
            assert_eq!(std::fs::read_to_string(&file).unwrap(), content, "{name} was changed");
        }
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 5, "a temporary file was left behind");
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_is_an_error_and_stays() {
    let dir = tempdir();
    let link = dir.join("state.json");
    std::os::unix::fs::symlink(dir.join("elsewhere/state.json"), &link).unwrap();
    let (code, stderr) = refused(&["--state", link.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(!dir.join("elsewhere").exists());
}

#[cfg(unix)]
#[test]
fn a_symlinked_state_file_is_written_through_the_link() {
    let dir = tempdir();
    let real = dir.join("real.json");
    std::fs::write(&real, r#"{"format":"tim-emulator-state","version":1,"world":{}}"#).unwrap();
    let link = dir.join("state.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let e = Emulator::start(&["--state", link.to_str().unwrap()]);
    e.call("v4/im_open_login_svc/account_import", r#"{"UserID":"alice"}"#);
    e.interrupt();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("alice"));
}

#[test]
fn sigterm_saves_and_exits_0_and_sighup_saves_and_keeps_serving() {
    let dir = tempdir();
    let state = dir.join("state.json");
    let e = Emulator::start(&["--state", state.to_str().unwrap(), "--save-every", "3600"]);
    e.call("v4/im_open_login_svc/account_import", r#"{"UserID":"alice"}"#);
    e.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&state).is_ok_and(|s| s.contains("alice")) {
        assert!(Instant::now() < deadline, "SIGHUP did not save");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Still serving.
    e.call("v4/im_open_login_svc/account_import", r#"{"UserID":"bob"}"#);
    e.stop_with("TERM");
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("\"bob\"") && saved.contains("tim-emulator-state"), "{saved}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "a temporary file was left behind");
}

#[test]
fn a_loaded_state_still_has_the_admin() {
    let dir = tempdir();
    let state = dir.join("state.json");
    std::fs::write(
        &state,
        r#"{"format":"tim-emulator-state","version":1,"world":{"accounts":{"accounts":{"zoe":{}}}}}"#,
    )
    .unwrap();
    let e = Emulator::start(&["--state", state.to_str().unwrap()]);
    let reply = e.call(
        "v4/im_open_login_svc/account_check",
        r#"{"CheckItem":[{"UserID":"administrator"},{"UserID":"zoe"}]}"#,
    );
    let items = reply["ResultItem"].as_array().unwrap();
    assert!(items.iter().all(|i| i["AccountStatus"] == "Imported"), "{reply}");
}

/// One HTTP/1.1 exchange on a fresh connection; the reply, or the error
/// (a server that refuses a body unread may reset the connection).
fn exchange(addr: &str, head: &str, body: &[u8]) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(head.as_bytes())?;
    let _ = s.write_all(body);
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn memory_stays_bounded_whatever_clients_send() {
    let e = Emulator::start(&["--no-rate-limit"]);
    let addr = e.addr();
    let baseline = e.rss_kib();
    let path = "/v4/im_open_login_svc/account_check";
    let unauthenticated = format!(
        "POST {path}?sdkappid=1400000000&identifier=administrator&usersig=forged&random=1&contenttype=json HTTP/1.1\r\n\
         Host: x\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n"
    );
    let big = vec![b'x'; 1 << 20];
    let pad = "p".repeat(100 * 1024);
    let valid = format!(r#"{{"CheckItem":[{{"UserID":"a"}}],"Padding":"{pad}"}}"#).into_bytes();
    let valid_head = format!(
        "POST {path}?{} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        e.auth_query(),
        valid.len()
    );
    let answered = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..500 {
                    let _ = exchange(&addr, &unauthenticated, &big);
                    let reply = exchange(&addr, &valid_head, &valid).unwrap();
                    assert!(reply.contains("\"ErrorCode\":0"), "{}", &reply[..reply.len().min(300)]);
                    answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(answered.into_inner(), 2000);
    let after = e.rss_kib();
    println!("tim mock RSS: {baseline} KiB at start, {after} KiB after 2,000 unauthenticated 1 MB and 2,000 valid 100 KB requests");
    assert!(after < 256 * 1024, "RSS {after} KiB");
}

#[test]
fn half_open_connections_do_not_keep_others_waiting() {
    let e = Emulator::start(&[]);
    let addr = e.addr();
    let stalled: Vec<TcpStream> = (0..600)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            let _ = s.write_all(b"POST /v4/openim/sendmsg HTTP/1.1\r\nHost: x\r\nContent-Le");
            s
        })
        .collect();
    let body = br#"{"CheckItem":[{"UserID":"administrator"}]}"#;
    let head = format!(
        "POST /v4/im_open_login_svc/account_check?{} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        e.auth_query(),
        body.len()
    );
    let started = Instant::now();
    let reply = exchange(&addr, &head, body).unwrap();
    let took = started.elapsed();
    assert!(reply.contains("\"ErrorCode\":0"), "{reply}");
    println!("answered in {took:?} beside 600 half-open connections");
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(stalled);
}

#[test]
fn an_unread_stderr_does_not_stall_the_server() {
    // stderr is a pipe this test never reads: its buffer fills after a few
    // hundred log lines.
    let e = Emulator::start_with(&["--no-rate-limit", "--log-bodies"], Stdio::piped());
    let addr = e.addr();
    let body = br#"{"CheckItem":[{"UserID":"administrator"}]}"#;
    let head = format!(
        "POST /v4/im_open_login_svc/account_check?{} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        e.auth_query(),
        body.len()
    );
    let started = Instant::now();
    for _ in 0..3000 {
        let reply = exchange(&addr, &head, body).unwrap();
        assert!(reply.contains("\"ErrorCode\":0"), "{reply}");
    }
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn the_inspector_address_is_printed_and_serves_the_page() {
    let mut e = Emulator::start(&[]);
    // Dropped at the end, which stops it.
    let line = e._stdout.by_ref().map_while(Result::ok).find(|l| l.starts_with("inspector: "));
    let line = line.expect("tim mock prints the inspector's address");
    assert!(line.ends_with("/__tim/ui"), "{line}");
    let head = "GET /__tim/ui HTTP/1.1\r\nHost: tim\r\nConnection: close\r\n\r\n";
    let page = exchange(&e.addr(), head, b"").unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<title>tim mock inspector</title>"), "{page}");
}
