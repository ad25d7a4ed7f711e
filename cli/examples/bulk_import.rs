//! Imports 1,000 accounts with nicknames in parts of 100 (the most one
//! `multiaccount_import` call takes), keeping the client within the
//! endpoint's documented rate limit, then checks them with `account_check`
//! and reports any that failed. Runs against the in-process emulator.
//!
//! ```text
//! cargo run -p tim-cli --example bulk_import
//! ```

use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::im_open_login_svc::{account_check, multiaccount_import};

const ACCOUNTS: usize = 1_000;

async fn run() -> Result<(usize, Vec<String>), Box<dyn std::error::Error>> {
    let mock = MockServer::start(MockConfig::new(1_400_000_000, "example-key", "administrator")).await?;
    // The client paces itself to the documented 100 calls/s of the endpoint.
    let client = mock.client_builder().build()?;
    let users: Vec<(String, String)> =
        (0..ACCOUNTS).map(|i| (format!("user{i:04}"), format!("User {i}"))).collect();
    let mut failed = Vec::new();
    for part in users.chunks(100) {
        let list = part
            .iter()
            .map(|(id, nick)| multiaccount_import::ImportedAccount::new(id.as_str()).nick(nick.as_str()));
        let reply = client.call(&multiaccount_import::Request::new().account_list(list)).await?;
        failed.extend(reply.fail_accounts.unwrap_or_default());
    }
    let mut imported = 0;
    for part in users.chunks(100) {
        let items = part.iter().map(|(id, _)| account_check::CheckItem::new(id.as_str()));
        let reply = client.call(&account_check::Request::new(items)).await?;
        imported += reply
            .result_item
            .unwrap_or_default()
            .iter()
            .filter(|r| r.account_status.as_ref().is_some_and(|s| s.as_str() == "Imported"))
            .count();
    }
    Ok((imported, failed))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (imported, failed) = tokio::runtime::Runtime::new()?.block_on(run())?;
    println!("{imported} accounts imported; failed: {failed:?}");
    Ok(())
}

#[test]
fn every_account_is_imported() {
    let (imported, failed) = tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    assert_eq!((imported, failed.len()), (ACCOUNTS, 0));
}
