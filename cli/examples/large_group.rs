//! Lists every member of a large group with the generated paginator: 1,200
//! members added in parts of 300 (the most one `add_group_member` takes),
//! then read back 200 per `get_group_member_info` call; the paginator
//! follows the spec's `Offset`/`Limit` cursor and stops at `MemberNum`.
//! Runs against the in-process emulator.
//!
//! ```text
//! cargo run -p tim-cli --example large_group
//! ```

use std::collections::BTreeSet;

use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::group_open_http_svc::{add_group_member, create_group, get_group_member_info};
use tim_runtime::api::im_open_login_svc::multiaccount_import;
use tim_runtime::api::types::GroupType;

const MEMBERS: usize = 1_200;
const PAGE: u32 = 200;

async fn run() -> Result<usize, Box<dyn std::error::Error>> {
    let mock = MockServer::start(MockConfig::new(1_400_000_000, "example-key", "administrator")).await?;
    let client = mock.client_builder().build()?;
    let users: Vec<String> = (0..MEMBERS).map(|i| format!("member{i:04}")).collect();
    for part in users.chunks(100) {
        client.call(&multiaccount_import::Request::new().accounts(part.iter().map(String::as_str))).await?;
    }
    let group = create_group::Request::new(GroupType::Public, "Readers").owner_account("member0000");
    let gid = client.call(&group).await?.group_id;
    for part in users[1..].chunks(300) {
        let members = part.iter().map(|u| add_group_member::NewMember::new(u.as_str()));
        client.call(&add_group_member::Request::new(gid.as_str(), members)).await?;
    }

    let mut seen = BTreeSet::new();
    let mut pages =
        client.paginate(get_group_member_info::Request::new(gid.as_str())).page_size(PAGE).pages();
    while let Some(page) = pages.next().await {
        let page = page?;
        let total = page.member_num.unwrap_or(0);
        seen.extend(page.member_list.unwrap_or_default().into_iter().map(|m| m.member_account));
        println!("page {}: {} of {total} members seen", pages.pages_received(), seen.len());
    }
    Ok(seen.len())
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = tokio::runtime::Runtime::new()?.block_on(run())?;
    println!("listed {n} members");
    Ok(())
}

#[test]
fn every_member_is_listed_once() {
    let n = tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    assert_eq!(n, MEMBERS);
}
