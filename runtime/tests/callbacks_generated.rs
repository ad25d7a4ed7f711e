//! The receiver with the generated callback set, as a downstream app tests
//! its handler: signed requests from `tim_core::callback::testing`, no
//! Tencent and no server.
#![cfg(feature = "callbacks")]

use tim_runtime::api::callbacks::{c2c::before_send_msg, Callback};
use tim_runtime::callback::testing::{signed_raw_request_at, signed_request_at};
use tim_runtime::callback::{http, Bytes, CallbackReceiver, CallbackReply, CallbackVerifier};

const APP: u64 = 1_400_000_000;
const TOKEN: &str = "token-for-tests";
const NOW: u64 = 1_700_000_000;

async fn reply_to(req: http::Request<Bytes>) -> serde_json::Value {
    let receiver =
        CallbackReceiver::<Callback>::new(CallbackVerifier::new(APP, TOKEN).unwrap().clock(|| NOW));
    let resp = receiver
        .handle(req, |event| async move {
            match event.callback {
                Callback::C2cBeforeSendMsg(p) if p.from_account == "spammer" => {
                    before_send_msg::Reply::deny().into()
                }
                Callback::C2cBeforeSendMsg(_) => before_send_msg::Reply::allow().into(),
                _ => CallbackReply::ok(),
            }
        })
        .await;
    assert_eq!(resp.status(), 200);
    serde_json::from_slice(resp.body()).unwrap()
}

#[tokio::test]
async fn generated_set_decides_through_typed_replies() {
    let spam = before_send_msg::Payload::new("spammer", "bob");
    assert_eq!(reply_to(signed_request_at(&spam, APP, TOKEN, NOW)).await["ErrorCode"], 1);
    let fine = before_send_msg::Payload::new("alice", "bob");
    assert_eq!(reply_to(signed_request_at(&fine, APP, TOKEN, NOW)).await["ErrorCode"], 0);
    let unknown = signed_raw_request_at(APP, "Some.NewCallback", TOKEN, r#"{"X":1}"#, NOW);
    assert_eq!(reply_to(unknown).await["ErrorCode"], 0);
}
