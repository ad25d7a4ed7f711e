//! Bench 1: encode + decode per call for each seed endpoint, no network.
//!
//! "ours" is exactly what `Client::call` does around the network: validate and
//! serialize the generated request, then check the reply envelope and decode
//! the typed response. The baseline is the same work written by hand with
//! plain `serde_json`: a request struct, and one reply struct holding the
//! envelope fields, checked for success.

#[path = "../../core/benches/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::Criterion;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tim_runtime::api::group_open_http_svc::set_unread_msg_num;
use tim_runtime::api::openim::{admin_set_msg_read, c2c_msg_read_receipt};
use tim_runtime::bench_support::{decode, encode};
use tim_runtime::ApiRequest;

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

fn hand_decode(body: &[u8]) -> Result<Reply, String> {
    let r: Reply = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if r.error_code != 0 || r.action_status != "OK" {
        return Err(format!("{} {}", r.error_code, r.error_info));
    }
    Ok(r)
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

/// Benches one endpoint on its documented sample request and reply; both
/// sides start from the same request value and must send identical bytes.
fn endpoint<R, H>(c: &mut Criterion, name: &str) -> (f64, f64)
where
    R: ApiRequest + DeserializeOwned,
    H: Serialize + DeserializeOwned,
{
    let meta = R::META;
    let req: R = serde_json::from_str(meta.sample_request).expect("sample request fits the generated type");
    let hand: H =
        serde_json::from_str(meta.sample_request).expect("sample request fits the hand-written type");
    let reply = meta.sample_response.as_bytes();
    assert_eq!(encode(&req).unwrap(), serde_json::to_vec(&hand).unwrap(), "{name}: same request bytes");
    decode::<R>(200, reply).expect("sample reply decodes");
    hand_decode(reply).expect("sample reply decodes by hand");

    let mut g = c.benchmark_group(format!("codec_{name}"));
    g.bench_function("ours", |b| {
        b.iter(|| {
            let body = encode(black_box(&req)).unwrap();
            let resp = decode::<R>(200, black_box(reply)).unwrap();
            black_box((body, resp))
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            let body = serde_json::to_vec(black_box(&hand)).unwrap();
            let resp = hand_decode(black_box(reply)).unwrap();
            black_box((body, resp))
        })
    });
    g.finish();
    let secs = if common::measuring() { 1.5 } else { 0.01 };
    common::paired_ns(
        || {
            let body = encode(black_box(&req)).unwrap();
            black_box((body, decode::<R>(200, black_box(reply)).unwrap()));
        },
        || {
            let body = serde_json::to_vec(black_box(&hand)).unwrap();
            black_box((body, hand_decode(black_box(reply)).unwrap()));
        },
        secs,
    )
}

const SEEDS: [&str; 3] = ["admin_set_msg_read", "c2c_msg_read_receipt", "set_unread_msg_num"];

fn main() {
    let mut c = common::criterion();
    let results = [
        endpoint::<admin_set_msg_read::Request, HandAdminSetMsgRead>(&mut c, SEEDS[0]),
        endpoint::<c2c_msg_read_receipt::Request, HandC2cMsgReadReceipt>(&mut c, SEEDS[1]),
        endpoint::<set_unread_msg_num::Request, HandSetUnreadMsgNum>(&mut c, SEEDS[2]),
    ];
    c.final_summary();
    if !common::measuring() {
        return;
    }
    for (name, (ours, base)) in SEEDS.into_iter().zip(results) {
        let ratio = ours / base;
        common::report(
            "1 encode+decode",
            name,
            &common::fmt_ns(ours),
            &common::fmt_ns(base),
            ratio,
            "ratio <= 1.05",
            ratio <= 1.05,
        );
    }
}
