//! Unit tests of the friend, friend list and blocklist endpoints.

use super::*;
use crate::world::accounts::{TAG_ADMIN_FORBID_TYPE, TAG_ALLOW_TYPE};
use crate::world::{Done, Handled};

use crate::world::testing::{exec, named_code, role_code, world};

/// The code `path`'s spec gives `role`.
fn code(path: &str, role: ErrorRole) -> i64 {
    role_code(path, role)
}

fn named(path: &str, name: &str) -> i64 {
    named_code(path, name)
}

fn run(w: &mut World, path: &str, body: Value) -> Handled {
    exec(w, path, body, 1_700_000_000)
}

fn add(w: &mut World, from: &str, to: &str, add_type: &str) -> Done {
    run(
        w,
        "sns/friend_add",
        json!({"From_Account": from, "AddFriendItem": [{"To_Account": to, "AddSource": "AddSource_Type_Test"}], "AddType": add_type}),
    )
    .unwrap()
}

fn relation_of(w: &mut World, from: &str, to: &str, check_type: &str) -> Value {
    let done = run(
        w,
        "sns/friend_check",
        json!({"From_Account": from, "To_Account": [to], "CheckType": check_type}),
    )
    .unwrap();
    done.reply["InfoItem"][0]["Relation"].clone()
}

#[test]
fn add_both_and_single_then_check() {
    let mut w = world(&["a", "b", "c"]);
    let done = add(&mut w, "a", "b", "Add_Type_Both");
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(done.events[0].command, "Sns.CallbackFriendAdd");
    assert_eq!(done.events[0].payload["PairList"].as_array().map(Vec::len), Some(2));
    assert_eq!(relation_of(&mut w, "a", "b", "CheckResult_Type_Both"), "CheckResult_Type_BothWay");
    add(&mut w, "a", "c", "Add_Type_Single");
    assert_eq!(relation_of(&mut w, "a", "c", "CheckResult_Type_Both"), "CheckResult_Type_AWithB");
    assert_eq!(relation_of(&mut w, "c", "a", "CheckResult_Type_Both"), "CheckResult_Type_BWithA");
    assert_eq!(relation_of(&mut w, "c", "a", "CheckResult_Type_Single"), "CheckResult_Type_NoRelation");
    // Adding again: already a friend.
    let done = add(&mut w, "a", "c", "Add_Type_Single");
    assert_ne!(done.reply["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(done.reply["Fail_Account"], json!(["c"]));
    assert!(done.events.is_empty());
}

#[test]
fn add_refusals() {
    let mut w = world(&["a", "b", "d", "n"]);
    let done = add(&mut w, "a", "ghost", "Add_Type_Both");
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], code("sns/friend_add", ErrorRole::AccountNotFound));
    let r = run(&mut w, "sns/friend_add", json!({"From_Account": "ghost", "AddFriendItem": []})).unwrap_err();
    assert_eq!(r.code, code("sns/friend_add", ErrorRole::AccountNotFound));
    w.accounts
        .accounts
        .get_mut("d")
        .unwrap()
        .profile
        .insert(TAG_ALLOW_TYPE.into(), json!("AllowType_Type_DenyAny"));
    w.accounts
        .accounts
        .get_mut("n")
        .unwrap()
        .profile
        .insert(TAG_ALLOW_TYPE.into(), json!("AllowType_Type_NeedConfirm"));
    let done = add(&mut w, "a", "d", "Add_Type_Both");
    assert_eq!(
        done.reply["ResultItem"][0]["ResultCode"],
        code("sns/friend_add", ErrorRole::PermissionDenied)
    );
    let done = add(&mut w, "a", "n", "Add_Type_Both");
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], named("sns/friend_add", "PendingApproval"));
    assert!(!w.friends.is_friend("a", "n"));
    // The admin forces past the approval setting.
    let done = run(
        &mut w,
        "sns/friend_add",
        json!({"From_Account": "a", "AddFriendItem": [{"To_Account": "n"}], "ForceAddFlags": 1}),
    )
    .unwrap();
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(done.events[0].payload["ForceFlag"], 1);
    assert!(w.friends.is_friend("a", "n") && w.friends.is_friend("n", "a"));
    w.accounts
        .accounts
        .get_mut("d")
        .unwrap()
        .profile
        .insert(TAG_ADMIN_FORBID_TYPE.into(), json!("AdminForbid_Type_SendOut"));
    let done = add(&mut w, "d", "a", "Add_Type_Single");
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], named("sns/friend_add", "AddingForbidden"));
    // Blocklists stop requests both ways, forced or not.
    run(&mut w, "sns/black_list_add", json!({"From_Account": "b", "To_Account": ["a"]})).unwrap();
    let done = add(&mut w, "a", "b", "Add_Type_Both");
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], named("sns/friend_add", "BlocklistedByTarget"));
    let done = add(&mut w, "b", "a", "Add_Type_Both");
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], code("sns/friend_add", ErrorRole::Blocked));
}

#[test]
fn import_update_get_list_and_groups() {
    let mut w = world(&["a", "b", "c"]);
    let done = run(
        &mut w,
        "sns/friend_import",
        json!({"From_Account": "a", "AddFriendItem": [
            {"To_Account": "b", "AddSource": "AddSource_Type_Web", "Remark": "bee", "GroupName": ["g1"], "AddTime": 5,
             "CustomItem": [{"Tag": "Tag_SNS_Custom_X", "Value": 3}]},
            {"To_Account": "ghost", "AddSource": "AddSource_Type_Web"}
        ]}),
    )
    .unwrap();
    assert!(done.events.is_empty());
    assert_eq!(done.reply["Fail_Account"], json!(["ghost"]));
    assert!(w.friends.is_friend("a", "b") && !w.friends.is_friend("b", "a"));
    assert_eq!(w.friends.lists_of("a"), vec!["g1".to_owned()]);
    let done = run(
        &mut w,
        "sns/friend_update",
        json!({"From_Account": "a", "UpdateItem": [
            {"To_Account": "b", "SnsItem": [{"Tag": "Tag_SNS_IM_Remark", "Value": "B"}, {"Tag": "Tag_SNS_IM_Group", "Value": ["g2"]}]},
            {"To_Account": "c", "SnsItem": [{"Tag": "Tag_SNS_IM_Remark", "Value": "C"}]}
        ]}),
    )
    .unwrap();
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(done.reply["Fail_Account"], json!(["c"]));
    let f = w.friends.friend("a", "b").unwrap();
    assert_eq!((f.remark.as_str(), f.groups.clone()), ("B", vec!["g2".to_owned()]));
    w.accounts.accounts.get_mut("b").unwrap().profile.insert("Tag_Profile_IM_Nick".into(), json!("Bee"));
    let done = run(
        &mut w,
        "sns/friend_get_list",
        json!({"From_Account": "a", "To_Account": ["b"], "TagList": ["Tag_Profile_IM_Nick", "Tag_SNS_IM_Remark", "Tag_SNS_Custom_X"]}),
    )
    .unwrap();
    assert_eq!(
        done.reply["InfoItem"][0]["SnsProfileItem"],
        json!([{"Tag": "Tag_Profile_IM_Nick", "Value": "Bee"}, {"Tag": "Tag_SNS_IM_Remark", "Value": "B"}, {"Tag": "Tag_SNS_Custom_X", "Value": 3}])
    );
    // Lists: add g3 with b in it, get, delete.
    let done = run(
        &mut w,
        "sns/group_add",
        json!({"From_Account": "a", "GroupName": ["g3"], "To_Account": ["b", "c"]}),
    )
    .unwrap();
    assert_eq!(done.reply["ResultItem"][1]["ResultCode"], code("sns/group_add", ErrorRole::NotFriend));
    let done =
        run(&mut w, "sns/group_get", json!({"From_Account": "a", "NeedFriend": "Need_Friend_Type_Yes"}))
            .unwrap();
    let lists = done.reply["ResultItem"].as_array().cloned().unwrap_or_default();
    assert_eq!(lists.len(), 3);
    assert_eq!(lists[2], json!({"GroupName": "g3", "FriendNumber": 1, "To_Account": ["b"]}));
    run(&mut w, "sns/group_delete", json!({"From_Account": "a", "GroupName": ["g2", "g3"]})).unwrap();
    assert_eq!(w.friends.lists_of("a"), vec!["g1".to_owned()]);
    assert!(w.friends.friend("a", "b").unwrap().groups.is_empty());
}

#[test]
fn delete_and_delete_all() {
    let mut w = world(&["a", "b", "c", "d"]);
    add(&mut w, "a", "b", "Add_Type_Both");
    add(&mut w, "a", "c", "Add_Type_Both");
    add(&mut w, "a", "d", "Add_Type_Both");
    let done = run(
        &mut w,
        "sns/friend_delete",
        json!({"From_Account": "a", "To_Account": ["b", "b"], "DeleteType": "Delete_Type_Single"}),
    )
    .unwrap();
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(done.reply["ResultItem"][1]["ResultCode"], code("sns/friend_delete", ErrorRole::NotFriend));
    assert_eq!(done.events[0].payload["PairList"], json!([{"From_Account": "a", "To_Account": "b"}]));
    assert!(w.friends.is_friend("b", "a"));
    run(&mut w, "sns/friend_delete", json!({"From_Account": "a", "To_Account": ["c"]})).unwrap();
    assert!(!w.friends.is_friend("c", "a"));
    let done = run(&mut w, "sns/friend_delete_all", json!({"From_Account": "a"})).unwrap();
    assert_eq!(done.events[0].payload["PairList"], json!([{"From_Account": "a", "To_Account": "d"}]));
    assert!(w.friends.friends_of("a").is_empty() && w.friends.is_friend("d", "a"));
}

#[test]
fn blocklist_round_trip() {
    let mut w = world(&["a", "b", "c"]);
    add(&mut w, "a", "b", "Add_Type_Both");
    let done =
        run(&mut w, "sns/black_list_add", json!({"From_Account": "a", "To_Account": ["b", "c", "ghost"]}))
            .unwrap();
    assert_eq!(done.reply["Fail_Account"], json!(["ghost"]));
    assert_eq!(done.events[0].command, "Sns.CallbackBlackListAdd");
    assert_eq!(done.events[1].command, "Sns.CallbackFriendDelete");
    assert!(!w.friends.is_friend("a", "b") && !w.friends.is_friend("b", "a"));
    let done = run(
        &mut w,
        "sns/black_list_check",
        json!({"From_Account": "b", "To_Account": ["a", "c"], "CheckType": "BlackCheckResult_Type_Both"}),
    )
    .unwrap();
    assert_eq!(done.reply["BlackListCheckItem"][0]["Relation"], "BlackCheckResult_Type_BWithA");
    assert_eq!(done.reply["BlackListCheckItem"][1]["Relation"], "BlackCheckResult_Type_NO");
    let done = run(
        &mut w,
        "sns/black_list_get",
        json!({"From_Account": "a", "StartIndex": 0, "MaxLimited": 1, "LastSequence": 0}),
    )
    .unwrap();
    assert_eq!(
        done.reply["BlackListItem"],
        json!([{"To_Account": "b", "AddBlackTimeStamp": 1_700_000_000u64}])
    );
    assert_eq!(done.reply["StartIndex"], 1);
    let done = run(
        &mut w,
        "sns/black_list_get",
        json!({"From_Account": "a", "StartIndex": 1, "MaxLimited": 1, "LastSequence": 0}),
    )
    .unwrap();
    assert_eq!(done.reply["BlackListItem"][0]["To_Account"], "c");
    assert_eq!(done.reply["StartIndex"], 0);
    let done =
        run(&mut w, "sns/black_list_delete", json!({"From_Account": "a", "To_Account": ["b", "b"]})).unwrap();
    assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
    assert_ne!(done.reply["ResultItem"][1]["ResultCode"], 0);
    assert_eq!(w.friends.blocklist_of("a"), vec!["c".to_owned()]);
}

#[test]
fn friend_get_pages() {
    let mut w = world(&["a"]);
    let items: Vec<Value> = (0..150)
        .map(|i| {
            let id = format!("u{i:03}");
            w.accounts.ensure(&id);
            json!({"To_Account": id, "AddSource": "AddSource_Type_Test"})
        })
        .collect();
    run(&mut w, "sns/friend_import", json!({"From_Account": "a", "AddFriendItem": items})).unwrap();
    let first = run(&mut w, "sns/friend_get", json!({"From_Account": "a", "StartIndex": 0})).unwrap();
    let page = tim_runtime::api::sns::friend_get::META.limit("friends_per_page").map(|l| l.max as usize);
    assert_eq!(first.reply["UserDataItem"].as_array().map(Vec::len), page);
    assert_eq!(first.reply["FriendNum"], 150);
    assert_eq!(first.reply["CompleteFlag"], 0);
    assert_eq!(first.reply["NextStartIndex"], 100);
    let second = run(&mut w, "sns/friend_get", json!({"From_Account": "a", "StartIndex": 100})).unwrap();
    assert_eq!(second.reply["UserDataItem"].as_array().map(Vec::len), Some(50));
    assert_eq!(second.reply["UserDataItem"][0]["To_Account"], "u100");
    assert_eq!(second.reply["CompleteFlag"], 1);
    assert_eq!(second.reply["NextStartIndex"], 0);
    // Unchanged sequences leave the data out.
    let seq = second.reply["StandardSequence"].clone();
    let third = run(
        &mut w,
        "sns/friend_get",
        json!({"From_Account": "a", "StartIndex": 100, "StandardSequence": seq}),
    )
    .unwrap();
    assert_eq!(third.reply["UserDataItem"][0]["ValueItem"], json!([]));
}

#[test]
fn forgetting_an_account_clears_relations() {
    let mut w = world(&["a", "b", "c"]);
    add(&mut w, "a", "b", "Add_Type_Both");
    run(&mut w, "sns/black_list_add", json!({"From_Account": "c", "To_Account": ["b"]})).unwrap();
    run(&mut w, "sns/black_list_add", json!({"From_Account": "b", "To_Account": ["c"]})).unwrap();
    assert!(w.friends.mentions_account("b"));
    w.forget_account("b");
    assert!(!w.mentions_account("b"));
    assert!(w.friends.friends_of("a").is_empty() && w.friends.blocklist_of("c").is_empty());
}
