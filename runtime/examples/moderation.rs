//! Refuses one-to-one messages that contain a banned word; everything else
//! is allowed. Run with `TIM_SDKAPPID` and `TIM_CALLBACK_TOKEN` set, then
//! point the console's callback URL at this server.

use tim_runtime::api::callbacks::{c2c::before_send_msg::Reply, Callback};
use tim_runtime::api::types::MsgBodyElem;
use tim_runtime::callback::{CallbackEvent, CallbackReceiver, CallbackReply, CallbackVerifier};

async fn moderate(event: CallbackEvent<Callback>) -> CallbackReply {
    let Callback::C2cBeforeSendMsg(msg) = event.callback else { return CallbackReply::ok() };
    let banned = msg.msg_body.iter().flatten().any(|elem| match elem {
        MsgBodyElem::Text(t) => t.text.as_deref().is_some_and(|text| text.contains("forbidden")),
        _ => false,
    });
    if banned { Reply::deny() } else { Reply::allow() }.into()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sdkappid = std::env::var("TIM_SDKAPPID")?.parse()?;
    let verifier = CallbackVerifier::new(sdkappid, std::env::var("TIM_CALLBACK_TOKEN")?)?;
    let app = tim_runtime::callback_axum::router(CallbackReceiver::new(verifier), moderate);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
