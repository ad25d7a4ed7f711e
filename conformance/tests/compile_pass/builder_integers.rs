//! Integer setters and `new` arguments take the field's own type, so plain
//! literals compile.
use tim_runtime::api::group_open_http_svc::get_group_member_info;
use tim_runtime::api::openim::admin_getroammsg;

fn main() {
    let _ = get_group_member_info::Request::new("@TGS#1").limit(100).offset(0);
    let _ = admin_getroammsg::Request::new("alice", "bob", 20, 0, 1_700_000_000);
}
