use tim_runtime::api::openim::sendmsg;

fn main() {
    // Every required field must be named: `msg_body` is missing.
    let _ = sendmsg::Request::from(sendmsg::Required { to_account: "bob".into(), msg_random: 7 });
}
