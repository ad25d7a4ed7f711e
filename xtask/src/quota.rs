//! `cargo xtask bench quota`: how close whole `tim bulk` jobs keep to a
//! quota the emulator enforces, alone and as four processes sharing one
//! `redis-server`, and what a `kill -9` and a resume cost.
//!
//! Everything runs as separate processes of the release `tim` binary:
//! `tim mock` with reduced quotas (`--limit`), and `tim bulk` told the same
//! quotas. The figure is the rate the job sustained from its first to its
//! last request, against the quota (the baseline, measured in the same run
//! as the emulator's own admission); frequency errors are counted from the
//! emulator's request log.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bench::{cargo, finish, Row};

const APPID: &str = "1400000001";
const ADMIN: &str = "administrator";
const SECRET: &str = "bench-quota-secret";
const IMPORT: &str = "v4/im_open_login_svc/multiaccount_import";
const BATCH: &str = "v4/openim/batchsendmsg";
/// Calls a second allowed for `IMPORT`, 100 accounts each.
const IMPORT_RATE: u32 = 10;
/// Recipients a minute allowed for `BATCH`.
const BATCH_RATE: u32 = 6_000;

/// A child process killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn wait_for_port(port: u16, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("{what} did not listen on port {port}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// `GET path` on 127.0.0.1:port: the body, read as JSON.
fn get_json(port: u16, path: &str) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).map_err(|e| e.to_string())?;
    let at = reply.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP body")? + 4;
    serde_json::from_slice(&reply[at..]).map_err(|e| format!("GET {path}: {e}"))
}

struct Mock {
    _child: Running,
    port: u16,
}

impl Mock {
    fn start(tim: &Path) -> Result<Self, String> {
        let port = free_port();
        let child = Command::new(tim)
            .args(["mock", "--port", &port.to_string()])
            .args(["--limit", &format!("{IMPORT}={IMPORT_RATE}/s")])
            .args(["--limit", &format!("{BATCH}={BATCH_RATE}/min")])
            // Room for every request of the run, so no refusal leaves the log.
            .args(["--log-max-bytes", &(512usize << 20).to_string()])
            .envs(env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start tim mock: {e}"))?;
        let child = Running(child);
        wait_for_port(port, "tim mock")?;
        Ok(Self { _child: child, port })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests to `path` refused for frequency (60007 and the endpoint's own codes).
    fn frequency_errors(&self, path: &str) -> Result<usize, String> {
        let log = get_json(self.port, &format!("/__tim/requests?errors=1&path={path}"))?;
        let codes = [60007, 60011, 60018, 60019, 90057, 10023];
        Ok(log
            .as_array()
            .map(|a| a.iter().filter(|e| e["ErrorCode"].as_i64().is_some_and(|c| codes.contains(&c))).count())
            .unwrap_or(0))
    }

    fn accounts(&self) -> Result<usize, String> {
        let state = get_json(self.port, "/__tim/state")?;
        Ok(state["world"]["accounts"]["accounts"].as_object().map_or(0, |m| m.len()))
    }
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![("TIM_SDKAPPID", APPID), ("TIM_IDENTIFIER", ADMIN), ("TIM_SECRET_KEY", SECRET)]
}

fn redis() -> Result<(Running, String), String> {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("redis-server not found ({e}); install Debian's redis-server"))?;
    let child = Running(child);
    wait_for_port(port, "redis-server")?;
    Ok((child, format!("redis://127.0.0.1:{port}/")))
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) -> Result<(), String> {
    let text: String = lines.map(|l| l + "\n").collect();
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn bulk(tim: &Path, mock: &Mock, args: &[String]) -> Command {
    let mut c = Command::new(tim);
    c.args(["--base-url", &mock.url(), "bulk"])
        .args(args)
        .args([
            "--limit",
            &format!("{IMPORT}={IMPORT_RATE}/s"),
            "--limit",
            &format!("{BATCH}={BATCH_RATE}/min"),
        ])
        .envs(env())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Runs `cmd` to the end: its exit success and standard error.
fn finish_cmd(mut cmd: Command) -> Result<(bool, String), String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

fn row(what: &str, units_per_sec: f64, quota: f64, unit: &str, target: f64, errors: usize) -> Row {
    let ratio = units_per_sec / quota;
    let pass = ratio >= target && errors == 0;
    Row(vec![
        "8 quota".into(),
        what.into(),
        format!("{units_per_sec:.1} {unit}/s, {errors} frequency errors"),
        format!("{quota:.1} {unit}/s (the quota)"),
        format!("{ratio:.3}"),
        format!(">= {target:.2}, 0 errors"),
        if pass { "PASS" } else { "MISS" }.into(),
    ])
}

/// `cargo xtask bench quota`.
pub fn run(root: &Path) -> ExitCode {
    let mut rows = Vec::new();
    let ok = match scenarios(root, &mut rows) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("bench quota: {e}");
            false
        }
    };
    finish(root, &rows, "cargo xtask bench quota", ok)
}

fn scenarios(root: &Path, rows: &mut Vec<Row>) -> Result<(), String> {
    eprintln!("$ cargo build --release -p tim-cli");
    let built = cargo().current_dir(root).args(["build", "--release", "-p", "tim-cli"]).status();
    if !built.is_ok_and(|s| s.success()) {
        return Err("cannot build tim".into());
    }
    let tim = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("release/tim");
    let dir = std::env::temp_dir().join(format!("tim-bench-quota-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run_all(&tim, &dir, rows);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_all(tim: &Path, dir: &Path, rows: &mut Vec<Row>) -> Result<(), String> {
    let import_quota = f64::from(IMPORT_RATE);

    // 1. One process: 20,000 accounts, 200 calls at 10 calls/s.
    let mock = Mock::start(tim)?;
    let input = dir.join("accounts.jsonl");
    write_lines(&input, (0..20_000).map(|i| format!("{{\"UserID\":\"one{i:06}\"}}")))?;
    let started = Instant::now();
    let (ok, err) =
        finish_cmd(bulk(tim, &mock, &[IMPORT.into(), "--input".into(), input.display().to_string()]))?;
    let took = started.elapsed().as_secs_f64();
    if !ok {
        return Err(format!("tim bulk failed: {err}"));
    }
    eprintln!("{}", err.trim());
    let calls = 200.0;
    // The first call needs no wait: the rate runs from it to the last reply.
    rows.push(row(
        "1 process, multiaccount_import at 10 calls/s",
        calls / took,
        import_quota,
        "calls",
        0.97,
        mock.frequency_errors(IMPORT)?,
    ));

    // 2. One process: a campaign to 6,000 recipients at 6,000 a minute.
    let recipients = dir.join("recipients.jsonl");
    write_lines(&recipients, (0..6_000).map(|i| format!("\"one{i:06}\"")))?;
    let body = r#"{"From_Account":"one000000","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"sale"}}]}"#;
    let started = Instant::now();
    let (ok, err) = finish_cmd(bulk(
        tim,
        &mock,
        &[BATCH.into(), "--input".into(), recipients.display().to_string(), "-d".into(), body.into()],
    ))?;
    let took = started.elapsed().as_secs_f64();
    if !ok {
        return Err(format!("tim bulk failed: {err}"));
    }
    eprintln!("{}", err.trim());
    rows.push(row(
        "1 process, batchsendmsg at 6,000 recipients/min",
        6_000.0 / took,
        f64::from(BATCH_RATE) / 60.0,
        "recipients",
        0.97,
        mock.frequency_errors(BATCH)?,
    ));
    drop(mock);

    // 3. Four processes, each keeping to the quota alone (the baseline),
    // then sharing one redis-server: 4 x 4,000 accounts each time.
    let (_redis, redis_url) = redis()?;
    for shared in [false, true] {
        let mock = Mock::start(tim)?;
        let started = Instant::now();
        let mut children = Vec::new();
        for p in 0..4 {
            let input = dir.join(format!("part{p}.jsonl"));
            write_lines(&input, (0..4_000).map(|i| format!("{{\"UserID\":\"four{p}-{i:05}\"}}")))?;
            let mut args = vec![IMPORT.to_owned(), "--input".into(), input.display().to_string()];
            if shared {
                args.extend(["--redis".to_owned(), redis_url.clone()]);
            }
            children.push(bulk(tim, &mock, &args).spawn().map_err(|e| e.to_string())?);
        }
        for c in children {
            let out = c.wait_with_output().map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!("tim bulk failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
        }
        let took = started.elapsed().as_secs_f64();
        let errors = mock.frequency_errors(IMPORT)?;
        if shared {
            rows.push(row(
                "4 processes sharing Redis, multiaccount_import at 10 calls/s",
                160.0 / took,
                import_quota,
                "calls",
                0.95,
                errors,
            ));
        } else {
            // Refused calls are retried, so the job ends; the errors are the point.
            rows.push(Row(vec![
                "8 quota".into(),
                "4 processes, each limiting itself alone (no Redis)".into(),
                format!("{:.1} calls/s, {errors} frequency errors", 160.0 / took),
                format!("{import_quota:.1} calls/s (the quota)"),
                format!("{:.3}", 160.0 / took / import_quota),
                "-".into(),
                "-".into(),
            ]));
        }
    }
    let mock = Mock::start(tim)?;

    // 4. kill -9 in the middle, then the same command again.
    let input = dir.join("resume.jsonl");
    let journal = dir.join("resume.journal");
    write_lines(&input, (0..10_000).map(|i| format!("{{\"UserID\":\"kill{i:06}\"}}")))?;
    let args = [
        IMPORT.to_owned(),
        "--input".into(),
        input.display().to_string(),
        "--journal".into(),
        journal.display().to_string(),
    ];
    let before = mock.accounts()?;
    let mut child = bulk(tim, &mock, &args).stderr(Stdio::null()).spawn().map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_secs(4));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let (ok, err) = finish_cmd(bulk(tim, &mock, &args))?;
    eprintln!("{}", err.trim());
    let imported = mock.accounts()? - before;
    let resent: usize = err
        .split(" in flight at the stop were sent again")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let pass = ok && imported == 10_000 && resent <= 4;
    rows.push(Row(vec![
        "8 quota".into(),
        "kill -9 after 4 s, then resumed (10,000 accounts, --concurrency 4)".into(),
        format!("{imported} of 10,000 imported, {resent} parts sent again"),
        "every account, at most the 4 parts in flight again".into(),
        format!("{:.3}", imported as f64 / 10_000.0),
        "1.000, <= 4 parts again".into(),
        if pass { "PASS" } else { "MISS" }.into(),
    ]));
    Ok(())
}
