//! A real `redis-server` for the tests and benchmarks that share rate-limit
//! budgets through Redis: started from `PATH` on 127.0.0.1 with a port the
//! OS picked, no persistence, stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` (CI does) to make a missing `redis-server` a failure instead of a skip.
pub const REQUIRE_VAR: &str = "TIM_REQUIRE_REDIS";

/// A running `redis-server`, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts one; `None` when `redis-server` is not installed, unless
    /// [`REQUIRE_VAR`] is set, in which case that panics.
    pub fn start() -> Option<Self> {
        let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
        let found = Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok();
        if !found {
            assert!(
                !required,
                "redis-server not found on PATH and {REQUIRE_VAR}=1 (install Debian's redis-server)"
            );
            eprintln!("redis-server not found on PATH: skipping (CI installs it and sets {REQUIRE_VAR}=1)");
            return None;
        }
        // A port the OS hands out, released just before redis binds it; if
        // another process takes it first, redis exits and another is tried.
        for _ in 0..10 {
            let port =
                TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).ok()?;
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let mut server = RedisServer { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if server.child.try_wait().ok().flatten().is_some() {
                    break; // exited: the port was taken
                }
                // Listening, and it is ours (the server says our child's pid).
                match pid_on(port) {
                    Some(pid) if pid == server.child.id() => return Some(server),
                    Some(_) => break, // another server holds the port
                    None => {}
                }
                assert!(Instant::now() < deadline, "redis-server did not listen on port {port} within 10 s");
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = server.child.wait();
        }
        panic!("redis-server could not bind a free port in 10 tries");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

/// The process id of the Redis server on `port` (`INFO server`), if one answers.
fn pid_on(port: u16) -> Option<u32> {
    use std::io::{Read as _, Write as _};
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n").ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&reply).contains("process_id:") || !reply.ends_with(b"\r\n") {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    let line = text.lines().find_map(|l| l.strip_prefix("process_id:"))?;
    line.trim().parse().ok()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
