//! Every paginated endpoint, listed through its generated paginator against
//! the emulator holding more items than a page: each item comes exactly once,
//! none is missed, and the listing ends by itself.
//!
//! The listings go through `EndpointEntry::paginate` (what `tim call
//! --paginate` uses, driving the typed `Paginated` impl); a few also through
//! the typed `client.paginate(req)`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use tim_emulator::{MockConfig, MockServer};
use tim_runtime::api::group_open_http_svc::get_group_member_info;
use tim_runtime::api::sns::friend_get;
use tim_runtime::api::ENDPOINTS;
use tim_runtime::dynamic::{self, PageOptions};
use tim_runtime::Client;

const APPID: u64 = 1_400_000_001;
const KEY: &str = "conformance-secret";
const ADMIN: &str = "administrator";

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start(MockConfig::new(APPID, KEY, ADMIN)).await.unwrap();
    // The emulator enforces the documented limits, and the client keeps to them.
    let client = server.client_builder().timeout(Duration::from_secs(10)).build().unwrap();
    (server, client)
}

async fn call(client: &Client, path: &str, body: Value) -> Value {
    let entry = dynamic::find(ENDPOINTS, path).unwrap_or_else(|| panic!("no endpoint {path}"));
    (entry.call_json)(client, body.clone()).await.unwrap_or_else(|e| panic!("{path} {body}: {e}"))
}

/// Every item of a listing from `first`, with at most `page_size` per page.
async fn list(client: &Client, path: &str, first: Value, page_size: Option<u32>) -> Vec<Value> {
    let entry = dynamic::find(ENDPOINTS, path).unwrap();
    let body = serde_json::to_vec(&first).unwrap();
    let mut items = entry
        .paginate(client, &body, PageOptions::new().page_size(page_size))
        .unwrap_or_else(|| panic!("{path} does not page"))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    while let Some(item) = items.next().await {
        out.push(item.unwrap_or_else(|e| panic!("{path}: {e}")));
        assert!(out.len() < 100_000, "{path}: the listing does not end");
    }
    out
}

/// The items' `key` values, checked unique and equal to `expected`.
fn assert_exactly(path: &str, items: &[Value], key: &str, expected: &BTreeSet<String>) {
    let mut seen = BTreeSet::new();
    for item in items {
        let v = match &item[key] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("{path}: item without `{key}`: {other} in {item}"),
        };
        assert!(seen.insert(v.clone()), "{path}: `{v}` listed twice");
    }
    let missing: Vec<_> = expected.difference(&seen).take(5).collect();
    let extra: Vec<_> = seen.difference(expected).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{path}: missing {missing:?}, unexpected {extra:?}");
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

async fn import_accounts(client: &Client, accounts: &[String]) {
    for chunk in accounts.chunks(100) {
        call(client, "v4/im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await;
    }
}

fn text(t: &str) -> Value {
    json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": t}}])
}

#[tokio::test]
async fn every_paginated_endpoint_is_covered_here() {
    // This file lists each one; a new paginated spec must be added below.
    let covered = [
        "v4/follow/follow_get",
        "v4/group_open_avchatroom_http_svc/get_members",
        "v4/group_open_http_svc/get_appid_group_list",
        "v4/group_open_http_svc/get_group_ban_member",
        "v4/group_open_http_svc/get_group_member_info",
        "v4/group_open_http_svc/get_group_msg_receipt_detail",
        "v4/group_open_http_svc/get_joined_group_list",
        "v4/group_open_http_svc/get_permission_group",
        "v4/group_open_http_svc/get_permission_group_member_list",
        "v4/group_open_http_svc/group_msg_get_simple",
        "v4/im_msg_audit_mgr/get_cloud_audit_keywords",
        "v4/im_msg_audit_mgr/get_cloud_audit_keywords_ids",
        "v4/im_msg_audit_mgr/get_local_audit_keywords",
        "v4/official_account_open_http_svc/get_subscribed_official_account_list",
        "v4/official_account_open_http_svc/get_subscriber_info",
        "v4/official_account_open_http_svc/official_account_msg_get_simple",
        "v4/openim/admin_getroammsg",
        "v4/openim_msg_ext_http_svc/get_key_values",
        "v4/openim_msg_ext_http_svc/group_get_key_values",
        "v4/recentcontact/get_contact_group",
        "v4/recentcontact/get_list",
        "v4/sns/black_list_get",
        "v4/sns/friend_get",
    ];
    let paged: BTreeSet<&str> =
        ENDPOINTS.iter().filter(|e| e.paginate_json.is_some()).map(|e| e.meta.path).collect();
    assert_eq!(paged, covered.into_iter().collect());
    for e in ENDPOINTS.iter().filter(|e| e.paginate_json.is_some()) {
        assert!(e.meta.pagination.is_some(), "{}", e.meta.path);
    }
}

#[tokio::test]
async fn group_members_groups_and_permission_groups() {
    let (_server, client) = setup().await;
    let members = ids("m", 1234);
    import_accounts(&client, &members).await;
    import_accounts(&client, &["owner".to_owned()]).await;
    let group = call(
        &client,
        "v4/group_open_http_svc/create_group",
        json!({"Owner_Account": "owner", "Type": "Public", "Name": "big", "GroupId": "big"}),
    )
    .await;
    assert_eq!(group["GroupId"], "big");
    for chunk in members.chunks(300) {
        let list: Vec<Value> = chunk.iter().map(|m| json!({"Member_Account": m})).collect();
        call(
            &client,
            "v4/group_open_http_svc/add_group_member",
            json!({"GroupId": "big", "MemberList": list}),
        )
        .await;
    }
    let mut all = set(&members);
    all.insert("owner".into());

    // Typed: 1,235 members by pages of 100.
    let typed = client
        .paginate(get_group_member_info::Request::new("big"))
        .page_size(100)
        .collect_items()
        .await
        .unwrap();
    let accounts: BTreeSet<String> = typed.iter().map(|m| m.member_account.clone()).collect();
    assert_eq!(typed.len(), 1235);
    assert_eq!(accounts, all);
    // The pages as a stream: 13 of them.
    let mut pages = client.paginate(get_group_member_info::Request::new("big")).page_size(100).pages();
    let mut sizes = Vec::new();
    while let Some(page) = pages.next().await {
        sizes.push(page.unwrap().member_list.unwrap_or_default().len());
    }
    assert_eq!(sizes.len(), 13, "{sizes:?}");
    // An item cap stops early.
    let capped = client.paginate(get_group_member_info::Request::new("big")).page_size(100).max_items(150);
    assert_eq!(capped.collect_items().await.unwrap().len(), 150);

    let path = "v4/group_open_http_svc/get_group_member_info";
    let items = list(&client, path, json!({"GroupId": "big"}), Some(333)).await;
    assert_exactly(path, &items, "Member_Account", &all);

    // One member in 250 groups.
    let groups = ids("g", 250);
    for g in &groups {
        call(
            &client,
            "v4/group_open_http_svc/create_group",
            json!({"Owner_Account": "owner", "Type": "Public", "Name": g, "GroupId": g,
                   "MemberList": [{"Member_Account": "m00000"}]}),
        )
        .await;
    }
    let path = "v4/group_open_http_svc/get_joined_group_list";
    let items = list(&client, path, json!({"Member_Account": "m00000"}), Some(40)).await;
    let mut joined = set(&groups);
    joined.insert("big".into());
    assert_exactly(path, &items, "GroupId", &joined);

    let path = "v4/group_open_http_svc/get_appid_group_list";
    // 1 call/s: pages of 130 (the emulator keeps to the limit too).
    let items = list(&client, path, json!({}), Some(130)).await;
    assert_exactly(path, &items, "GroupId", &joined);

    // Permission groups of a community, and the members of one.
    call(
        &client,
        "v4/group_open_http_svc/create_group",
        json!({"Owner_Account": "owner", "Type": "Community", "Name": "c", "GroupId": "@TGS#_community"}),
    )
    .await;
    for chunk in members[..120].chunks(300) {
        let list: Vec<Value> = chunk.iter().map(|m| json!({"Member_Account": m})).collect();
        call(
            &client,
            "v4/group_open_http_svc/add_group_member",
            json!({"GroupId": "@TGS#_community", "MemberList": list}),
        )
        .await;
    }
    let mut permission_groups = BTreeSet::new();
    for i in 0..45 {
        let id = format!("@PMG#_p{i:02}");
        call(
            &client,
            "v4/group_open_http_svc/create_permission_group",
            json!({"GroupId": "@TGS#_community", "PermissionGroupId": id, "PermissionGroupName": format!("p{i}")}),
        )
        .await;
        permission_groups.insert(id);
    }
    let path = "v4/group_open_http_svc/get_permission_group";
    let items = list(&client, path, json!({"GroupId": "@TGS#_community"}), Some(20)).await;
    assert_exactly(path, &items, "PermissionGroupId", &permission_groups);

    for chunk in members[..120].chunks(100) {
        let list: Vec<Value> = chunk.iter().map(|m| json!({"Member_Account": m})).collect();
        call(
            &client,
            "v4/group_open_http_svc/add_permission_group_member",
            json!({"GroupId": "@TGS#_community", "PermissionGroupId": "@PMG#_p00", "MemberList": list}),
        )
        .await;
    }
    let path = "v4/group_open_http_svc/get_permission_group_member_list";
    let items = list(
        &client,
        path,
        json!({"GroupId": "@TGS#_community", "PermissionGroupId": "@PMG#_p00"}),
        Some(50),
    )
    .await;
    assert_exactly(path, &items, "Member_Account", &set(&members[..120]));
}

#[tokio::test]
async fn group_messages_receipts_bans_and_extensions() {
    let (server, client) = setup().await;
    let members = ids("m", 300);
    import_accounts(&client, &members).await;
    call(
        &client,
        "v4/group_open_http_svc/create_group",
        json!({"Owner_Account": "m00000", "Type": "Public", "Name": "g", "GroupId": "g"}),
    )
    .await;
    let list_: Vec<Value> = members.iter().skip(1).map(|m| json!({"Member_Account": m})).collect();
    call(&client, "v4/group_open_http_svc/add_group_member", json!({"GroupId": "g", "MemberList": list_}))
        .await;
    let mut seqs = BTreeSet::new();
    for i in 0..250u32 {
        let r = call(
            &client,
            "v4/group_open_http_svc/send_group_msg",
            json!({"GroupId": "g", "From_Account": "m00000", "Random": i, "MsgBody": text(&format!("n{i}")),
                   "SupportMessageExtension": 1}),
        )
        .await;
        seqs.insert(r["MsgSeq"].to_string());
    }
    let path = "v4/group_open_http_svc/group_msg_get_simple";
    let items = list(&client, path, json!({"GroupId": "g", "ReqMsgNumber": 20}), None).await;
    assert_exactly(path, &items, "MsgSeq", &seqs);

    // Receipts of the first message: 120 members read it, 179 did not.
    let first_seq: u64 = seqs.iter().map(|s| s.parse::<u64>().unwrap()).min().unwrap();
    for m in &members[1..121] {
        call(
            &client,
            "v4/group_open_http_svc/group_msg_receipt",
            json!({"GroupId": "g", "From_Account": m, "MsgSeqList": [{"MsgSeq": first_seq}]}),
        )
        .await;
    }
    let path = "v4/group_open_http_svc/get_group_msg_receipt_detail";
    let read = list(
        &client,
        path,
        json!({"GroupId": "g", "MsgSeq": first_seq, "Filter": 0, "Cursor": "", "Count": 25}),
        None,
    )
    .await;
    assert_exactly(path, &read, "Read_Account", &set(&members[1..121]));
    let unread = list(
        &client,
        path,
        json!({"GroupId": "g", "MsgSeq": first_seq, "Filter": 1, "Cursor": "", "Count": 25}),
        None,
    )
    .await;
    assert_exactly(path, &unread, "Unread_Account", &set(&members[121..]));

    // 250 key-value pairs on one group message (pages hold at most 200).
    let keys: Vec<String> = (0..250).map(|i| format!("k{i:03}")).collect();
    for chunk in keys.chunks(20) {
        let ext: Vec<Value> = chunk.iter().map(|k| json!({"Key": k, "Value": "v", "Seq": 0})).collect();
        call(
            &client,
            "v4/openim_msg_ext_http_svc/group_set_key_values",
            json!({"GroupId": "g", "MsgSeq": first_seq, "OperateType": 1, "ExtensionList": ext}),
        )
        .await;
    }
    let path = "v4/openim_msg_ext_http_svc/group_get_key_values";
    let items = list(&client, path, json!({"GroupId": "g", "MsgSeq": first_seq}), None).await;
    assert_exactly(path, &items, "Key", &set(&keys));

    // A live-stream group: its online members and 130 banned ones.
    call(
        &client,
        "v4/group_open_http_svc/create_group",
        json!({"Owner_Account": "m00000", "Type": "AVChatRoom", "Name": "live", "GroupId": "live"}),
    )
    .await;
    let banned = &members[1..131];
    for chunk in banned.chunks(20) {
        call(
            &client,
            "v4/group_open_http_svc/ban_group_member",
            json!({"GroupId": "live", "Members_Account": chunk, "Duration": 3600}),
        )
        .await;
    }
    let path = "v4/group_open_http_svc/get_group_ban_member";
    let items = list(&client, path, json!({"GroupId": "live", "Offset": 0}), Some(30)).await;
    assert_exactly(path, &items, "Member_Account", &set(banned));

    // Live-group members join through the SDK, so they come from a state:
    // 1,200 of them, of which the list holds the 1,000 latest, 500 a page.
    let mut world = server.snapshot();
    let template = world.groups.groups["g"].members[0].clone();
    let many = (0..1200u64).map(|i| {
        let mut m = template.clone();
        m.account = format!("live{i:05}");
        m.join_time = 1_700_000_000 + i;
        m
    });
    world.groups.groups.get_mut("live").unwrap().members = many.collect();
    let live = MockServer::start(MockConfig::new(APPID, KEY, ADMIN).state(world)).await.unwrap();
    let live_client = live.client_builder().build().unwrap();
    let path = "v4/group_open_avchatroom_http_svc/get_members";
    let items = list(&live_client, path, json!({"GroupId": "live", "Timestamp": 0}), None).await;
    // The list holds the 1,000 latest.
    let latest: BTreeSet<String> = (200..1200).map(|i| format!("live{i:05}")).collect();
    assert_exactly(path, &items, "Member_Account", &latest);
}

#[tokio::test]
async fn friends_blocklist_follows_conversations_and_roaming() {
    let (_server, client) = setup().await;
    let others = ids("f", 2500);
    import_accounts(&client, &others).await;
    import_accounts(&client, &["me".to_owned()]).await;
    for chunk in others.chunks(100) {
        let items: Vec<Value> =
            chunk.iter().map(|f| json!({"To_Account": f, "AddSource": "AddSource_Type_Test"})).collect();
        call(&client, "v4/sns/friend_import", json!({"From_Account": "me", "AddFriendItem": items})).await;
    }
    // Typed: 2,500 friends.
    let friends = client.paginate(friend_get::Request::new("me", 0u64)).collect_items().await.unwrap();
    let accounts: BTreeSet<String> = friends.iter().map(|f| f.to_account.clone()).collect();
    assert_eq!(friends.len(), 2500);
    assert_eq!(accounts, set(&others));
    let path = "v4/sns/friend_get";
    let items = list(&client, path, json!({"From_Account": "me", "StartIndex": 0}), None).await;
    assert_exactly(path, &items, "To_Account", &set(&others));

    let blocked = &others[..700];
    call(&client, "v4/sns/black_list_add", json!({"From_Account": "me", "To_Account": blocked})).await;
    let path = "v4/sns/black_list_get";
    let items = list(
        &client,
        path,
        json!({"From_Account": "me", "StartIndex": 0, "MaxLimited": 30, "LastSequence": 0}),
        Some(100),
    )
    .await;
    assert_exactly(path, &items, "To_Account", &set(blocked));

    let followed = &others[..230];
    for chunk in followed.chunks(20) {
        let items: Vec<Value> = chunk.iter().map(|f| json!({"To_Account": f})).collect();
        call(&client, "v4/follow/follow_add", json!({"From_Account": "me", "FollowItem": items})).await;
    }
    let path = "v4/follow/follow_get";
    let items = list(
        &client,
        path,
        json!({"From_Account": "me", "FollowType": 2, "StartCursor": "", "WantNum": 100}),
        Some(50),
    )
    .await;
    assert_exactly(path, &items, "To_Account", &set(followed));

    // 250 one-to-one messages with one peer, and conversations with 220 peers.
    let mut keys = BTreeSet::new();
    for i in 0..250u32 {
        let r = call(
            &client,
            "v4/openim/sendmsg",
            json!({"From_Account": "me", "To_Account": "f00000", "MsgRandom": i, "MsgBody": text(&format!("n{i}")),
                   "SupportMessageExtension": 1}),
        )
        .await;
        keys.insert(r["MsgKey"].as_str().unwrap().to_owned());
    }
    let path = "v4/openim/admin_getroammsg";
    let items = list(
        &client,
        path,
        json!({"Operator_Account": "me", "Peer_Account": "f00000", "MaxCnt": 100, "MinTime": 0,
               "MaxTime": 4_000_000_000u64}),
        Some(30),
    )
    .await;
    assert_exactly(path, &items, "MsgKey", &keys);

    // 230 key-value pairs on one one-to-one message.
    let msg_key = keys.iter().next().unwrap().clone();
    let ext_keys: Vec<String> = (0..230).map(|i| format!("k{i:03}")).collect();
    for chunk in ext_keys.chunks(20) {
        let ext: Vec<Value> = chunk.iter().map(|k| json!({"Key": k, "Value": "v", "Seq": 0})).collect();
        call(
            &client,
            "v4/openim_msg_ext_http_svc/set_key_values",
            json!({"From_Account": "me", "To_Account": "f00000", "MsgKey": msg_key, "OperateType": 1,
                   "ExtensionList": ext}),
        )
        .await;
    }
    let path = "v4/openim_msg_ext_http_svc/get_key_values";
    let items =
        list(&client, path, json!({"From_Account": "me", "To_Account": "f00000", "MsgKey": msg_key}), None)
            .await;
    assert_exactly(path, &items, "Key", &set(&ext_keys));

    let peers = &others[..220];
    for (i, p) in peers.iter().enumerate().skip(1) {
        call(
            &client,
            "v4/openim/sendmsg",
            json!({"From_Account": "me", "To_Account": p, "MsgRandom": i, "MsgBody": text("hi")}),
        )
        .await;
    }
    let path = "v4/recentcontact/get_list";
    let items = list(
        &client,
        path,
        json!({"From_Account": "me", "TimeStamp": 0, "StartIndex": 0, "TopTimeStamp": 0, "TopStartIndex": 0,
               "AssistFlags": 7}),
        None,
    )
    .await;
    assert_exactly(path, &items, "To_Account", &set(peers));

    // Conversation marks: 150 marked conversations.
    for chunk in peers[..150].chunks(100) {
        let marks: Vec<Value> = chunk
            .iter()
            .map(|p| json!({"OptType": 1, "ContactItem": {"Type": 1, "To_Account": p}, "SetMark": [1]}))
            .collect();
        call(&client, "v4/recentcontact/mark_contact", json!({"From_Account": "me", "MarkItem": marks}))
            .await;
    }
    let path = "v4/recentcontact/get_contact_group";
    let items = list(&client, path, json!({"From_Account": "me", "StartIndex": 0}), None).await;
    assert_exactly(path, &items, "To_Account", &set(&peers[..150]));
}

#[tokio::test]
async fn official_accounts_and_keywords() {
    let (_server, client) = setup().await;
    let users = ids("u", 260);
    import_accounts(&client, &users).await;
    let mut accounts = BTreeSet::new();
    let mut names = BTreeSet::new();
    for i in 0..230 {
        let id = format!("@TOA#_oa{i:03}");
        call(
            &client,
            "v4/official_account_open_http_svc/create_official_account",
            json!({"OfficialAccountUserID": id, "Owner_Account": "u00000", "Name": format!("oa{i}")}),
        )
        .await;
        call(
            &client,
            "v4/official_account_open_http_svc/add_subscriber",
            json!({"Official_Account": id, "SubscriberList": [{"Subscriber_Account": "u00001"}]}),
        )
        .await;
        accounts.insert(id);
        names.insert(format!("oa{i}"));
    }
    let path = "v4/official_account_open_http_svc/get_subscribed_official_account_list";
    let items = list(&client, path, json!({"Subscriber_Account": "u00001"}), Some(50)).await;
    assert_exactly(path, &items, "Name", &names);
    assert_eq!(accounts.len(), 230);

    for chunk in users[1..].chunks(100) {
        let subs: Vec<Value> = chunk.iter().map(|u| json!({"Subscriber_Account": u})).collect();
        call(
            &client,
            "v4/official_account_open_http_svc/add_subscriber",
            json!({"Official_Account": "@TOA#_oa000", "SubscriberList": subs}),
        )
        .await;
    }
    let path = "v4/official_account_open_http_svc/get_subscriber_info";
    let items = list(&client, path, json!({"Official_Account": "@TOA#_oa000", "Next": ""}), Some(60)).await;
    assert_exactly(path, &items, "Subscriber_Account", &set(&users[1..]));

    let mut seqs = BTreeSet::new();
    for i in 0..250u32 {
        let r = call(
            &client,
            "v4/official_account_open_http_svc/send_official_account_msg",
            json!({"Official_Account": "@TOA#_oa000", "Random": i, "MsgBody": text(&format!("n{i}"))}),
        )
        .await;
        seqs.insert(r["MsgKey"].as_str().unwrap().to_owned());
    }
    let path = "v4/official_account_open_http_svc/official_account_msg_get_simple";
    let items =
        list(&client, path, json!({"Official_Account": "@TOA#_oa000", "ReqMsgNumber": 20}), None).await;
    assert_exactly(path, &items, "MsgKey", &seqs);

    // Keywords: 250 in a cloud library, 250 local ones.
    let words: Vec<String> = (0..250).map(|i| format!("word{i:03}")).collect();
    let lib = "lib-1";
    for chunk in words.chunks(50) {
        let kws: Vec<Value> = chunk.iter().map(|w| json!({"Content": w, "Label": "Ad"})).collect();
        call(
            &client,
            "v4/im_msg_audit_mgr/add_cloud_audit_keywords",
            json!({"SdkAppId": APPID, "LibID": lib, "UserKeywords": kws}),
        )
        .await;
    }
    let path = "v4/im_msg_audit_mgr/get_cloud_audit_keywords";
    let items =
        list(&client, path, json!({"SdkAppId": APPID, "Offset": 0, "Limit": 100, "LibID": lib}), None).await;
    assert_exactly(path, &items, "Content", &set(&words));

    let path = "v4/im_msg_audit_mgr/get_cloud_audit_keywords_ids";
    let items = list(&client, path, json!({"SdkAppId": APPID, "Offset": 0, "Limit": 100}), Some(70)).await;
    assert_eq!(items.len(), 1, "{path}: one library: {items:?}");

    for chunk in words.chunks(10) {
        let kws: Vec<Value> = chunk
            .iter()
            .map(|w| json!({"Keyword": w, "WordType": 1, "FilterType": 1, "ReplacedContent": "***"}))
            .collect();
        call(
            &client,
            "v4/im_msg_audit_mgr/add_local_audit_keywords",
            json!({"SdkAppId": APPID, "LocalAuditWords": kws}),
        )
        .await;
    }
    let path = "v4/im_msg_audit_mgr/get_local_audit_keywords";
    let items = list(&client, path, json!({"SdkAppId": APPID}), Some(100)).await;
    assert_exactly(path, &items, "Keyword", &set(&words));
}
