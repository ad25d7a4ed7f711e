use tim_runtime::api::openim::admin_set_msg_read;

fn main() {
    // Peer_Account is required: the constructor takes it.
    let _ = admin_set_msg_read::Request::new("dramon1");
}
