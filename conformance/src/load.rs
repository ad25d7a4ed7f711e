//! A mixed workload of many concurrent clients against a mock server: the
//! load test and the emulator benchmark share it.
//!
//! Each client owns two accounts, a Public group and a friendship, so the
//! rules of the service explain every answer: with the rate limits off,
//! every call succeeds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tim_runtime::dynamic::{self, EndpointEntry};
use tim_runtime::{Client, Error};

use tim_emulator::MockServer;

/// What a run did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadReport {
    /// Calls made.
    pub calls: usize,
    /// Calls that failed, by path and `ErrorCode` (or the transport error).
    pub failures: BTreeMap<String, usize>,
    /// Wall time of the mixed phase (setup excluded).
    pub elapsed: Duration,
}

impl LoadReport {
    /// Calls per second of the mixed phase.
    pub fn throughput(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

fn text(t: &str) -> Value {
    json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": t}}])
}

fn entry(path: &str) -> Result<&'static EndpointEntry, String> {
    dynamic::find(tim_runtime::api::ENDPOINTS, path).ok_or_else(|| format!("{path} is not generated"))
}

/// Call `i` of client `c`'s mixed phase.
fn mixed_call(c: usize, i: usize) -> (&'static str, Value) {
    let (a, b, g) = (format!("load{c}a"), format!("load{c}b"), format!("load{c}"));
    match i % 10 {
        0 | 1 => (
            "v4/openim/sendmsg",
            json!({"From_Account": a, "To_Account": b, "MsgRandom": i, "MsgBody": text("load")}),
        ),
        2 => ("v4/openim/get_c2c_unread_msg_num", json!({"To_Account": b, "Peer_Account": [a]})),
        3 => ("v4/openim/admin_set_msg_read", json!({"Report_Account": b, "Peer_Account": a})),
        4 | 5 => (
            "v4/group_open_http_svc/send_group_msg",
            json!({"GroupId": g, "From_Account": a, "Random": i, "MsgBody": text("load")}),
        ),
        6 => (
            "v4/group_open_http_svc/set_unread_msg_num",
            json!({"GroupId": g, "Member_Account": b, "UnreadMsgNum": i % 4}),
        ),
        7 => ("v4/group_open_http_svc/get_group_info", json!({"GroupIdList": [g]})),
        8 => ("v4/profile/portrait_get", json!({"To_Account": [a, b], "TagList": ["Tag_Profile_IM_Nick"]})),
        _ => (
            "v4/sns/friend_check",
            json!({"From_Account": a, "To_Account": [b], "CheckType": "CheckResult_Type_Both"}),
        ),
    }
}

/// The calls that give client `c` its accounts, group and friendship.
fn setup_calls(c: usize) -> Vec<(&'static str, Value)> {
    let (a, b, g) = (format!("load{c}a"), format!("load{c}b"), format!("load{c}"));
    vec![
        ("v4/im_open_login_svc/account_import", json!({"UserID": a, "Nick": format!("A{c}")})),
        ("v4/im_open_login_svc/account_import", json!({"UserID": b, "Nick": format!("B{c}")})),
        (
            "v4/group_open_http_svc/create_group",
            json!({"Owner_Account": a, "Type": "Public", "GroupId": g, "Name": "load",
                   "MemberList": [{"Member_Account": b}]}),
        ),
        (
            "v4/sns/friend_add",
            json!({"From_Account": a, "AddFriendItem": [{"To_Account": b, "AddSource": "AddSource_Type_Load"}],
                   "AddType": "Add_Type_Both"}),
        ),
    ]
}

async fn call(
    client: &Client,
    path: &'static str,
    body: Value,
    report: &mut LoadReport,
) -> Result<(), String> {
    let entry = entry(path)?;
    report.calls += 1;
    if let Err(e) = (entry.call_json)(client, body).await {
        let key = match &e {
            Error::Api(api) => format!("{path}: {}", api.code),
            other => format!("{path}: {other}"),
        };
        *report.failures.entry(key).or_default() += 1;
    }
    Ok(())
}

/// Runs `total` mixed calls from `clients` concurrent clients (each with its
/// own connection pool, no throttling of its own, one attempt per call)
/// against `server`, after their setup calls.
pub async fn run(server: &MockServer, clients: usize, total: usize) -> Result<LoadReport, String> {
    let clients = clients.max(1);
    let make_client = || {
        server
            .client_builder()
            .rate_limit(false)
            .max_attempts(1)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())
    };
    let mut setup = LoadReport::default();
    let mut handles = Vec::new();
    for c in 0..clients {
        let client = make_client()?;
        for (path, body) in setup_calls(c) {
            call(&client, path, body, &mut setup).await?;
        }
        // Client c makes every `clients`-th call of the total.
        let mine = (c..total).step_by(clients).count();
        handles.push((client, mine));
    }
    let start = Instant::now();
    let tasks: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(c, (client, mine))| {
            tokio::spawn(async move {
                let mut report = LoadReport::default();
                for i in 0..mine {
                    let (path, body) = mixed_call(c, i);
                    call(&client, path, body, &mut report).await?;
                }
                Ok::<_, String>(report)
            })
        })
        .collect();
    let mut report = LoadReport { failures: setup.failures, ..LoadReport::default() };
    for task in tasks {
        let part = task.await.map_err(|e| format!("a client task failed: {e}"))??;
        report.calls += part.calls;
        for (k, n) in part.failures {
            *report.failures.entry(k).or_default() += n;
        }
    }
    report.elapsed = start.elapsed();
    Ok(report)
}
