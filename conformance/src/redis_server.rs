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
        // A port the OS hands out, released just before redis binds it.
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on port {port} within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
