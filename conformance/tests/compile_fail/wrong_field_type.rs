use tim_runtime::api::group_open_http_svc::set_unread_msg_num;

fn main() {
    // UnreadMsgNum is an integer.
    let _ = set_unread_msg_num::Request::new("@TGS#1", "bob", "five");
}
