//! Properties of callback verification and parsing with the generated
//! callback set: the sign holds inside the window and nowhere else, any
//! change to the sign, time or app is refused, and no body, however
//! malformed, makes the receiver panic.

use proptest::prelude::*;
use serde_json::{Map, Value};
use tim_conformance::fixtures::{default_dir, load_callbacks, CallbackFixture};
use tim_core::callback::testing::signed_query;
use tim_core::callback::{CallbackAuthError, CallbackReceiver, CallbackRejection, CallbackSet, CallbackVerifier};
use tim_runtime::api::callbacks::{Callback, CALLBACKS};

const APPID: u64 = 1_400_000_777;
const TOKEN: &str = "property-token";
/// Well after 2020, so that a window of ±60 s never goes below zero.
const EPOCH: u64 = 1_700_000_000;

fn verifier() -> CallbackVerifier {
    CallbackVerifier::new(APPID, TOKEN).unwrap()
}

fn fixtures() -> Vec<CallbackFixture> {
    load_callbacks(&default_dir()).unwrap()
}

fn request(query: &str, body: Vec<u8>) -> http::request::Parts {
    let (parts, ()) =
        http::Request::post(format!("/?{query}")).body(()).unwrap().into_parts();
    drop(body);
    parts
}

proptest! {
    #[test]
    fn the_sign_holds_inside_the_window_only(t in EPOCH..EPOCH * 2, skew in -60i64..=60, far in 61u64..1_000_000) {
        let v = verifier();
        let q = signed_query(APPID, "C2C.CallbackAfterSendMsg", TOKEN, t);
        let now = t.checked_add_signed(skew).unwrap();
        prop_assert!(v.verify_query_at(&q, now).is_ok());
        prop_assert_eq!(v.verify_query_at(&q, t + far).unwrap_err(), CallbackAuthError::Expired { age_secs: far });
        prop_assert_eq!(v.verify_query_at(&q, t - far).unwrap_err(), CallbackAuthError::FromTheFuture { ahead_secs: far });
    }

    #[test]
    fn any_change_to_sign_time_or_app_is_refused(t in EPOCH..EPOCH * 2, at in 0usize..64, delta in 1u64..60, other in 1u64..u64::MAX) {
        let v = verifier();
        let q = signed_query(APPID, "Group.CallbackAfterSendMsg", TOKEN, t);
        let sign = q.rsplit("Sign=").next().unwrap().to_owned();
        // One hex digit changed.
        let mut changed = sign.clone().into_bytes();
        changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
        let forged = q.replace(&sign, std::str::from_utf8(&changed).unwrap());
        prop_assert_eq!(v.verify_query_at(&forged, t).unwrap_err(), CallbackAuthError::BadSign);
        // Another time with the old sign, still inside the window.
        let shifted = q.replace(&format!("RequestTime={t}"), &format!("RequestTime={}", t + delta));
        prop_assert_eq!(v.verify_query_at(&shifted, t).unwrap_err(), CallbackAuthError::BadSign);
        // Another app, even correctly signed.
        let app = APPID.wrapping_add(other);
        prop_assume!(app != APPID);
        let foreign = signed_query(app, "Group.CallbackAfterSendMsg", TOKEN, t);
        let refused = v.verify_query_at(&foreign, t).unwrap_err();
        prop_assert!(matches!(refused, CallbackAuthError::OtherApp { .. }), "{}", refused);
    }

    #[test]
    fn arbitrary_bodies_with_a_valid_sign_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        pick in 0usize..200,
        made_up in "[A-Z][a-z]{1,8}\\.Callback[A-Z][a-z]{1,12}",
    ) {
        let receiver = CallbackReceiver::<Callback>::new(verifier().clock(|| EPOCH));
        let command = CALLBACKS.get(pick).map_or(made_up.as_str(), |m| m.command);
        let parts = request(&signed_query(APPID, command, TOKEN, EPOCH), body.clone());
        match receiver.verify_and_parse(&parts, &body) {
            Ok(event) => {
                prop_assert_eq!(event.callback.command(), command);
                prop_assert_eq!(event.callback.is_known(), CALLBACKS.iter().any(|m| m.command == command));
            }
            Err(CallbackRejection::BadBody(e)) => prop_assert!(!e.to_string().is_empty()),
            Err(other) => prop_assert!(false, "refused for {other} although signed"),
        }
    }

    #[test]
    fn unknown_commands_with_object_bodies_come_back_as_unknown(
        fields in proptest::collection::btree_map("[A-Za-z_]{1,12}", any::<i32>(), 0..6),
        made_up in "[A-Z][a-z]{1,8}\\.Callback[A-Z][a-z]{1,12}",
    ) {
        prop_assume!(!CALLBACKS.iter().any(|m| m.command == made_up));
        let body: Map<String, Value> = fields.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
        let body = Value::Object(body);
        let cb = Callback::parse(&made_up, &serde_json::to_vec(&body).unwrap()).unwrap();
        let kept = matches!(&cb, Callback::Unknown { command, body: b } if *command == made_up && *b == body);
        prop_assert!(kept, "{:?}", cb);
    }

    #[test]
    fn documented_bodies_with_unknown_fields_and_either_event_time_parse(
        pick in any::<prop::sample::Index>(),
        extra in proptest::collection::btree_map("[A-Z][A-Za-z_]{3,12}", any::<i64>(), 0..4),
        time in 1_500_000_000_000u64..1_900_000_000_000,
        as_text in any::<bool>(),
    ) {
        let all = fixtures();
        let f = &all[pick.index(all.len())];
        let mut body = f.body.as_object().cloned().unwrap_or_default();
        for (k, v) in extra {
            body.entry(k).or_insert(Value::from(v));
        }
        if body.contains_key("EventTime") {
            body.insert("EventTime".into(), if as_text { Value::from(time.to_string()) } else { Value::from(time) });
        }
        let cb = Callback::parse(&f.command, &serde_json::to_vec(&body).unwrap());
        prop_assert!(cb.as_ref().is_ok_and(CallbackSet::is_known), "{}: {:?}", f.file.display(), cb.err());
    }
}
