//! Calls three endpoints through the typed API and handles typed errors.
//!
//! With `TIM_SDKAPPID`, `TIM_IDENTIFIER`, `TIM_SECRET_KEY` (and `TIM_REGION` or
//! `TIM_BASE_URL`) set it talks to the real service; otherwise it starts the
//! spec-driven mock server in-process with a built-in demo key.
//!
//! ```text
//! cargo run -p tim-cli --example demo
//! ```

use std::process::ExitCode;

use tim_conformance::{MockConfig, MockServer};
use tim_runtime::api::errors::Public;
use tim_runtime::api::group_open_http_svc::set_unread_msg_num;
use tim_runtime::api::openim::{admin_set_msg_read, c2c_msg_read_receipt};
use tim_runtime::{ApiErrorKind, Client, Error};

/// Demo app the in-process mock accepts; the key is public and not a secret.
const DEMO_SDKAPPID: u64 = 1_400_000_000;
const DEMO_ADMIN: &str = "administrator";
const DEMO_SECRET_KEY: &str = "tim-mock-demo-secret-key-0123456789abcdef";

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the mock alive for the whole demo; it stops when dropped.
    let (client, _mock) = match Client::from_env()? {
        Some(builder) => {
            let client = builder.build()?;
            println!("using the real service at {}", client.base_url());
            (client, None)
        }
        None => {
            let mock = MockServer::start(MockConfig::new(DEMO_SDKAPPID, DEMO_SECRET_KEY, DEMO_ADMIN)).await?;
            println!("TIM_* not set; using the in-process mock at {}", mock.base_url());
            let client = Client::builder(DEMO_SDKAPPID, DEMO_ADMIN, DEMO_SECRET_KEY)
                .base_url(&mock.base_url())
                .build()?;
            (client, Some(mock))
        }
    };

    // 1. Mark dramon1's conversation with dramon2 as read.
    let req = admin_set_msg_read::Request::new("dramon1", "dramon2");
    match client.call(&req).await {
        Ok(resp) => println!("admin_set_msg_read: ok {resp:?}"),
        Err(e) => println!("admin_set_msg_read: failed: {e}"),
    }

    // 2. dramon2 sends a read receipt for a message dramon1 sent them.
    let info = c2c_msg_read_receipt::C2cMsgInfo::new("dramon1", "dramon2", "1467329515_5675354_1708676941");
    let req = c2c_msg_read_receipt::Request::new("dramon2", "dramon1", vec![info]);
    match client.call(&req).await {
        Ok(resp) => println!("c2c_msg_read_receipt: ok {resp:?}"),
        Err(e) => println!("c2c_msg_read_receipt: failed: {e}"),
    }

    // 3. Set dramon1's unread count in a group to 5.
    let req = set_unread_msg_num::Request::new("@TGS#2CLUZEAEJ", "dramon1", 5u32);
    match client.call(&req).await {
        Ok(resp) => println!("set_unread_msg_num: ok {resp:?}"),
        Err(e) => println!("set_unread_msg_num: failed: {e}"),
    }

    // 4. A typed API error: the same app signing with the wrong secret key.
    //    The server (or mock) verifies the UserSig and refuses it.
    let wrong_key = Client::builder(client.sdkappid(), client.identifier(), "not-the-app-secret-key")
        .base_url(client.base_url())
        .build()?;
    match wrong_key.call(&admin_set_msg_read::Request::new("dramon1", "dramon2")).await {
        Err(Error::Api(admin_set_msg_read::Error::Public(Public::UserSigWrongKey(info)))) => {
            println!("wrong key: rejected as UserSigWrongKey (70009): {info}");
        }
        Err(Error::Api(e)) => {
            let meaning = e.meta().map_or("undocumented code", |m| m.meaning);
            println!("wrong key: API error {}: {} ({meaning})", e.code(), e.info());
        }
        Err(other) => println!("wrong key: failed before an API answer: {other}"),
        Ok(_) => println!("wrong key: unexpectedly accepted"),
    }

    // 5. A body rejected locally, before anything is sent: calls by path
    //    (as the `tim` CLI makes them) go through the generated request type.
    let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, "v4/openim/c2c_msg_read_receipt")
        .ok_or("endpoint missing from the generated table")?;
    let body = br#"{"Operator_Account":"dramon2","Peer_Account":"dramon1",
                    "C2CMsgInfo":[{"From_Account":"dramon1","To_Account":"dramon2"}]}"#;
    match (entry.parse_request)(body) {
        Err(e) => println!("local check: field `{}` rejected: {}", e.path, e.reason),
        Ok(v) => println!("local check: unexpectedly accepted {v}"),
    }
    Ok(())
}
