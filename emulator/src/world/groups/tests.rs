//! Unit tests of the group endpoints.

use serde_json::{json, Value};
use tim_runtime::api::ENDPOINTS;
use tim_runtime::dynamic::find;

use super::*;
use crate::world::{Event, World};

const ADMIN: &str = "admin";

fn world() -> World {
    let mut w = World::new(ADMIN);
    for a in ["alice", "bob", "carol", "dave"] {
        w.accounts.ensure(a);
    }
    w
}

/// Runs a call as the mock server does (see `testing::exec`): the reply
/// and the callbacks, before-callbacks first.
fn run_at(w: &mut World, path: &str, body: Value, now: u64) -> Result<(Value, Vec<Event>), Refusal> {
    crate::world::testing::exec(w, path, body, now).map(|d| (d.body(), d.events))
}

fn run(w: &mut World, path: &str, body: Value) -> Result<(Value, Vec<Event>), Refusal> {
    run_at(w, path, body, 1_000)
}

fn ok(w: &mut World, path: &str, body: Value) -> Value {
    run(w, path, body).expect("call succeeds").0
}

fn code(path: &str, role: ErrorRole) -> i64 {
    find(ENDPOINTS, &format!("v4/{path}")).and_then(|e| e.meta.error_with_role(role)).expect("role").code
}

fn create(w: &mut World, body: Value) -> String {
    ok(w, "group_open_http_svc/create_group", body)["GroupId"].as_str().expect("id").to_owned()
}

fn send(w: &mut World, gid: &str, from: &str, text: &str) -> Value {
    ok(
        w,
        "group_open_http_svc/send_group_msg",
        json!({"GroupId": gid, "Random": 7, "From_Account": from,
               "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}),
    )
}

fn public_group(w: &mut World) -> String {
    create(
        w,
        json!({"Owner_Account": "alice", "Type": "Public", "Name": "g",
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol", "Role": "Admin"}]}),
    )
}

#[test]
fn create_generates_ids_and_fires_callbacks() {
    let mut w = world();
    let (reply, events) = run(
        &mut w,
        "group_open_http_svc/create_group",
        json!({"Owner_Account": "alice", "Type": "Public", "Name": "g", "MemberList": [{"Member_Account": "bob"}]}),
    )
    .unwrap();
    let id = reply["GroupId"].as_str().unwrap();
    assert!(id.starts_with("@TGS#2"), "{id}");
    let names: Vec<_> = events.iter().map(|e| e.command).collect();
    assert_eq!(names, ["Group.CallbackBeforeCreateGroup", "Group.CallbackAfterCreateGroup"]);
    assert_eq!(events[0].payload["CreateGroupNum"], json!(0));
    assert_eq!(events[1].payload["GroupId"], json!(id));
    let g = w.groups.get(id).unwrap();
    assert_eq!(g.members().len(), 2);
    assert_eq!(g.member("alice").unwrap().role, "Owner");
    let second = create(&mut w, json!({"Owner_Account": "alice", "Type": "Public", "Name": "h"}));
    assert_ne!(second, id);
    let (_, events) = run(
        &mut w,
        "group_open_http_svc/create_group",
        json!({"Owner_Account": "alice", "Type": "Public", "Name": "i"}),
    )
    .unwrap();
    assert_eq!(events[0].payload["CreateGroupNum"], json!(2));
    let community = create(&mut w, json!({"Type": "Community", "Name": "c"}));
    assert!(community.starts_with("@TGS#_"), "{community}");
    assert_eq!(w.groups.get(&community).unwrap().owner, None);
}

#[test]
fn custom_ids_follow_the_rules() {
    let mut w = world();
    let path = "group_open_http_svc/create_group";
    assert_eq!(
        create(&mut w, json!({"Type": "Public", "Name": "g", "GroupId": "MyFirstGroup"})),
        "MyFirstGroup"
    );
    let dup =
        run(&mut w, path, json!({"Type": "Private", "Name": "g", "GroupId": "MyFirstGroup"})).unwrap_err();
    assert_eq!(dup.code, code(path, ErrorRole::AlreadyExists));
    let invalid = find(ENDPOINTS, "v4/group_open_http_svc/create_group")
        .and_then(|e| e.meta.error_for_field("GroupId"))
        .expect("catch-all")
        .code;
    for bad in ["@TGS#mine", "tab\there", "caf\u{e9}"] {
        let r = run(&mut w, path, json!({"Type": "Public", "Name": "g", "GroupId": bad})).unwrap_err();
        assert_eq!(r.code, invalid, "{bad}");
    }
    let r = run(&mut w, path, json!({"Type": "Community", "Name": "g", "GroupId": "plain"})).unwrap_err();
    assert_eq!(r.code, invalid);
    assert_eq!(
        create(&mut w, json!({"Type": "Community", "Name": "g", "GroupId": "@TGS#_mine"})),
        "@TGS#_mine"
    );
    assert_eq!(w.groups.groups.len(), 2);
}

#[test]
fn create_checks_accounts_and_avchatroom_members() {
    let mut w = world();
    let path = "group_open_http_svc/create_group";
    assert!(run(&mut w, path, json!({"Owner_Account": "ghost", "Type": "Public", "Name": "g"})).is_err());
    assert!(run(
        &mut w,
        path,
        json!({"Type": "Public", "Name": "g", "MemberList": [{"Member_Account": "ghost"}]})
    )
    .is_err());
    let r = run(
        &mut w,
        path,
        json!({"Type": "AVChatRoom", "Name": "g", "MemberList": [{"Member_Account": "bob"}]}),
    )
    .unwrap_err();
    assert_eq!(r.code, code(path, ErrorRole::PermissionDenied));
    let live = create(&mut w, json!({"Owner_Account": "alice", "Type": "AVChatRoom", "Name": "live"}));
    let g = w.groups.get(&live).unwrap();
    assert_eq!(g.owner.as_deref(), Some("alice"));
    assert!(g.members().is_empty());
    assert!(w.groups.groups.len() == 1);
}

#[test]
fn group_info_filters_and_unknown_groups() {
    let mut w = world();
    let gid = public_group(&mut w);
    send(&mut w, &gid, "bob", "hi");
    let reply = ok(&mut w, "group_open_http_svc/get_group_info", json!({"GroupIdList": [gid, "nope"]}));
    let info = &reply["GroupInfo"];
    assert_eq!(info[0]["MemberNum"], json!(3));
    assert_eq!(info[0]["NextMsgSeq"], json!(2));
    assert_eq!(info[0]["Owner_Account"], json!("alice"));
    assert_eq!(info[0]["MemberList"][1]["MsgSeq"], json!(1));
    assert_eq!(
        info[1]["ErrorCode"],
        json!(code("group_open_http_svc/get_group_info", ErrorRole::GroupNotFound))
    );
    let reply = ok(
        &mut w,
        "group_open_http_svc/get_group_info",
        json!({"GroupIdList": [gid], "ResponseFilter": {"GroupBaseInfoFilter": ["Name"], "MemberInfoFilter": ["Account", "Role"]}}),
    );
    let item = reply["GroupInfo"][0].as_object().unwrap();
    assert_eq!(item["Name"], json!("g"));
    assert!(!item.contains_key("Type"));
    assert_eq!(item["MemberList"][0], json!({"Member_Account": "alice", "Role": "Owner"}));
}

#[test]
fn modify_and_destroy() {
    let mut w = world();
    let gid = public_group(&mut w);
    let (_, events) = run(
        &mut w,
        "group_open_http_svc/modify_group_base_info",
        json!({"GroupId": gid, "Notification": "new", "MuteAllMember": "On",
               "AppDefinedData": [{"Key": "k", "Value": "v"}]}),
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["Notification"], json!("new"));
    assert!(!events[0].payload.contains_key("Name"));
    let g = w.groups.get(&gid).unwrap();
    assert!(g.mute_all_member);
    assert_eq!(g.notification, "new");
    assert_eq!(g.app_defined_data.get("k").map(String::as_str), Some("v"));
    let (_, events) = run(&mut w, "group_open_http_svc/destroy_group", json!({"GroupId": gid})).unwrap();
    assert_eq!(events[0].command, "Group.CallbackAfterGroupDestroyed");
    assert_eq!(events[0].payload["MemberList"].as_array().unwrap().len(), 3);
    assert!(w.groups.get(&gid).is_none());
    let r = run(&mut w, "group_open_http_svc/destroy_group", json!({"GroupId": gid})).unwrap_err();
    assert_eq!(r.code, code("group_open_http_svc/destroy_group", ErrorRole::GroupNotFound));
}

#[test]
fn appid_group_list_pages_by_next() {
    let mut w = world();
    for i in 0..5 {
        let t = if i % 2 == 0 { "Public" } else { "ChatRoom" };
        create(&mut w, json!({"Type": t, "Name": format!("g{i}")}));
    }
    let path = "group_open_http_svc/get_appid_group_list";
    let mut next = 0;
    let mut seen = Vec::new();
    loop {
        let r = ok(&mut w, path, json!({"Limit": 2, "Next": next}));
        assert_eq!(r["TotalCount"], json!(5));
        seen.extend(r["GroupIdList"].as_array().unwrap().iter().map(|g| g["GroupId"].clone()));
        next = r["Next"].as_u64().unwrap();
        if next == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    let r = ok(&mut w, path, json!({"GroupType": "Meeting"}));
    assert_eq!(r["TotalCount"], json!(2));
}

#[test]
fn joined_group_list() {
    let mut w = world();
    let gid = public_group(&mut w);
    let work = create(&mut w, json!({"Type": "Private", "Name": "w", "Owner_Account": "bob"}));
    let path = "group_open_http_svc/get_joined_group_list";
    let r = ok(&mut w, path, json!({"Member_Account": "bob"}));
    // The work group has no message yet: not active.
    assert_eq!(r["GroupIdList"], json!([{"GroupId": gid}]));
    let r = ok(
        &mut w,
        path,
        json!({"Member_Account": "bob", "WithNoActiveGroups": 1,
        "ResponseFilter": {"GroupBaseInfoFilter": ["Type"], "SelfInfoFilter": ["Role", "MsgSeq"]}}),
    );
    assert_eq!(r["TotalCount"], json!(2));
    assert_eq!(
        r["GroupIdList"][1],
        json!({"GroupId": work, "Type": "Private", "SelfInfo": {"Role": "Owner", "MsgSeq": 0}})
    );
    let r =
        ok(&mut w, path, json!({"Member_Account": "bob", "WithNoActiveGroups": 1, "Limit": 1, "Offset": 1}));
    assert_eq!(r["GroupIdList"], json!([{"GroupId": work}]));
    assert_eq!(w.groups.joined_by("bob").len(), 2);
}

#[test]
fn members_add_delete_and_page() {
    let mut w = world();
    let gid = public_group(&mut w);
    let (reply, events) = run(
        &mut w,
        "group_open_http_svc/add_group_member",
        json!({"GroupId": gid, "MemberList": [{"Member_Account": "dave"}, {"Member_Account": "bob"}, {"Member_Account": "ghost"}]}),
    )
    .unwrap();
    assert_eq!(
        reply["MemberList"],
        json!([{"Member_Account": "dave", "Result": 1}, {"Member_Account": "bob", "Result": 2}, {"Member_Account": "ghost", "Result": 0}])
    );
    assert_eq!(events[0].command, "Group.CallbackBeforeInviteJoinGroup");
    assert_eq!(events[1].payload["NewMemberList"], json!([{"Member_Account": "dave"}]));
    let path = "group_open_http_svc/get_group_member_info";
    let r = ok(&mut w, path, json!({"GroupId": gid, "Limit": 2, "Offset": 2, "MemberInfoFilter": ["Role"]}));
    assert_eq!(r["MemberNum"], json!(4));
    assert_eq!(
        r["MemberList"],
        json!([{"Member_Account": "carol", "Role": "Admin"}, {"Member_Account": "dave", "Role": "Member"}])
    );
    assert!(r.get("Next").is_none());
    let r = ok(&mut w, path, json!({"GroupId": gid, "MemberRoleFilter": ["Admin"]}));
    assert_eq!(r["MemberList"].as_array().unwrap().len(), 1);
    let (_, events) = run(
        &mut w,
        "group_open_http_svc/delete_group_member",
        json!({"GroupId": gid, "MemberToDel_Account": ["dave", "nobody"]}),
    )
    .unwrap();
    assert_eq!(events[0].payload["ExitMemberList"], json!([{"Member_Account": "dave"}]));
    assert_eq!(events[0].payload["ExitType"], json!("Kicked"));
    let r = run(
        &mut w,
        "group_open_http_svc/delete_group_member",
        json!({"GroupId": gid, "MemberToDel_Account": ["alice"]}),
    )
    .unwrap_err();
    assert_eq!(r.code, code("group_open_http_svc/delete_group_member", ErrorRole::PermissionDenied));
}

#[test]
fn community_members_page_with_next() {
    let mut w = world();
    let gid = create(
        &mut w,
        json!({"Type": "Community", "Name": "c", "Owner_Account": "alice",
               "MemberList": [{"Member_Account": "bob"}, {"Member_Account": "carol"}, {"Member_Account": "dave"}]}),
    );
    let path = "group_open_http_svc/get_group_member_info";
    let mut next = String::new();
    let mut seen = Vec::new();
    loop {
        let r = ok(&mut w, path, json!({"GroupId": gid, "Limit": 3, "Next": next}));
        seen.extend(r["MemberList"].as_array().unwrap().iter().map(|m| m["Member_Account"].clone()));
        next = r["Next"].as_str().unwrap().to_owned();
        if next.is_empty() {
            break;
        }
    }
    assert_eq!(seen, [json!("alice"), json!("bob"), json!("carol"), json!("dave")]);
}

#[test]
fn member_profile_owner_change_and_mutes() {
    let mut w = world();
    let gid = public_group(&mut w);
    let (_, events) = run(
        &mut w,
        "group_open_http_svc/modify_group_member_info",
        json!({"GroupId": gid, "Member_Account": "bob", "Role": "Admin", "NameCard": "B", "MsgFlag": "Discard"}),
    )
    .unwrap();
    assert_eq!(events[0].command, "Group.CallbackAfterMemberFieldChanged");
    assert_eq!(events[0].payload["Role"], json!("Admin"));
    let bob = w.groups.get(&gid).unwrap().member("bob").unwrap();
    assert_eq!((bob.role.as_str(), bob.name_card.as_str(), bob.msg_flag.as_str()), ("Admin", "B", "Discard"));
    let (_, events) = run(
        &mut w,
        "group_open_http_svc/change_group_owner",
        json!({"GroupId": gid, "NewOwner_Account": "bob"}),
    )
    .unwrap();
    assert_eq!(events[0].payload["OldOwner_Account"], json!("alice"));
    let g = w.groups.get(&gid).unwrap();
    assert_eq!(g.owner.as_deref(), Some("bob"));
    assert_eq!(g.member("alice").unwrap().role, "Member");
    ok(
        &mut w,
        "group_open_http_svc/forbid_send_msg",
        json!({"GroupId": gid, "Members_Account": ["carol"], "MuteTime": 60}),
    );
    let r = ok(&mut w, "group_open_http_svc/get_group_muted_account", json!({"GroupId": gid}));
    assert_eq!(r["MutedAccountList"], json!([{"Member_Account": "carol", "MutedUntil": 1060}]));
    let refused = run(
        &mut w,
        "group_open_http_svc/send_group_msg",
        json!({"GroupId": gid, "Random": 1, "From_Account": "carol", "MsgBody": []}),
    )
    .unwrap_err();
    assert_eq!(refused.code, code("group_open_http_svc/send_group_msg", ErrorRole::PermissionDenied));
    // The mute ends by itself.
    assert!(run_at(
        &mut w,
        "group_open_http_svc/send_group_msg",
        json!({"GroupId": gid, "Random": 1, "From_Account": "carol", "MsgBody": []}),
        1_061
    )
    .is_ok());
    ok(
        &mut w,
        "group_open_http_svc/forbid_send_msg",
        json!({"GroupId": gid, "Members_Account": ["carol"], "MuteTime": 0}),
    );
    let r = ok(&mut w, "group_open_http_svc/get_group_muted_account", json!({"GroupId": gid}));
    assert_eq!(r["MutedAccountList"], json!([]));
}

#[test]
fn messages_sequence_history_and_unread() {
    let mut w = world();
    let gid = public_group(&mut w);
    let first = send(&mut w, &gid, "bob", "one");
    let second = send(&mut w, &gid, "alice", "two");
    assert_eq!(first["MsgSeq"], json!(1));
    assert_eq!(second["MsgSeq"], json!(2));
    assert_eq!(w.groups.unread("g", "bob"), None);
    assert_eq!(w.groups.unread(&gid, "bob"), Some(1));
    assert_eq!(w.groups.unread(&gid, "alice"), Some(0));
    assert_eq!(w.groups.unread(&gid, "carol"), Some(2));
    ok(
        &mut w,
        "group_open_http_svc/set_unread_msg_num",
        json!({"GroupId": gid, "Member_Account": "bob", "UnreadMsgNum": 5}),
    );
    assert_eq!(w.groups.unread(&gid, "bob"), Some(2));
    ok(
        &mut w,
        "group_open_http_svc/set_unread_msg_num",
        json!({"GroupId": gid, "Member_Account": "bob", "UnreadMsgNum": 1}),
    );
    assert_eq!(w.groups.unread(&gid, "bob"), Some(1));
    send(&mut w, &gid, "carol", "three");
    let path = "group_open_http_svc/group_msg_get_simple";
    let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 2}));
    let seqs: Vec<_> = r["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgSeq"].clone()).collect();
    assert_eq!(seqs, [json!(3), json!(2)]);
    assert_eq!(r["RspMsgList"][0]["From_Account"], json!("carol"));
    let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 2, "ReqMsgSeq": 1}));
    assert_eq!(r["RspMsgList"][0]["MsgBody"][0]["MsgContent"]["Text"], json!("one"));
    assert_eq!(r["IsFinished"], json!(1));
}

#[test]
fn send_checks_sender_and_fires_callbacks() {
    let mut w = world();
    let gid = public_group(&mut w);
    let path = "group_open_http_svc/send_group_msg";
    let r = run(&mut w, path, json!({"GroupId": gid, "Random": 1, "From_Account": "dave", "MsgBody": []}))
        .unwrap_err();
    assert_eq!(r.code, code(path, ErrorRole::NotGroupMember));
    let r = run(&mut w, path, json!({"GroupId": "nope", "Random": 1, "MsgBody": []})).unwrap_err();
    assert_eq!(r.code, code(path, ErrorRole::GroupNotFound));
    let (reply, events) = run(&mut w, path, json!({"GroupId": gid, "Random": 9, "MsgBody": []})).unwrap();
    assert_eq!(events[0].command, "Group.CallbackBeforeSendMsg");
    assert_eq!(events[1].command, "Group.CallbackAfterSendMsg");
    assert_eq!(events[1].payload["MsgSeq"], reply["MsgSeq"]);
    assert_eq!(events[1].payload["From_Account"], json!(ADMIN));
    let (_, events) = run(
        &mut w,
        path,
        json!({"GroupId": gid, "Random": 9, "MsgBody": [],
               "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]}),
    )
    .unwrap();
    assert!(events.is_empty());
    assert_eq!(w.groups.get(&gid).unwrap().latest_seq(), 2);
}

#[test]
fn recall_and_receipts() {
    let mut w = world();
    let gid = public_group(&mut w);
    send(&mut w, &gid, "bob", "one");
    send(&mut w, &gid, "bob", "two");
    let (reply, events) = run(
        &mut w,
        "group_open_http_svc/group_msg_recall",
        json!({"GroupId": gid, "MsgSeqList": [{"MsgSeq": 1}, {"MsgSeq": 7}]}),
    )
    .unwrap();
    let missing = code("group_open_http_svc/group_msg_recall", ErrorRole::MessageNotFound);
    assert_eq!(
        reply["RecallRetList"],
        json!([{"MsgSeq": 1, "RetCode": 0}, {"MsgSeq": 7, "RetCode": missing}])
    );
    assert_eq!(events[0].payload["MsgSeqList"], json!([{"MsgSeq": 1}]));
    let path = "group_open_http_svc/group_msg_get_simple";
    let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 5}));
    assert_eq!(r["RspMsgList"].as_array().unwrap().len(), 1);
    let r = ok(&mut w, path, json!({"GroupId": gid, "ReqMsgNumber": 5, "WithRecalledMsg": 1}));
    assert_eq!(r["RspMsgList"][1]["IsPlaceMsg"], json!(2));
    let (_, events) = run(
        &mut w,
        "group_open_http_svc/group_msg_receipt",
        json!({"GroupId": gid, "From_Account": "alice", "MsgSeqList": [{"MsgSeq": 2}]}),
    )
    .unwrap();
    assert_eq!(events[0].command, "Group.CallbackAfterReadReceipt");
    assert_eq!(
        events[0].payload["GroupMsgReceiptList"],
        json!([{"MsgSeq": 2, "ReadNum": 1, "UnreadNum": 1, "ReadReceiptMembers": [{"Member_Account": "alice"}]}])
    );
    let r = ok(
        &mut w,
        "group_open_http_svc/get_group_msg_receipt",
        json!({"GroupId": gid, "MsgSeqList": [{"MsgSeq": 2}]}),
    );
    assert_eq!(r["GroupMsgReceiptList"], json!([{"Code": 0, "MsgSeq": 2, "ReadNum": 1, "UnreadNum": 1}]));
    let r = ok(
        &mut w,
        "group_open_http_svc/get_group_msg_receipt_detail",
        json!({"GroupId": gid, "MsgSeq": 2, "Filter": 1, "Cursor": "", "Count": 10}),
    );
    assert_eq!(r["UnreadList"], json!([{"Unread_Account": "carol"}]));
}

#[test]
fn group_type_rules_apply() {
    let mut w = world();
    let room = create(
        &mut w,
        json!({"Type": "ChatRoom", "Name": "r", "Owner_Account": "alice", "MemberList": [{"Member_Account": "bob"}]}),
    );
    send(&mut w, &room, "alice", "x");
    send(&mut w, &room, "alice", "y");
    ok(
        &mut w,
        "group_open_http_svc/set_unread_msg_num",
        json!({"GroupId": room, "Member_Account": "bob", "UnreadMsgNum": 0}),
    );
    assert_eq!(w.groups.unread(&room, "bob"), Some(2));
    let live = create(&mut w, json!({"Type": "AVChatRoom", "Name": "l"}));
    let r = run(
        &mut w,
        "group_open_http_svc/add_group_member",
        json!({"GroupId": live, "MemberList": [{"Member_Account": "bob"}]}),
    )
    .unwrap_err();
    assert_eq!(r.code, code("group_open_http_svc/add_group_member", ErrorRole::GroupTypeUnsupported));
}

#[test]
fn roles_specified_members_imports_and_sender_deletion() {
    let mut w = world();
    let gid = public_group(&mut w);
    let r = ok(
        &mut w,
        "group_open_http_svc/get_role_in_group",
        json!({"GroupId": gid, "User_Account": ["alice", "carol", "dave"]}),
    );
    assert_eq!(
        r["UserIdList"],
        json!([{"Member_Account": "alice", "Role": "Owner"}, {"Member_Account": "carol", "Role": "Admin"},
               {"Member_Account": "dave", "Role": "NotMember"}])
    );
    let r = ok(
        &mut w,
        "group_open_http_svc/get_specified_group_member_info",
        json!({"GroupId": gid, "Member_List_Account": ["bob", "dave"], "MemberInfoFilter": ["Role"]}),
    );
    assert_eq!(r["MemberList"], json!([{"Member_Account": "bob", "Role": "Member"}]));
    send(&mut w, &gid, "bob", "one");
    send(&mut w, &gid, "alice", "two");
    send(&mut w, &gid, "bob", "three");
    let (reply, events) = run(
        &mut w,
        "group_open_http_svc/import_group_member",
        json!({"GroupId": gid, "MemberList": [{"Member_Account": "dave", "UnreadMsgNum": 9, "JoinTime": 900},
                                               {"Member_Account": "bob"}, {"Member_Account": "ghost"}]}),
    )
    .unwrap();
    assert!(events.is_empty());
    assert_eq!(
        reply["MemberList"],
        json!([{"Member_Account": "dave", "Result": 1}, {"Member_Account": "bob", "Result": 2},
               {"Member_Account": "ghost", "Result": 0}])
    );
    assert_eq!(w.groups.unread(&gid, "dave"), Some(3));
    assert_eq!(w.groups.get(&gid).unwrap().member("dave").unwrap().join_time, 900);
    ok(
        &mut w,
        "group_open_http_svc/delete_group_msg_by_sender",
        json!({"GroupId": gid, "Sender_Account": "bob"}),
    );
    let r =
        ok(&mut w, "group_open_http_svc/group_msg_get_simple", json!({"GroupId": gid, "ReqMsgNumber": 10}));
    assert_eq!(r["RspMsgList"].as_array().unwrap().len(), 1);
    assert_eq!(r["RspMsgList"][0]["From_Account"], json!("alice"));
    ok(&mut w, "group_open_http_svc/clear_group_msg", json!({"GroupId": gid, "MsgSeq": 2}));
    assert_eq!(w.groups.get(&gid).unwrap().cleared_seq, 2);
}

#[test]
fn forgetting_an_account() {
    let mut w = world();
    let gid = public_group(&mut w);
    send(&mut w, &gid, "bob", "one");
    ok(
        &mut w,
        "group_open_http_svc/forbid_send_msg",
        json!({"GroupId": gid, "Members_Account": ["alice"], "MuteTime": 60}),
    );
    ok(
        &mut w,
        "group_open_http_svc/group_msg_receipt",
        json!({"GroupId": gid, "From_Account": "alice", "MsgSeqList": [{"MsgSeq": 1}]}),
    );
    assert!(w.groups.mentions_account("alice"));
    w.forget_account("alice");
    assert!(!w.groups.mentions_account("alice"));
    let g = w.groups.get(&gid).unwrap();
    assert_eq!(g.owner, None);
    assert_eq!(g.members().len(), 2);
    assert!(w.groups.mentions_account("bob"));
}

#[test]
fn import_group_then_members_then_messages_then_history() {
    let mut w = world();
    let (r, events) = run(
        &mut w,
        "group_open_http_svc/import_group",
        json!({"Owner_Account": "alice", "Type": "Public", "Name": "old", "GroupId": "legacy", "CreateTime": 500}),
    )
    .expect("imported");
    assert_eq!(r["GroupId"], "legacy");
    assert!(events.is_empty(), "imports fire no callbacks");
    assert_eq!(w.groups.get("legacy").unwrap().create_time, 500);
    ok(
        &mut w,
        "group_open_http_svc/import_group_member",
        json!({"GroupId": "legacy", "MemberList": [{"Member_Account": "bob", "JoinTime": 600}]}),
    );
    let msg = |from: &str, time: u64, text: &str| {
        json!({"From_Account": from, "SendTime": time, "Random": 1,
               "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]})
    };
    let r = ok(
        &mut w,
        "group_open_http_svc/import_group_msg",
        json!({"GroupId": "legacy", "MsgList": [msg("alice", 700, "one"), msg("bob", 800, "two"), msg("bob", 5_000, "future")]}),
    );
    let results = r["ImportMsgResult"].as_array().unwrap();
    assert_eq!(results[0]["Result"], 0);
    assert_eq!(results[1]["MsgSeq"], 2);
    let invalid =
        crate::world::testing::named_code("group_open_http_svc/import_group_msg", "InvalidParameter");
    assert_eq!(results[2]["Result"], invalid, "a SendTime in the future is refused");
    let big = "x".repeat(13_000);
    let r = ok(
        &mut w,
        "group_open_http_svc/import_group_msg",
        json!({"GroupId": "legacy", "MsgList": [msg("bob", 900, &big)]}),
    );
    let too_long =
        crate::world::testing::named_code("group_open_http_svc/import_group_msg", "MessageOverSizeLimit");
    assert_eq!(r["ImportMsgResult"][0]["Result"], too_long);
    let history = ok(
        &mut w,
        "group_open_http_svc/group_msg_get_simple",
        json!({"GroupId": "legacy", "ReqMsgNumber": 10}),
    );
    let texts: Vec<&str> = history["RspMsgList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["two", "one"]);
    // A migration leaves no unread backlog.
    assert_eq!(w.groups.unread("legacy", "bob"), Some(0));
}
