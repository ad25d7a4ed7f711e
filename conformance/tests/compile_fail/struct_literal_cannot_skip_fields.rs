use tim_runtime::api::openim::admin_set_msg_read;

fn main() {
    // Non-exhaustive: a struct literal outside the crate is refused, so a
    // required field cannot be left out this way either.
    let _ = admin_set_msg_read::Request { report_account: "a".into(), peer_account: "b".into(), msg_read_time: None };
}
