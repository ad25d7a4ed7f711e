use tim_runtime::api::openim::admin_set_msg_read;

fn read(resp: admin_set_msg_read::Response) {
    // The response of this endpoint has no fields besides the envelope.
    let _ = resp.unread_count;
}

fn main() {}
