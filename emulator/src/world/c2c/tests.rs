//! Unit tests of the one-to-one message endpoints.

use serde_json::{json, Value};

use super::super::{Done, Handled, World};

use super::super::testing::{call, exec, exec_ok, world};

/// Runs a call as the mock server does (see `testing::exec`).
fn run(w: &mut World, path: &str, body: Value, now: u64) -> Handled {
    exec(w, path, body, now)
}

/// A successful call.
fn ok(w: &mut World, path: &str, body: Value, now: u64) -> Done {
    exec_ok(w, path, body, now)
}

fn code(w: &mut World, path: &str, body: Value, now: u64) -> i64 {
    match run(w, path, body, now) {
        Ok(d) => panic!("{path} succeeded: {:?}", d.reply),
        Err(r) => r.code,
    }
}

fn code_of(path: &str, name: &str) -> i64 {
    let entry = tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &format!("v4/{path}"));
    let meta = entry.map(|e| e.meta).unwrap_or_else(|| panic!("no endpoint {path}"));
    meta.errors.iter().find(|e| e.name == name).map(|e| e.code).unwrap_or_else(|| panic!("no {name}"))
}

fn send(w: &mut World, from: &str, to: &str, text: &str, now: u64) -> String {
    let d = ok(
        w,
        "openim/sendmsg",
        json!({"From_Account": from, "To_Account": to, "MsgRandom": 7,
               "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}),
        now,
    );
    d.reply.get("MsgKey").and_then(Value::as_str).map(str::to_owned).unwrap_or_default()
}

fn roam(w: &mut World, op: &str, peer: &str, max: u64, max_time: u64, last: Option<&str>) -> Value {
    let mut body = json!({"Operator_Account": op, "Peer_Account": peer, "MaxCnt": max, "MinTime": 0, "MaxTime": max_time});
    if let Some(k) = last {
        body["LastMsgKey"] = json!(k);
    }
    Value::Object(ok(w, "openim/admin_getroammsg", body, 2000).reply)
}

#[test]
fn sends_count_unread_per_peer_and_in_total() {
    let mut w = world(&["a", "b", "c"]);
    for i in 0..3 {
        send(&mut w, "a", "b", &format!("m{i}"), 1000);
    }
    send(&mut w, "c", "b", "hi", 1001);
    assert_eq!(w.c2c.unread("b", "a"), 3);
    assert_eq!(w.c2c.total_unread("b"), 4);
    assert_eq!(w.c2c.unread("a", "b"), 0);
    let d = ok(&mut w, "openim/get_c2c_unread_msg_num", json!({"To_Account": "b"}), 1002);
    assert_eq!(d.reply["AllC2CUnreadMsgNum"], json!(4));
    let d = ok(
        &mut w,
        "openim/get_c2c_unread_msg_num",
        json!({"To_Account": "b", "Peer_Account": ["a", "nobody"]}),
        1002,
    );
    assert_eq!(d.reply["C2CUnreadMsgNumList"], json!([{"Peer_Account": "a", "C2CUnreadMsgNum": 3}]));
    assert_eq!(d.reply["ErrorList"][0]["Peer_Account"], json!("nobody"));
    let msgs = w.c2c.messages_between("b", "a");
    assert_eq!(msgs.len(), 3);
    assert_eq!(serde_json::to_value(&msgs[0].body).unwrap()[0]["MsgContent"]["Text"], json!("m0"));
}

#[test]
fn send_refuses_unknown_accounts_with_documented_codes() {
    let mut w = world(&["a"]);
    let body = json!({"From_Account": "a", "To_Account": "ghost", "MsgRandom": 1, "MsgBody": []});
    assert_eq!(
        code(&mut w, "openim/sendmsg", body.clone(), 1),
        code_of("openim/sendmsg", "ToAccountNotFound")
    );
    let c = call("openim/sendmsg", &body, 1);
    assert!(w.before(&c).is_some_and(|r| r.is_err()));
    let body = json!({"From_Account": "ghost", "To_Account": "a", "MsgRandom": 1, "MsgBody": []});
    assert_eq!(code(&mut w, "openim/sendmsg", body, 1), code_of("openim/sendmsg", "InvalidUserId"));
    assert!(w.c2c.threads.is_empty());
}

#[test]
fn before_and_after_callbacks_carry_the_stored_key() {
    let mut w = world(&["a", "b"]);
    let body = json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 9, "MsgBody": [], "CloudCustomData": "x"});
    let c = call("openim/sendmsg", &body, 500);
    let events = w.before(&c).and_then(Result::ok).unwrap_or_default();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].command, "C2C.CallbackBeforeSendMsg");
    let d = ok(&mut w, "openim/sendmsg", body.clone(), 500);
    assert_eq!(events[0].payload["MsgKey"], d.reply["MsgKey"]);
    // The before-callback, then the after-callback.
    assert_eq!(d.events.len(), 2);
    assert_eq!(d.events[0].payload["MsgKey"], d.reply["MsgKey"]);
    let after = &d.events[1];
    assert_eq!(after.command, "C2C.CallbackAfterSendMsg");
    assert_eq!(after.payload["UnreadMsgNum"], json!(1));
    assert_eq!(after.payload["CloudCustomData"], json!("x"));
    assert_eq!(after.payload["OnlineOnlyFlag"], json!(0));

    let mut body = body;
    body["ForbidCallbackControl"] = json!(["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]);
    let c = call("openim/sendmsg", &body, 501);
    assert_eq!(w.before(&c).and_then(Result::ok), Some(Vec::new()));
    assert!(ok(&mut w, "openim/sendmsg", body, 501).events.is_empty());
    assert_eq!(w.c2c.unread("b", "a"), 2);
}

#[test]
fn online_only_and_no_unread_messages() {
    let mut w = world(&["a", "b"]);
    let d = ok(
        &mut w,
        "openim/sendmsg",
        json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "MsgLifeTime": 0, "MsgBody": []}),
        10,
    );
    assert_eq!(d.events[0].payload["OnlineOnlyFlag"], json!(1));
    assert!(w.c2c.messages_between("a", "b").is_empty());
    ok(
        &mut w,
        "openim/sendmsg",
        json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "SendMsgControl": ["NoUnread"], "MsgBody": []}),
        10,
    );
    assert_eq!(w.c2c.messages_between("a", "b").len(), 1);
    assert_eq!(w.c2c.unread("b", "a"), 0);
}

#[test]
fn set_msg_read_clears_up_to_the_read_time() {
    let mut w = world(&["a", "b"]);
    send(&mut w, "a", "b", "old", 100);
    send(&mut w, "a", "b", "old2", 100);
    send(&mut w, "a", "b", "new", 200);
    let d = ok(
        &mut w,
        "openim/admin_set_msg_read",
        json!({"Report_Account": "b", "Peer_Account": "a", "MsgReadTime": "150"}),
        300,
    );
    assert_eq!(w.c2c.unread("b", "a"), 1);
    assert_eq!(d.events[0].command, "C2C.CallbackAfterMsgReport");
    assert_eq!(d.events[0].payload["LastReadTime"], json!(150));
    assert_eq!(d.events[0].payload["UnreadMsgNum"], json!(1));
    let d = ok(&mut w, "openim/admin_set_msg_read", json!({"Report_Account": "b", "Peer_Account": "a"}), 300);
    assert_eq!(w.c2c.unread("b", "a"), 0);
    assert_eq!(d.events[0].payload["LastReadTime"], json!(300));
    let missing =
        code(&mut w, "openim/admin_set_msg_read", json!({"Report_Account": "x", "Peer_Account": "a"}), 1);
    assert_eq!(missing, code_of("openim/admin_set_msg_read", "FromAccountInvalid"));
}

#[test]
fn receipts_set_is_peer_read() {
    let mut w = world(&["a", "b"]);
    let k1 = send(&mut w, "a", "b", "1", 100);
    let _k2 = send(&mut w, "a", "b", "2", 101);
    ok(
        &mut w,
        "openim/c2c_msg_read_receipt",
        json!({"Operator_Account": "b", "Peer_Account": "a",
               "C2CMsgInfo": [{"From_Account": "a", "To_Account": "b", "MsgKey": k1}]}),
        102,
    );
    let page = roam(&mut w, "a", "b", 10, 1000, None);
    let flags: Vec<&Value> =
        page["MsgList"].as_array().into_iter().flatten().map(|m| &m["IsPeerRead"]).collect();
    assert_eq!(flags, [&json!(1), &json!(0)]);
    let wrong = code(
        &mut w,
        "openim/c2c_msg_read_receipt",
        json!({"Operator_Account": "b", "Peer_Account": "a",
               "C2CMsgInfo": [{"From_Account": "b", "To_Account": "a", "MsgKey": k1}]}),
        102,
    );
    assert_ne!(wrong, 0);
}

#[test]
fn roam_pages_return_every_message_once() {
    let mut w = world(&["a", "b"]);
    let mut keys = Vec::new();
    for i in 0..7u64 {
        let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
        keys.push(send(&mut w, from, to, &format!("{i}"), 100 + i / 2));
    }
    let mut got = Vec::new();
    let (mut max_time, mut last) = (1000u64, None::<String>);
    for _ in 0..10 {
        let page = roam(&mut w, "a", "b", 3, max_time, last.as_deref());
        let list = page["MsgList"].as_array().cloned().unwrap_or_default();
        assert_eq!(page["MsgCnt"], json!(list.len()));
        let mut texts: Vec<String> =
            list.iter().map(|m| m["MsgKey"].as_str().unwrap_or_default().to_owned()).collect();
        texts.append(&mut got);
        got = texts;
        if page["Complete"] == json!(1) {
            break;
        }
        max_time = page["LastMsgTime"].as_u64().unwrap_or(0);
        last = page["LastMsgKey"].as_str().map(str::to_owned);
    }
    assert_eq!(got, keys);
}

#[test]
fn withdraw_flags_the_message_and_fires_the_callback() {
    let mut w = world(&["a", "b"]);
    let k = send(&mut w, "a", "b", "oops", 100);
    send(&mut w, "a", "b", "fine", 101);
    let d = ok(
        &mut w,
        "openim/admin_msgwithdraw",
        json!({"From_Account": "a", "To_Account": "b", "MsgKey": k}),
        102,
    );
    assert_eq!(d.events[0].command, "C2C.CallbackAfterMsgWithDraw");
    assert_eq!(d.events[0].payload["UnreadMsgNum"], json!(1));
    assert_eq!(w.c2c.unread("b", "a"), 1);
    let page = roam(&mut w, "b", "a", 10, 1000, None);
    assert_eq!(page["MsgList"][0]["MsgFlagBits"], json!(8));
    assert_eq!(page["MsgList"][0]["MsgBody"], json!([]));
    assert_eq!(page["MsgList"][1]["MsgFlagBits"], json!(0));
    let not_found = code_of("openim/admin_msgwithdraw", "MessageNotFound");
    let again = json!({"From_Account": "a", "To_Account": "b", "MsgKey": k});
    let recalled = code_of("openim/admin_msgwithdraw", "AlreadyRecalled");
    assert_eq!(code(&mut w, "openim/admin_msgwithdraw", again, 103), recalled);
    let unknown = json!({"From_Account": "a", "To_Account": "b", "MsgKey": "1_2_3"});
    assert_eq!(code(&mut w, "openim/admin_msgwithdraw", unknown, 103), not_found);
}

#[test]
fn modify_replaces_body_and_custom_data() {
    let mut w = world(&["a", "b"]);
    let k = send(&mut w, "a", "b", "before", 100);
    ok(
        &mut w,
        "openim/modify_c2c_msg",
        json!({"From_Account": "a", "To_Account": "b", "MsgKey": k,
               "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "after"}}], "CloudCustomData": "cd"}),
        101,
    );
    let m = w.c2c.message("a", "b", &k).cloned().unwrap_or_default();
    assert_eq!(serde_json::to_value(&m.body).unwrap()[0]["MsgContent"]["Text"], json!("after"));
    assert_eq!(m.cloud_custom_data.as_deref(), Some("cd"));
    let bad = json!({"From_Account": "b", "To_Account": "a", "MsgKey": k, "CloudCustomData": "x"});
    assert!(run(&mut w, "openim/modify_c2c_msg", bad, 102).is_err());
}

#[test]
fn delete_ramble_hides_for_one_side() {
    let mut w = world(&["a", "b"]);
    let k = send(&mut w, "a", "b", "x", 100);
    let d = ok(
        &mut w,
        "openim/delete_c2c_msg_ramble",
        json!({"Operator_Account": "b", "Peer_Account": "a", "MsgKeyList": [k, "9_9_9"]}),
        101,
    );
    assert_eq!(d.reply["InvalidMsgKeyList"], json!(["9_9_9"]));
    assert_eq!(roam(&mut w, "b", "a", 10, 1000, None)["MsgCnt"], json!(0));
    assert_eq!(roam(&mut w, "a", "b", 10, 1000, None)["MsgCnt"], json!(1));
    assert_eq!(w.c2c.unread("b", "a"), 0);
}

#[test]
fn sync_other_machine_2_keeps_it_out_of_the_senders_history() {
    let mut w = world(&["a", "b"]);
    ok(
        &mut w,
        "openim/sendmsg",
        json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "SyncOtherMachine": 2, "MsgBody": []}),
        100,
    );
    assert_eq!(roam(&mut w, "a", "b", 10, 1000, None)["MsgCnt"], json!(0));
    assert_eq!(roam(&mut w, "b", "a", 10, 1000, None)["MsgCnt"], json!(1));
    assert!(w.c2c.conversations_of("a").is_empty());
    assert_eq!(w.c2c.conversations_of("b").len(), 1);
}

#[test]
fn extensions_round_trip() {
    let mut w = world(&["a", "b"]);
    let d = ok(
        &mut w,
        "openim/sendmsg",
        json!({"From_Account": "a", "To_Account": "b", "MsgRandom": 1, "SupportMessageExtension": 1, "MsgBody": []}),
        100,
    );
    let k = d.reply["MsgKey"].as_str().unwrap_or_default().to_owned();
    let plain = send(&mut w, "a", "b", "no ext", 100);
    let set = |key: &str, op: u64, list: Value| json!({"From_Account": "a", "To_Account": "b", "MsgKey": key, "OperateType": op, "ExtensionList": list});
    let d = ok(
        &mut w,
        "openim_msg_ext_http_svc/set_key_values",
        set(&k, 1, json!([{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])),
        101,
    );
    assert_eq!(
        d.reply["ExtensionList"][1],
        json!({"ErrorCode": 0, "Extension": {"Key": "k2", "Value": "v2", "Seq": 1}})
    );
    assert_eq!(d.events[0].command, "C2C.CallbackAfterC2CMsgExtension");
    ok(
        &mut w,
        "openim_msg_ext_http_svc/set_key_values",
        set(&k, 1, json!([{"Key": "k3", "Value": "v3"}])),
        102,
    );
    ok(
        &mut w,
        "openim_msg_ext_http_svc/set_key_values",
        set(&k, 2, json!([{"Key": "k1", "Value": ""}])),
        103,
    );
    let get = json!({"To_Account": "b", "MsgKey": k});
    let d = ok(&mut w, "openim_msg_ext_http_svc/get_key_values", get, 104);
    assert_eq!(
        d.reply["ExtensionList"],
        json!([{"Key": "k2", "Value": "v2", "Seq": 1}, {"Key": "k3", "Value": "v3", "Seq": 2}])
    );
    assert_eq!(d.reply["LatestSeq"], json!(3));
    assert_eq!(d.reply["CompleteFlag"], json!(1));
    let d = ok(
        &mut w,
        "openim_msg_ext_http_svc/get_key_values",
        json!({"To_Account": "b", "MsgKey": k, "StartSeq": 2}),
        104,
    );
    assert_eq!(d.reply["ExtensionList"].as_array().map(Vec::len), Some(1));
    ok(
        &mut w,
        "openim_msg_ext_http_svc/set_key_values",
        json!({"To_Account": "b", "MsgKey": k, "OperateType": 3}),
        105,
    );
    let d =
        ok(&mut w, "openim_msg_ext_http_svc/get_key_values", json!({"To_Account": "b", "MsgKey": k}), 106);
    assert_eq!(d.reply["ExtensionList"], json!([]));
    assert_eq!(d.reply["ClearSeq"], json!(4));
    let path = "openim_msg_ext_http_svc/set_key_values";
    assert_eq!(
        code(&mut w, path, set(&plain, 1, json!([{"Key": "a", "Value": "b"}])), 107),
        code_of(path, "ExtensionNotSupported")
    );
    assert_eq!(code(&mut w, path, set("1_1_1", 1, json!([])), 107), code_of(path, "MessageNotFound"));
}

#[test]
fn batch_send_reports_missing_recipients() {
    let mut w = world(&["a", "b", "c"]);
    let d = ok(
        &mut w,
        "openim/batchsendmsg",
        json!({"From_Account": "a", "To_Account": ["b", "ghost", "c"], "MsgRandom": 5, "MsgBody": []}),
        100,
    );
    assert_eq!(d.reply["ActionStatus"], json!("SomeError"));
    assert_eq!(d.reply["ErrorList"][0]["To_Account"], json!("ghost"));
    let key = d.reply["MsgKey"].as_str().unwrap_or_default();
    assert!(w.c2c.message("a", "b", key).is_some() && w.c2c.message("a", "c", key).is_some());
    assert!(d.events.is_empty());
    let none = json!({"To_Account": ["x", "y"], "MsgRandom": 5, "MsgBody": []});
    assert_eq!(
        code(&mut w, "openim/batchsendmsg", none, 100),
        code_of("openim/batchsendmsg", "ToAccountNotFound")
    );
}

#[test]
fn import_uses_the_given_time_and_deduplicates() {
    let mut w = world(&["a", "b"]);
    let body = json!({"SyncFromOldSystem": 2, "From_Account": "a", "To_Account": "b", "MsgSeq": 4, "MsgRandom": 5,
                      "MsgTimeStamp": 1_556_178_721u64, "MsgBody": []});
    let d = ok(&mut w, "openim/importmsg", body.clone(), 2_000_000_000);
    assert!(d.events.is_empty());
    ok(&mut w, "openim/importmsg", body, 2_000_000_000);
    let msgs = w.c2c.messages_between("a", "b");
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].time, 1_556_178_721);
    assert_eq!(msgs[0].key, "4_5_1556178721");
    assert_eq!(w.c2c.unread("b", "a"), 0);
    let realtime = json!({"SyncFromOldSystem": 5, "From_Account": "b", "To_Account": "a", "MsgRandom": 6,
                          "MsgTimeStamp": 1_556_178_800u64, "MsgBody": []});
    ok(&mut w, "openim/importmsg", realtime, 2_000_000_000);
    assert_eq!(w.c2c.unread("a", "b"), 1);
}

#[test]
fn state_survives_a_json_round_trip() {
    let mut w = world(&["a", "b"]);
    let k = send(&mut w, "a", "b", "kept", 100);
    ok(&mut w, "openim/admin_msgwithdraw", json!({"From_Account": "a", "To_Account": "b", "MsgKey": k}), 101);
    send(&mut w, "b", "a", "unread", 102);
    let text = serde_json::to_string(&w).unwrap_or_default();
    let back: World = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.c2c.messages_between("a", "b").len(), 2);
    assert!(back.c2c.message("a", "b", &k).is_some_and(|m| m.recalled));
    assert_eq!(back.c2c.unread("a", "b"), 1);
    assert_eq!(back.c2c.counter, w.c2c.counter);
}

#[test]
fn forget_account_removes_its_threads() {
    let mut w = world(&["a", "b", "c"]);
    send(&mut w, "a", "b", "x", 1);
    send(&mut w, "c", "a", "y", 1);
    send(&mut w, "b", "c", "z", 1);
    assert!(w.mentions_account("a"));
    w.forget_account("a");
    assert!(!w.mentions_account("a"));
    assert!(w.c2c.conversations_of("b").iter().all(|c| c.peer != "a"));
    assert_eq!(w.c2c.messages_between("b", "c").len(), 1);
}

#[test]
fn message_bodies_over_the_spec_limit_get_their_documented_codes() {
    use crate::world::testing::{exec, meta, named_code, world};
    let mut w = world(&["alice", "bob"]);
    let big = |n: usize| json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x".repeat(n)}}]);
    for (path, name, body) in [
        (
            "openim/sendmsg",
            "PacketTooLarge",
            json!({"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1}),
        ),
        (
            "openim/batchsendmsg",
            "BatchMsgBodyTooLong",
            json!({"From_Account": "alice", "To_Account": ["bob"], "MsgRandom": 1}),
        ),
    ] {
        let max = meta(path).limit("msg_body_bytes").unwrap().max as usize;
        let mut over = body.clone();
        over["MsgBody"] = big(max);
        let r = exec(&mut w, path, over, 1_000);
        assert_eq!(r.unwrap_err().code, named_code(path, name), "{path}");
        let mut fits = body;
        fits["MsgBody"] = big(max - 100);
        assert!(exec(&mut w, path, fits, 1_000).is_ok(), "{path}");
    }
    assert_eq!(w.c2c.unread("bob", "alice"), 2);
}
