//! String setters and `new` arguments take anything `Into<String>`.
use tim_runtime::api::openim::sendmsg;
use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};

fn main() {
    let to = String::from("bob");
    let text = TIMTextElem::new().text(format!("hi {to}"));
    let _ = sendmsg::Request::new(&to, 7, vec![MsgBodyElem::Text(text)]).from_account("alice").cloud_custom_data(to.clone());
}
