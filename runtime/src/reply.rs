//! Turns a raw HTTP reply into a typed response or an [`Error`].
//!
//! Decoding happens in two steps so that an error reply never has to match the
//! success schema: the envelope decides success or failure, and only a success
//! is decoded into the endpoint's response type.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::endpoint::ApiErrorKind;
use crate::error::{snippet, Error};

/// The fields every reply carries.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "ActionStatus", default)]
    action_status: Option<String>,
    #[serde(rename = "ErrorCode", default)]
    error_code: Option<i64>,
    #[serde(rename = "ErrorInfo", default)]
    error_info: Option<String>,
}

/// Decodes a reply with HTTP `status` and `body`.
pub(crate) fn decode<T: DeserializeOwned, E: ApiErrorKind>(status: u16, body: &[u8]) -> Result<T, Error<E>> {
    if !(200..300).contains(&status) {
        return Err(Error::Http { status, body_snippet: snippet(body) });
    }
    let decode_err =
        |path: String, message: String| Error::Decode { path, message, body_snippet: snippet(body) };
    let env: Envelope = deserialize_at_path(body).map_err(|(p, m)| decode_err(p, m))?;
    let ok = env.action_status.as_deref().map(|s| s.eq_ignore_ascii_case("OK"));
    let info = env.error_info.unwrap_or_default();
    match (ok, env.error_code) {
        (_, Some(code)) if code != 0 => return Err(Error::Api(E::from_reply(code, info))),
        (Some(false), Some(code)) => return Err(Error::Api(E::from_reply(code, info))),
        (Some(false), None) => {
            return Err(decode_err(
                "ErrorCode".into(),
                "ActionStatus is not OK but ErrorCode is missing".into(),
            ))
        }
        (None, None) => {
            return Err(decode_err(
                "ActionStatus".into(),
                "reply has neither ActionStatus nor ErrorCode".into(),
            ))
        }
        _ => {}
    }
    deserialize_at_path(body).map_err(|(p, m)| decode_err(p, m))
}

/// Deserializes JSON, reporting the path of the value that failed.
pub(crate) fn deserialize_at_path<T: DeserializeOwned>(body: &[u8]) -> Result<T, (String, String)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| split_path_error(&e))?;
    de.end().map_err(|e| (".".to_owned(), e.to_string()))?;
    Ok(value)
}

/// Names the full field for "missing field" errors, which serde reports at the parent.
pub(crate) fn split_path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> (String, String) {
    let path = e.path().to_string();
    let message = e.inner().to_string();
    (join_missing_field(&path, &message), message)
}

/// `Parent` + "missing field `X`" → `Parent.X`; anything else keeps the path.
pub(crate) fn join_missing_field(path: &str, message: &str) -> String {
    let missing =
        message.strip_prefix("missing field `").and_then(|rest| rest.split_once('`')).map(|(name, _)| name);
    match missing {
        Some(name) if path.is_empty() || path == "." => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{EchoError, EchoResp};

    type R = Result<EchoResp, Error<EchoError>>;

    fn dec(status: u16, body: &str) -> R {
        decode::<EchoResp, EchoError>(status, body.as_bytes())
    }

    #[test]
    fn ok_reply_decodes() {
        let r = dec(200, r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","Value":7}"#);
        assert_eq!(r.unwrap().value, 7);
        // ErrorInfo and ErrorCode may be missing on success.
        let r = dec(200, r#"{"ActionStatus":"OK","Value":8}"#);
        assert_eq!(r.unwrap().value, 8);
    }

    #[test]
    fn error_reply_is_api_error_even_if_schema_differs() {
        let r = dec(200, r#"{"ActionStatus":"FAIL","ErrorCode":90001,"ErrorInfo":"bad"}"#);
        match r {
            Err(Error::Api(e)) => {
                assert_eq!(e.code, 90001);
                assert_eq!(e.info, "bad");
            }
            other => panic!("{other:?}"),
        }
        let r = dec(200, r#"{"ActionStatus":"FAIL","ErrorCode":90001}"#);
        assert!(matches!(r, Err(Error::Api(ref e)) if e.info.is_empty()));
        let r = dec(200, r#"{"ActionStatus":"FAIL"}"#);
        assert!(matches!(r, Err(Error::Decode { .. })), "{r:?}");
    }

    #[test]
    fn bad_bodies_never_panic() {
        for body in ["", "<html>502 Bad Gateway</html>", "{\"ActionStatus\":\"OK\",\"Val", "[]", "null", "{}"]
        {
            let r = dec(200, body);
            assert!(matches!(r, Err(Error::Decode { .. })), "{body}: {r:?}");
        }
        let r = dec(502, "<html>Bad Gateway</html>");
        match r {
            Err(Error::Http { status: 502, body_snippet }) => assert!(body_snippet.contains("Bad Gateway")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn type_error_names_the_field() {
        let r = dec(200, r#"{"ActionStatus":"OK","ErrorCode":0,"Value":1,"Tags":["a",2]}"#);
        match r {
            Err(Error::Decode { path, message, .. }) => {
                assert_eq!(path, "Tags[1]");
                assert!(message.contains("invalid type"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let r = dec(200, r#"{"ActionStatus":"OK","ErrorCode":0}"#);
        assert!(matches!(r, Err(Error::Decode { ref path, .. }) if path == "Value"), "{r:?}");
    }

    #[test]
    fn missing_field_joins_path() {
        assert_eq!(join_missing_field("A[0]", "missing field `MsgKey`"), "A[0].MsgKey");
        assert_eq!(join_missing_field(".", "missing field `X` at line 1 column 2"), "X");
        assert_eq!(join_missing_field("A", "invalid type"), "A");
    }
}
