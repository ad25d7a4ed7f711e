//! Tests your own service against the in-process emulator: the service
//! under test (here `welcome_new_user`, standing in for your backend code)
//! takes a `tim_runtime::Client`; the test points it at a `MockServer` and
//! asserts on the emulated app's state, with no network and no Tencent
//! account.
//!
//! ```text
//! cargo test -p tim-cli --example test_your_service
//! ```

use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::im_open_login_svc::account_import;
use tim_runtime::api::openim::sendmsg;
use tim_runtime::api::types::{MsgBodyElem, TIMTextElem};
use tim_runtime::Client;

/// Your backend's code: registers a user and greets them from the
/// `support` account.
async fn welcome_new_user(client: &Client, user: &str) -> Result<String, Box<dyn std::error::Error>> {
    client.call(&account_import::Request::new(user)).await?;
    let hello = vec![MsgBodyElem::Text(TIMTextElem::new().text(format!("Welcome, {user}!")))];
    let sent = client.call(&sendmsg::Request::new(user, 1, hello).from_account("support")).await?;
    Ok(sent.msg_key.unwrap_or_default())
}

async fn scenario() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start(MockConfig::new(1_400_000_000, "example-key", "administrator")).await?;
    let client = mock.client_builder().build()?;
    client.call(&account_import::Request::new("support")).await?;
    let key = welcome_new_user(&client, "carol").await?;
    // The emulated app's state is there to assert on.
    let unread = mock.world(|w| w.c2c.unread("carol", "support"));
    let stored = mock.world(|w| w.c2c.message("carol", "support", &key).is_some());
    println!("carol has {unread} unread message(s); the greeting is stored: {stored}");
    assert_eq!(unread, 1);
    assert!(stored);
    Ok(())
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    tokio::runtime::Runtime::new()?.block_on(scenario())
}

#[test]
fn the_welcome_message_arrives() {
    tokio::runtime::Runtime::new().unwrap().block_on(scenario()).unwrap();
}
