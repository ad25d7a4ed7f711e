//! Helpers to test callback handlers without Tencent: signed queries,
//! bodies and whole requests as Tencent sends them, to feed to
//! [`CallbackReceiver::handle`](super::CallbackReceiver::handle) or to a
//! server.
//!
//! ```
//! use tim_core::callback::testing;
//!
//! let query = testing::signed_query(1400000000, "C2C.CallbackAfterSendMsg", "token", 1669872112);
//! assert!(query.starts_with("SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&"));
//! ```

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Uri};
use serde_json::Value;

use super::event::{CallbackKind, CallbackMeta, CallbackPayload};
use super::verify::compute_sign;
use crate::query::encode;
use crate::usersig::unix_now;

/// The query Tencent sends with callback authentication on: `SdkAppid`,
/// `CallbackCommand`, `contenttype=json`, `ClientIP=127.0.0.1`,
/// `OptPlatform=RESTAPI`, `RequestTime` and `Sign` (from `token`).
pub fn signed_query(sdkappid: u64, command: &str, token: &str, request_time: u64) -> String {
    let sign = compute_sign(token, request_time);
    format!("{}&RequestTime={request_time}&Sign={sign}", unsigned_query(sdkappid, command))
}

/// The query Tencent sends with callback authentication off (no
/// `RequestTime` nor `Sign`).
pub fn unsigned_query(sdkappid: u64, command: &str) -> String {
    format!(
        "SdkAppid={sdkappid}&CallbackCommand={}&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
        encode(command)
    )
}

/// The body Tencent sends for `payload`: its JSON with `CallbackCommand`
/// added. A payload that does not serialize to a JSON object (not one of the
/// generated payloads) is sent as serialized, or as `{}` plus the command
/// when it does not serialize at all.
pub fn body_for<P: CallbackPayload>(payload: &P) -> Vec<u8> {
    let mut value = serde_json::to_value(payload).unwrap_or_else(|_| Value::Object(Default::default()));
    if let Value::Object(map) = &mut value {
        map.insert("CallbackCommand".into(), Value::from(P::META.command));
    }
    serde_json::to_vec(&value).unwrap_or_default()
}

/// A POST of `payload` to `/`, signed with `token` at the current time.
pub fn signed_request<P: CallbackPayload>(payload: &P, sdkappid: u64, token: &str) -> Request<Bytes> {
    signed_request_at(payload, sdkappid, token, unix_now())
}

/// [`signed_request`] at `request_time` (Unix seconds), e.g. to test the window.
pub fn signed_request_at<P: CallbackPayload>(
    payload: &P,
    sdkappid: u64,
    token: &str,
    request_time: u64,
) -> Request<Bytes> {
    signed_raw_request_at(sdkappid, P::META.command, token, body_for(payload), request_time)
}

/// A POST of any `body` for `command` to `/`, signed with `token` at the
/// current time: for bodies no payload type produces (malformed, unknown
/// commands).
pub fn signed_raw_request(
    sdkappid: u64,
    command: &str,
    token: &str,
    body: impl Into<Bytes>,
) -> Request<Bytes> {
    signed_raw_request_at(sdkappid, command, token, body, unix_now())
}

/// [`signed_raw_request`] at `request_time` (Unix seconds).
pub fn signed_raw_request_at(
    sdkappid: u64,
    command: &str,
    token: &str,
    body: impl Into<Bytes>,
    request_time: u64,
) -> Request<Bytes> {
    request_with_query(&signed_query(sdkappid, command, token, request_time), body)
}

/// A POST of `body` to `/?{query}`, with `Content-Type: application/json`;
/// for requests the other helpers do not make (forged, partial queries). A
/// query that is not valid in a URI gives a request to `/` without one.
pub fn request_with_query(query: &str, body: impl Into<Bytes>) -> Request<Bytes> {
    let mut req = Request::new(body.into());
    *req.method_mut() = Method::POST;
    *req.uri_mut() = Uri::try_from(format!("/?{query}")).unwrap_or_else(|_| Uri::from_static("/"));
    req.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    req
}

/// A description of `command` with no decisions, for a hand-written
/// [`CallbackSet`](super::CallbackSet) in tests (the generated one has its
/// own); `CallbackMeta` cannot be built outside this crate otherwise.
pub const fn meta(command: &'static str, kind: CallbackKind) -> CallbackMeta {
    CallbackMeta { command, title: "", kind, decisions: &[], partial: None, limits: &[] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::test_set::{before, BeforeSendMsg, APP, BEFORE, TOKEN};
    use crate::callback::{CallbackParseError, CallbackVerifier};

    #[test]
    fn signed_query_verifies_and_carries_the_usual_parameters() {
        let q = signed_query(APP, BEFORE, TOKEN, 1_669_872_112);
        assert!(q.ends_with("&Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"), "{q}");
        let v = CallbackVerifier::new(APP, TOKEN).unwrap();
        let parsed = v.verify_query_at(&q, 1_669_872_112).unwrap();
        assert_eq!(parsed.command, BEFORE);
        assert_eq!(parsed.client_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(parsed.opt_platform.as_deref(), Some("RESTAPI"));
        assert_eq!(parsed.content_type.as_deref(), Some("json"));
        // Commands are encoded: an odd one cannot smuggle parameters in.
        let odd = signed_query(APP, "A&Sign=x", TOKEN, 1);
        assert_eq!(v.verify_query_at(&odd, 1).unwrap().command, "A&Sign=x");
    }

    #[test]
    fn body_for_adds_the_command_and_parses_back() {
        let body = body_for(&before());
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["CallbackCommand"], BEFORE);
        assert_eq!(CallbackParseError::parse::<BeforeSendMsg>(BEFORE, &body).unwrap(), before());
    }

    #[test]
    fn requests_are_posts_to_the_root() {
        let req = signed_request_at(&before(), APP, TOKEN, 5);
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().path(), "/");
        assert_eq!(req.uri().query(), Some(signed_query(APP, BEFORE, TOKEN, 5).as_str()));
        assert_eq!(req.body().as_ref(), body_for(&before()).as_slice());
        // A query no URI can hold gives a request without one, not a panic.
        assert_eq!(request_with_query("a b\n", "").uri(), "/");
    }
}
