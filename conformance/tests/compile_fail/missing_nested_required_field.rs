use tim_runtime::api::openim::c2c_msg_read_receipt::C2cMsgInfo;

fn main() {
    // MsgKey is required inside each C2CMsgInfo entry.
    let _ = C2cMsgInfo::new("user2", "user1");
}
