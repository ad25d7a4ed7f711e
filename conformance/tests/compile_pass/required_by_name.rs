//! A request with several required fields can be built with each one named.
use tim_runtime::api::openim::sendmsg;
use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};

fn main() {
    let body = vec![MsgBodyElem::Text(TIMTextElem::new().text("hi"))];
    let named = sendmsg::Request::from(sendmsg::Required { to_account: "bob".into(), msg_random: 7, msg_body: body.clone() })
        .from_account("alice");
    assert_eq!(named, sendmsg::Request::new("bob", 7, body).from_account("alice"));
}
