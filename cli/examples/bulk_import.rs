//! Imports 1,000 accounts with nicknames as one batch: `client.batch(..)`
//! splits the list into parts of 100 (the most one `multiaccount_import`
//! call takes, from its spec), sends them within the endpoint's documented
//! rate limit and reports every account that failed, with its code; then
//! checks them with `account_check`, page by page the same way. Runs
//! against the in-process emulator.
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
    let accounts = users
        .iter()
        .map(|(id, nick)| multiaccount_import::ImportedAccount::new(id.as_str()).nick(nick.as_str()));
    let report = client.batch(multiaccount_import::Request::new().account_list(accounts)).send().await;
    println!("{} imported in {} calls, {} failed", report.succeeded.len(), report.parts, report.failed.len());
    let failed: Vec<String> =
        report.failed.iter().map(|f| format!("{}: {:?} {}", f.item.user_id, f.code, f.info)).collect();

    // Checking reads the reply of each part: `account_check` is called per part of 100.
    let mut imported = 0;
    for part in users.chunks(client.batch_part_size::<account_check::Request>()) {
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
