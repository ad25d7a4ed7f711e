//! Walks the read-receipt family through the typed API against a stateful
//! service: messages raise unread counts, reads and receipts clear them, and
//! a group's unread count follows the documented rules; then typed errors.
//!
//! With `TIM_SDKAPPID`, `TIM_IDENTIFIER`, `TIM_SECRET_KEY` (and `TIM_REGION` or
//! `TIM_BASE_URL`) set it talks to the real service; otherwise it starts the
//! emulator in-process with a built-in demo key.
//!
//! ```text
//! cargo run -p tim-cli --example demo
//! ```

use std::process::ExitCode;

use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::errors::Public;
use tim_runtime::api::group_open_http_svc::{
    create_group, get_group_member_info, send_group_msg, set_unread_msg_num,
};
use tim_runtime::api::im_open_login_svc::account_import;
use tim_runtime::api::openim::{
    admin_getroammsg, admin_set_msg_read, c2c_msg_read_receipt, get_c2c_unread_msg_num, sendmsg,
};
use tim_runtime::api::types::{GroupType, MsgBody, MsgBodyElem, TIMTextElem};
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

fn text(t: &str) -> MsgBody {
    vec![MsgBodyElem::Text(TIMTextElem::new().text(t))]
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

    // 1. Two accounts; dramon1 sends dramon2 three messages.
    println!("\n== 1. dramon1 sends dramon2 three messages");
    for user in ["dramon1", "dramon2"] {
        client.call(&account_import::Request::new(user)).await?;
    }
    let mut keys = Vec::new();
    for (i, word) in ["hello", "are you there?", "call me"].into_iter().enumerate() {
        let req = sendmsg::Request::new("dramon2", i as u32, text(word)).from_account("dramon1");
        keys.push(client.call(&req).await?.msg_key.unwrap_or_default());
    }
    let unread = client.call(&get_c2c_unread_msg_num::Request::new("dramon2")).await?;
    println!("dramon2 has {} unread messages", unread.all_c2c_unread_msg_num.unwrap_or(0));

    // 2. dramon2 reads the conversation and sends a read receipt for the
    //    first message, which dramon1's history then shows as read.
    println!("\n== 2. dramon2 reads the conversation and sends a read receipt for the first message");
    client.call(&admin_set_msg_read::Request::new("dramon2", "dramon1")).await?;
    let unread = client.call(&get_c2c_unread_msg_num::Request::new("dramon2")).await?;
    println!("after admin_set_msg_read: {} unread", unread.all_c2c_unread_msg_num.unwrap_or(0));
    let info = c2c_msg_read_receipt::C2cMsgInfo::new("dramon1", "dramon2", keys[0].clone());
    client.call(&c2c_msg_read_receipt::Request::new("dramon2", "dramon1", vec![info])).await?;
    let history = client
        .call(&admin_getroammsg::Request::new("dramon1", "dramon2", 10u32, 0u64, u64::from(u32::MAX)))
        .await?;
    for m in history.msg_list.unwrap_or_default() {
        let read = if m.is_peer_read == Some(1) { "yes" } else { "no" };
        println!("  message {}: read by dramon2: {read}", m.msg_key.unwrap_or_default());
    }

    // 3. A group with two messages; dramon2's unread count set to 5 is
    //    lowered to the group's 2 messages, as the service does.
    println!("\n== 3. a group: two messages, then dramon2's unread count set to 5 (lowered to 2)");
    let group = create_group::Request::new(GroupType::Public, "demo")
        .owner_account("dramon1")
        .member_list(vec![create_group::InitialMember::new("dramon2")]);
    let group_id = client.call(&group).await?.group_id;
    for i in 0..2u32 {
        let req =
            send_group_msg::Request::new(group_id.as_str(), i, text("group news")).from_account("dramon1");
        let sent = client.call(&req).await?;
        println!("group message sent as MsgSeq {}", sent.msg_seq.unwrap_or(0));
    }
    client.call(&set_unread_msg_num::Request::new(group_id.as_str(), "dramon2", 5u32)).await?;
    let members = client.call(&get_group_member_info::Request::new(group_id.as_str())).await?;
    for m in members.member_list.unwrap_or_default() {
        println!("  member {} has read up to MsgSeq {}", m.member_account, m.msg_seq.unwrap_or(0));
    }

    // 4. A typed API error: the same app signing with the wrong secret key.
    //    The server (or mock) verifies the UserSig and refuses it.
    println!("\n== 4. a typed API error: signing with the wrong secret key");
    let wrong_key = Client::builder(client.sdkappid(), client.identifier(), "not-the-app-secret-key")
        .base_url(client.base_url())
        .build()?;
    match wrong_key.call(&admin_set_msg_read::Request::new("dramon2", "dramon1")).await {
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
    println!("\n== 5. a body refused locally; nothing is sent");
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
