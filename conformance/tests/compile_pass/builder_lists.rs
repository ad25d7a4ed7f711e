//! List setters and `new` arguments take any iterable of items convertible
//! into the element type: arrays of `&str`, `Vec<&str>`, `Vec<String>`,
//! iterators.
use tim_runtime::api::group_open_http_svc::{delete_group_member, get_group_info};
use tim_runtime::api::openim::batchsendmsg;
use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};

fn main() {
    let _ = get_group_info::Request::new(["@TGS#1", "@TGS#2"]);
    let ids: Vec<&str> = vec!["alice", "bob"];
    let _ = delete_group_member::Request::new("@TGS#1", ids);
    let owned: Vec<String> = vec!["carol".to_owned()];
    let _ = delete_group_member::Request::new("@TGS#1", owned);
    let _ = delete_group_member::Request::new("@TGS#1", (0..3).map(|i| format!("user{i}")));
    let body = [MsgBodyElem::Text(TIMTextElem::new().text("hi"))];
    let _ = batchsendmsg::Request::new(["alice", "bob"], 1, body);
}
