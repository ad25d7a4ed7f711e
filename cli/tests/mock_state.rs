//! `tim mock` as a process: an emulator whose state survives a restart
//! through `--state`, starts from `--seed`, and refuses unreadable files.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

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
        let mut child = tim()
            .args(["mock", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
    fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        // The shell's built-in kill: no procps package needed.
        let status = Command::new("sh").args(["-c", &format!("kill -INT {pid}")]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "tim mock exited with {exit}");
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
