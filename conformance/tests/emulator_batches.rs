//! Batches of any size against the emulator: the client splits a list into
//! parts its endpoint takes, sends them within the rate limit and reports
//! every item, succeeded or failed with its code; a part that fails as a
//! whole fails all its items, and an item the local checks refuse fails
//! alone.

use std::collections::BTreeSet;
use std::time::Duration;

use tim_emulator::{Fault, MockConfig, MockServer};
use tim_runtime::api::group_open_http_svc::{add_group_member, create_group};
use tim_runtime::api::im_open_login_svc::multiaccount_import;
use tim_runtime::api::openim::batchsendmsg;
use tim_runtime::api::types::{GroupType, MsgBodyElem, TIMTextElem};
use tim_runtime::{Batched, Client, RateLimit};

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";
const BATCH_PATH: &str = "v4/openim/batchsendmsg";

async fn setup() -> (MockServer, Client) {
    // A paid quota of 60,000 recipients a minute, known to both sides.
    let quota = RateLimit::per_minute(60_000);
    let server =
        MockServer::start(MockConfig::new(APPID, KEY, ADMIN).limit(BATCH_PATH, quota)).await.unwrap();
    let client =
        server.client_builder().timeout(Duration::from_secs(10)).limit(BATCH_PATH, quota).build().unwrap();
    (server, client)
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}

async fn import(
    client: &Client,
    ids: &[String],
) -> tim_runtime::BatchReport<multiaccount_import::ImportedAccount> {
    let accounts = ids.iter().map(|id| multiaccount_import::ImportedAccount::new(id.as_str()));
    client.batch(multiaccount_import::Request::new().account_list(accounts)).send().await
}

#[tokio::test]
async fn imports_of_any_size_report_every_account() {
    let (server, client) = setup().await;
    let mut users = ids("u", 1234);
    // Three UserIDs longer than the documented 32 bytes: refused alone, locally.
    for i in [5, 600, 1200] {
        users[i] = format!("{}-{}", "x".repeat(40), i);
    }
    let report = import(&client, &users).await;
    assert_eq!(report.succeeded.len(), 1231);
    assert_eq!(report.failed.len(), 3);
    assert!(report
        .failed
        .iter()
        .all(|f| f.code.is_none() && f.info.contains("AccountList[") && f.info.contains("UserID")));
    assert!(report.failed[1].info.contains("AccountList[600].UserID"), "{}", report.failed[1].info);
    // 1,231 accounts by parts of 100 (the field's max_len).
    assert_eq!((report.parts, report.parts_failed), (13, 0));
    let stored = server.world(|w| w.accounts.accounts.len());
    assert!(stored >= 1231, "{stored}");
    let sent: BTreeSet<String> = report.succeeded.iter().map(|a| a.user_id.clone()).collect();
    assert_eq!(sent.len(), 1231);
}

#[tokio::test]
async fn a_campaign_reports_unknown_recipients_and_failed_parts() {
    let (server, client) = setup().await;
    let known = ids("r", 1150);
    import(&client, &known).await;
    let mut recipients = known.clone();
    recipients.extend(ids("ghost", 50));
    let body = vec![MsgBodyElem::Text(TIMTextElem::new().text("sale"))];
    let req = batchsendmsg::Request::new(recipients.clone(), 7, body.clone()).from_account("r00000");
    // Parts of 500 recipients: 3 calls.
    assert_eq!(client.batch_part_size::<batchsendmsg::Request>(), 500);
    let report = client.batch(req).send().await;
    assert_eq!(report.parts, 3);
    assert_eq!(report.succeeded.len(), 1150);
    let ghosts: BTreeSet<&str> = report.failed.iter().map(|f| f.item.as_str()).collect();
    assert_eq!(ghosts, ids("ghost", 50).iter().map(String::as_str).collect());
    assert!(report.failed.iter().all(|f| f.code == Some(70107)), "{:?}", report.failed[0]);

    // A part refused as a whole fails every item of it, with the code.
    server.push_fault(Fault::ErrorCode(90001, "json format error".into()));
    let req = batchsendmsg::Request::new(known.clone(), 8, body).from_account("r00000");
    let report = client.batch(req).concurrency(1).send().await;
    assert_eq!((report.parts, report.parts_failed), (3, 1));
    assert_eq!(report.failed.len(), 500);
    assert!(report.failed.iter().all(|f| f.code == Some(90001)));
    assert_eq!(report.succeeded.len() + report.failed.len(), 1150);
}

#[tokio::test]
async fn a_limit_counting_the_list_makes_parts_smaller() {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    let client = server.client_builder().limit(BATCH_PATH, RateLimit::per_minute(300)).build().unwrap();
    // 300 recipients a minute can never admit a part of 500.
    assert_eq!(client.batch_part_size::<batchsendmsg::Request>(), 300);
    assert_eq!(batchsendmsg::Request::BATCH.max, 500);
}

#[tokio::test]
async fn members_already_in_count_as_done_and_unknown_ones_fail() {
    let (_server, client) = setup().await;
    let users = ids("m", 700);
    import(&client, &users).await;
    let group = create_group::Request::new(GroupType::Public, "big").owner_account("m00000").group_id("big");
    client.call(&group).await.unwrap();
    let first = users[1..101].iter().map(|u| add_group_member::NewMember::new(u.as_str()));
    client.batch(add_group_member::Request::new("big", first)).send().await;
    let mut all: Vec<String> = users[1..].to_vec();
    all.extend(ids("nobody", 10));
    let members = all.iter().map(|u| add_group_member::NewMember::new(u.as_str()));
    let report = client.batch(add_group_member::Request::new("big", members)).send().await;
    // 699 members by parts of 300; the first 100 were in already (Result 2: done).
    assert_eq!(report.parts, 3);
    assert_eq!(report.succeeded.len(), 699);
    let failed: BTreeSet<&str> = report.failed.iter().map(|f| f.item.member_account.as_str()).collect();
    assert_eq!(failed, ids("nobody", 10).iter().map(String::as_str).collect());
}
