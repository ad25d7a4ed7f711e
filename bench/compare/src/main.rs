//! Bench 2: whole calls per second against a minimal loopback HTTP server,
//! and allocations per call.
//!
//! The server answers every request with the same fixed OK reply, so it costs
//! the same for every client and is not what is measured. Three clients send
//! the same requests to it, each with 1, 8 and 64 concurrent tasks:
//!
//! - `ours`: `tim_runtime::Client::call` with rate limiting off, on the
//!   default transport (hyper 1 with a pool of its own);
//! - `baseline`: a hand-written hyper-util pooled client + `serde_json` loop
//!   (the same HTTP stack as ours, sig signed once, reply envelope checked);
//! - `tencent_im_rs` 1.0.4, through its public `send` with a loopback URL, on
//!   the endpoints it has (one `TencentHelper` per task: `send` needs `&mut`;
//!   made before each round's clock starts, as a program would keep them).
//!
//! Rounds of the three alternate and each keeps its best round, so a burst of
//! load from elsewhere on the machine does not decide a ratio. Then a
//! counting global allocator gives allocations per call for ours on the
//! default transport, ours on the `reqwest` transport (the transport before
//! the hyper one) and the baseline; and the resident memory of 100k calls
//! through `ours` is checked for growth.
//!
//! Prints `@@bench|...` summary lines for `cargo xtask bench`.

mod alloc;
mod server;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::{Deserialize, Serialize};
use tim_runtime::api::group_open_http_svc::set_unread_msg_num;
use tim_runtime::api::openim::{admin_set_msg_read, c2c_msg_read_receipt};
use tim_runtime::{ApiRequest, Client, EndpointMeta, UserSigKey};

const APPID: u64 = 1_400_000_000;
const SECRET: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const ADMIN: &str = "administrator";
const CONCURRENCY: [usize; 3] = [1, 8, 64];

fn round_time() -> Duration {
    let ms = std::env::var("TIM_BENCH_ROUND_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(250);
    Duration::from_millis(ms)
}

/// `TIM_BENCH_TASKS=1,8` and `TIM_BENCH_ONLY=<endpoint>` narrow a run (for profiling).
fn concurrency() -> Vec<usize> {
    std::env::var("TIM_BENCH_TASKS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| CONCURRENCY.to_vec())
}

fn rounds() -> usize {
    std::env::var("TIM_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10)
}

/// The hand-written reply: envelope fields, checked for success.
#[derive(Deserialize)]
struct Reply {
    #[serde(rename = "ActionStatus")]
    action_status: String,
    #[serde(rename = "ErrorCode", default)]
    error_code: i64,
    #[serde(rename = "ErrorInfo", default)]
    error_info: String,
}

#[derive(Serialize, Deserialize)]
struct HandAdminSetMsgRead {
    #[serde(rename = "Report_Account")]
    report_account: String,
    #[serde(rename = "Peer_Account")]
    peer_account: String,
    #[serde(rename = "MsgReadTime", default, skip_serializing_if = "Option::is_none")]
    msg_read_time: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct HandC2cMsgInfo {
    #[serde(rename = "From_Account")]
    from_account: String,
    #[serde(rename = "To_Account")]
    to_account: String,
    #[serde(rename = "MsgKey")]
    msg_key: String,
}

#[derive(Serialize, Deserialize)]
struct HandC2cMsgReadReceipt {
    #[serde(rename = "Operator_Account")]
    operator_account: String,
    #[serde(rename = "Peer_Account")]
    peer_account: String,
    #[serde(rename = "C2CMsgInfo")]
    c2c_msg_info: Vec<HandC2cMsgInfo>,
}

#[derive(Serialize, Deserialize)]
struct HandSetUnreadMsgNum {
    #[serde(rename = "GroupId")]
    group_id: String,
    #[serde(rename = "Member_Account")]
    member_account: String,
    #[serde(rename = "UnreadMsgNum")]
    unread_msg_num: u32,
}

type Hyper = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

/// hyper-util's pooled client set up as our default transport sets it up
/// (keep-alive pool, `TCP_NODELAY`), without TLS since the server is plain http.
fn hyper_client() -> Hyper {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(http)
}

/// The hand-written client: what a careful hyper-util + `serde_json` user writes.
#[derive(Clone)]
struct Baseline {
    http: Hyper,
    base: String,
    sig: Arc<str>,
}

impl Baseline {
    async fn call<T: Serialize>(&self, path: &str, req: &T) -> Result<Reply, String> {
        let url = format!(
            "{}/{path}?sdkappid={APPID}&identifier={ADMIN}&usersig={}&random={}&contenttype=json",
            self.base,
            self.sig,
            fastrand::u32(..)
        );
        let body = serde_json::to_vec(req).map_err(|e| e.to_string())?;
        let req = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(Duration::from_secs(10), async {
            let resp = self.http.request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>((status, bytes))
        });
        let (status, bytes) = resp.await.map_err(|_| "timed out".to_owned())??;
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let reply: Reply = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if reply.error_code != 0 || reply.action_status != "OK" {
            return Err(format!("{} {}", reply.error_code, reply.error_info));
        }
        Ok(reply)
    }
}

/// Runs `tasks` concurrent loops until a deadline `time` from now; each loop
/// is made by `make(deadline)` and returns how many calls it completed.
/// Returns calls per second.
async fn timed<Fut>(tasks: usize, time: Duration, make: impl Fn(Instant) -> Fut) -> f64
where
    Fut: Future<Output = u64> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + time;
    let handles: Vec<_> = (0..tasks).map(|_| tokio::spawn(make(deadline))).collect();
    let mut total = 0;
    for h in handles {
        total += h.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn check<T, E: std::fmt::Display>(r: Result<T, E>) {
    if let Err(e) = r {
        panic!("call failed: {e}");
    }
}

type BoxF64 = std::pin::Pin<Box<dyn Future<Output = f64> + Send>>;

/// One endpoint as the three clients send it.
struct Case {
    name: &'static str,
    path: &'static str,
    /// Runs `tasks` tasks of our client for `time`.
    ours: fn(Client, usize, Duration) -> BoxF64,
    /// Runs `tasks` tasks of the hand-written client for `time`.
    baseline: fn(Baseline, &'static EndpointMeta, usize, Duration) -> BoxF64,
    meta: &'static EndpointMeta,
    has_tencent: bool,
}

fn ours_case<R>(client: Client, tasks: usize, time: Duration) -> BoxF64
where
    R: ApiRequest + for<'de> Deserialize<'de> + Send + Sync + 'static,
    R::Response: Send,
    R::Error: Send,
{
    let req: Arc<R> = Arc::new(serde_json::from_str(R::META.sample_request).expect("sample fits"));
    Box::pin(async move {
        timed(tasks, time, |deadline| {
            let (client, req) = (client.clone(), req.clone());
            async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    check(client.call(&*req).await);
                    n += 1;
                }
                n
            }
        })
        .await
    })
}

fn baseline_case<H>(b: Baseline, meta: &'static EndpointMeta, tasks: usize, time: Duration) -> BoxF64
where
    H: Serialize + for<'de> Deserialize<'de> + Send + Sync + 'static,
{
    let req: Arc<H> = Arc::new(serde_json::from_str(meta.sample_request).expect("sample fits"));
    Box::pin(async move {
        timed(tasks, time, |deadline| {
            let (b, req) = (b.clone(), req.clone());
            async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    check(b.call(meta.path, &*req).await);
                    n += 1;
                }
                n
            }
        })
        .await
    })
}

fn case<R, H>(name: &'static str, has_tencent: bool) -> Case
where
    R: ApiRequest + Serialize + for<'de> Deserialize<'de> + Send + Sync + 'static,
    R::Response: Send,
    R::Error: Send,
    H: Serialize + for<'de> Deserialize<'de> + Send + Sync + 'static,
{
    let ours: R = serde_json::from_str(R::META.sample_request).expect("sample fits");
    let hand: H = serde_json::from_str(R::META.sample_request).expect("sample fits");
    let same = serde_json::to_string(&ours).unwrap() == serde_json::to_string(&hand).unwrap();
    assert!(
        same,
        "{name}: both send the same request body: {} vs {}",
        serde_json::to_string(&ours).unwrap(),
        serde_json::to_string(&hand).unwrap()
    );
    Case {
        name,
        path: R::META.path,
        ours: ours_case::<R>,
        baseline: baseline_case::<H>,
        meta: R::META,
        has_tencent,
    }
}

/// `tencent_im_rs` on one endpoint: a helper per task, requests from the sample.
async fn tencent_run(case: &Case, addr: SocketAddr, sig: &str, tasks: usize, time: Duration) -> f64 {
    use tencent_im_rs::api::v4::group_open_http_svc::set_unread_msg_num::{
        SetUnreadMsgNumRequest, SetUnreadMsgNumResponse,
    };
    use tencent_im_rs::api::v4::open_im::admin_set_msg_read::{
        AdminSetMsgReadRequest, AdminSetMsgReadResponse,
    };
    use tencent_im_rs::api::v4::{send, TencentHelper};

    let path = case.path;
    let name = case.name;
    // Made before the clock starts: each holds a `reqwest::Client` whose
    // setup (OpenSSL loading the system roots) costs milliseconds, and a
    // real program would keep its helpers.
    let helpers: Vec<TencentHelper> = (0..tasks)
        .map(|_| TencentHelper::new(addr.to_string(), APPID as u32, ADMIN.into(), sig.into()))
        .collect();
    let helpers = std::sync::Mutex::new(helpers);
    timed(tasks, time, |deadline| {
        let mut h = helpers.lock().unwrap().pop().expect("one helper per task");
        let read = AdminSetMsgReadRequest::new("dramon1", "dramon2");
        let unread = SetUnreadMsgNumRequest::new("@TGS#2CLUZEAEJ", "bob", 5);
        async move {
            let mut n = 0;
            while Instant::now() < deadline {
                // Its own `make_url` hard-codes https://; the same URL, for loopback.
                let url = format!(
                    "http://{}/{path}?sdkappid={}&identifier={}&usersig={}&random={}&contenttype=json",
                    h.get_domain(),
                    h.get_sdk_app_id(),
                    h.get_identifier(),
                    h.get_user_sig(),
                    fastrand::u32(..)
                );
                match name {
                    "admin_set_msg_read" => {
                        check(send::<_, AdminSetMsgReadResponse>(&mut h, url, &read).await);
                    }
                    "set_unread_msg_num" => {
                        check(send::<_, SetUnreadMsgNumResponse>(&mut h, url, &unread).await);
                    }
                    other => unreachable!("tencent_im_rs has no {other}"),
                }
                n += 1;
            }
            n
        }
    })
    .await
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Sends `n` calls through `client` with 8 tasks.
async fn ours_calls(client: &Client, n: usize) {
    let req = Arc::new(admin_set_msg_read::Request::new("dramon1", "dramon2"));
    let tasks = 8;
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let (client, req) = (client.clone(), req.clone());
            let share = n / tasks + usize::from(i < n % tasks);
            tokio::spawn(async move {
                for _ in 0..share {
                    client.call(&*req).await.expect("call");
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
}

fn report(area: &str, what: &str, figure: &str, baseline: &str, ratio: f64, target: &str, pass: bool) {
    let verdict = if pass { "PASS" } else { "MISS" };
    println!("@@bench|{area}|{what}|{figure}|{baseline}|{ratio:.3}|{target}|{verdict}");
}

/// Allocations per call over `n` sequential calls on one task, after a warm-up
/// of the same calls; `call` makes one call.
async fn allocs_per_call<F, Fut>(n: u64, call: F) -> f64
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let task = tokio::spawn(async move {
        for _ in 0..n / 10 {
            call().await;
        }
        let before = alloc::count();
        for _ in 0..n {
            call().await;
        }
        (alloc::count() - before) as f64 / n as f64
    });
    task.await.expect("task")
}

fn main() {
    // The server's allocations are not the clients'.
    let addr = server::start();
    let base = format!("http://{addr}");
    // Client and server each get one core of the two.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let ours = Client::builder(APPID, ADMIN, SECRET).base_url(&base).rate_limit(false).build().unwrap();
    let sig: Arc<str> = UserSigKey::new(APPID, SECRET).gen(ADMIN, Duration::from_secs(86_400)).into();
    let baseline =
        Baseline { http: rt.block_on(async { hyper_client() }), base: base.clone(), sig: sig.clone() };
    let cases = [
        case::<admin_set_msg_read::Request, HandAdminSetMsgRead>("admin_set_msg_read", true),
        case::<c2c_msg_read_receipt::Request, HandC2cMsgReadReceipt>("c2c_msg_read_receipt", false),
        case::<set_unread_msg_num::Request, HandSetUnreadMsgNum>("set_unread_msg_num", true),
    ];
    let time = round_time();
    println!("whole calls: {} rounds of {time:?} per client and setting, best kept; server {addr}", rounds());
    println!(
        "{:<22} {:>5} {:>12} {:>12} {:>14} {:>7} {:>7}",
        "endpoint", "tasks", "ours/s", "hyper-util/s", "tencent_im_rs/s", "/base", "/tencent"
    );
    let only = std::env::var("TIM_BENCH_ONLY").ok();
    let skip_throughput = std::env::var("TIM_BENCH_ALLOCS_ONLY").is_ok();
    rt.block_on(async {
        // Warm up connections and caches.
        ours_calls(&ours, 200).await;
        let cases = cases.iter().filter(|c| !skip_throughput && only.as_deref().is_none_or(|o| o == c.name));
        for case in cases {
            for tasks in concurrency() {
                let (mut best_ours, mut best_base, mut best_tencent) = (0f64, 0f64, 0f64);
                for _ in 0..rounds() {
                    best_ours = best_ours.max((case.ours)(ours.clone(), tasks, time).await);
                    let rate = (case.baseline)(baseline.clone(), case.meta, tasks, time).await;
                    best_base = best_base.max(rate);
                    if case.has_tencent {
                        best_tencent = best_tencent.max(tencent_run(case, addr, &sig, tasks, time).await);
                    }
                }
                let vs_base = best_ours / best_base;
                let tencent = if case.has_tencent { format!("{best_tencent:.0}") } else { "-".into() };
                let vs_tencent = if case.has_tencent { format!("{:.2}", best_ours / best_tencent) } else { "-".into() };
                println!(
                    "{:<22} {tasks:>5} {best_ours:>12.0} {best_base:>12.0} {tencent:>14} {vs_base:>7.3} {vs_tencent:>7}",
                    case.name
                );
                let what = format!("{} ({tasks} tasks)", case.name);
                report(
                    "2 whole calls vs hyper-util",
                    &what,
                    &format!("{best_ours:.0} calls/s"),
                    &format!("{best_base:.0} calls/s"),
                    vs_base,
                    ">= 0.9",
                    vs_base >= 0.9,
                );
                if case.has_tencent {
                    let r = best_ours / best_tencent;
                    report(
                        "2 whole calls vs tencent_im_rs",
                        &what,
                        &format!("{best_ours:.0} calls/s"),
                        &format!("{best_tencent:.0} calls/s"),
                        r,
                        ">= 1.2",
                        r >= 1.2,
                    );
                }
            }
        }

        // Allocations per typed call: default transport, reqwest transport, baseline.
        let n = 20_000;
        let reqwest_client = Client::builder(APPID, ADMIN, SECRET)
            .base_url(&base)
            .rate_limit(false)
            .http_client(reqwest::Client::new())
            .build()
            .unwrap();
        let req = Arc::new(admin_set_msg_read::Request::new("dramon1", "dramon2"));
        let ours_hyper = {
            let (c, req) = (ours.clone(), req.clone());
            allocs_per_call(n, move || {
                let (c, req) = (c.clone(), req.clone());
                async move { check(c.call(&*req).await) }
            })
            .await
        };
        let ours_reqwest = {
            let (c, req) = (reqwest_client.clone(), req.clone());
            allocs_per_call(n, move || {
                let (c, req) = (c.clone(), req.clone());
                async move { check(c.call(&*req).await) }
            })
            .await
        };
        let hand = {
            let b = baseline.clone();
            let req = Arc::new(HandAdminSetMsgRead {
                report_account: "dramon1".into(),
                peer_account: "dramon2".into(),
                msg_read_time: None,
            });
            allocs_per_call(n, move || {
                let (b, req) = (b.clone(), req.clone());
                async move { check(b.call(admin_set_msg_read::Request::META.path, &*req).await) }
            })
            .await
        };
        println!(
            "allocations per call (admin_set_msg_read, 1 task): ours {ours_hyper:.1} (hyper transport), \
             {ours_reqwest:.1} (reqwest transport); hand-written hyper-util {hand:.1}"
        );
        report(
            "2 allocations",
            "per typed call, hyper transport vs reqwest transport (before)",
            &format!("{ours_hyper:.1}"),
            &format!("{ours_reqwest:.1}"),
            ours_hyper / ours_reqwest,
            "< 1",
            ours_hyper < ours_reqwest,
        );
        report(
            "2 allocations",
            "per typed call, ours vs hand-written hyper-util",
            &format!("{ours_hyper:.1}"),
            &format!("{hand:.1}"),
            ours_hyper / hand,
            "-",
            true,
        );

        if only.is_some() || skip_throughput {
            return; // a narrowed run (profiling) skips the memory check
        }
        // Memory: resident set before and after 100k calls, after a warm-up.
        ours_calls(&ours, 20_000).await;
        let before = rss_kib();
        ours_calls(&ours, 100_000).await;
        let after = rss_kib();
        let growth = after as i64 - before as i64;
        println!("memory: VmRSS {before} KiB before, {after} KiB after 100k calls ({growth:+} KiB)");
        report(
            "2 memory",
            "VmRSS growth over 100k calls (ours)",
            &format!("{growth:+} KiB"),
            &format!("{before} KiB"),
            after as f64 / before.max(1) as f64,
            "no growth (< 512 KiB)",
            growth < 512,
        );
    });
}
