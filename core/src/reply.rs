//! Turns a raw HTTP reply into a typed response or an [`Error`].
//!
//! Decoding happens in two steps so that an error reply never has to match the
//! success schema: the envelope decides success or failure, and only a success
//! is decoded into the endpoint's response type.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::endpoint::ApiErrorKind;
use crate::error::{snippet, Error};

/// The fields every reply carries; everything else is skipped.
#[derive(Default)]
struct Envelope {
    action_status: Option<String>,
    error_code: Option<i64>,
    error_info: Option<String>,
}

// Written by hand rather than derived so the core needs no proc-macro crates.
impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnvelopeVisitor;
        impl<'de> serde::de::Visitor<'de> for EnvelopeVisitor {
            type Value = Envelope;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object with ActionStatus, ErrorCode and ErrorInfo")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut env = Envelope::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "ActionStatus" => env.action_status = map.next_value()?,
                        "ErrorCode" => env.error_code = map.next_value()?,
                        "ErrorInfo" => env.error_info = map.next_value()?,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(env)
            }
        }
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

/// Decodes a reply with HTTP `status` and `body`.
pub(crate) fn decode<T: DeserializeOwned, E: ApiErrorKind>(status: u16, body: &[u8]) -> Result<T, Error<E>> {
    if !(200..300).contains(&status) {
        return Err(Error::Http { status, body_snippet: snippet(body) });
    }
    match fast::decode_success(body) {
        Some(value) => Ok(value),
        None => decode_two_step(body),
    }
}

/// Decodes the envelope, then (on success) the response, with field paths in errors.
fn decode_two_step<T: DeserializeOwned, E: ApiErrorKind>(body: &[u8]) -> Result<T, Error<E>> {
    let decode_err =
        |path: String, message: String| Error::Decode { path, message, body_snippet: snippet(body) };
    let env: Envelope = deserialize_at_path(body).map_err(|(p, m)| decode_err(p, m))?;
    let ok = env.action_status.as_deref().map(|s| s.eq_ignore_ascii_case("OK"));
    let info = env.error_info.unwrap_or_default();
    match (ok, env.error_code) {
        (_, Some(code)) if code != 0 => return Err(Error::Api(E::from_reply(code, info))),
        // `ErrorCode` 0 with another status is a partial success (e.g. a batch
        // send whose reply lists the recipients that failed): the response
        // carries the details, so it is decoded like a success.
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

/// One-pass decoding of a successful reply, the common case.
///
/// The two-step decoding below parses the body twice and tracks the path of
/// every value (allocating a `String` per key) only to be able to report
/// errors well, which made decoding cost several times a plain
/// `serde_json::from_slice`. This path decodes the response type directly
/// while noting the envelope fields as they go by, and answers only when the
/// reply is a success whose envelope the two-step decoding would accept too;
/// anything else (error replies, bad bodies, odd envelopes) gives `None`, and
/// the two-step decoding runs as before, so results are the same either way.
mod fast {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::value::{BorrowedStrDeserializer, I64Deserializer, StringDeserializer, U64Deserializer};
    use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
    use serde::{forward_to_deserialize_any, Deserialize};

    /// The response, if `body` is a success reply that decodes into `T`.
    pub(super) fn decode_success<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
        let mut seen = Seen::default();
        let mut de = serde_json::Deserializer::from_slice(body);
        let value = T::deserialize(Tap { de: &mut de, seen: &mut seen }).ok()?;
        de.end().ok()?;
        // The success cases of `decode`: OK without a code, OK with code 0,
        // or code 0 without a status.
        match (seen.status_ok, seen.code) {
            (Some(true), None | Some(0)) | (None, Some(0)) => Some(value),
            _ => None,
        }
    }

    #[derive(Default)]
    struct Seen {
        /// `ActionStatus` was present: whether it says OK.
        status_ok: Option<bool>,
        code: Option<i64>,
        info: bool,
    }

    #[derive(Clone, Copy)]
    enum Field {
        Status,
        Code,
        Info,
    }

    impl Field {
        fn of(key: &str) -> Option<Self> {
            match key {
                "ActionStatus" => Some(Self::Status),
                "ErrorCode" => Some(Self::Code),
                "ErrorInfo" => Some(Self::Info),
                _ => None,
            }
        }
    }

    /// Wraps the top-level deserializer so that the map it yields is tapped.
    struct Tap<'a, D> {
        de: D,
        seen: &'a mut Seen,
    }

    impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tap<'_, D> {
        type Error = D::Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.deserialize_any(TapVisitor { inner: visitor, seen: self.seen })
        }

        fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.deserialize_map(TapVisitor { inner: visitor, seen: self.seen })
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, D::Error> {
            self.de.deserialize_struct(name, fields, TapVisitor { inner: visitor, seen: self.seen })
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier ignored_any
        }
    }

    /// Accepts only a JSON object (anything else falls back to the slow path).
    struct TapVisitor<'a, V> {
        inner: V,
        seen: &'a mut Seen,
    }

    impl<'de, V: Visitor<'de>> Visitor<'de> for TapVisitor<'_, V> {
        type Value = V::Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.inner.expecting(f)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
            self.inner.visit_map(TapMap { map, seen: self.seen, pending: None })
        }
    }

    /// Passes every entry through to the response type, noting envelope fields.
    struct TapMap<'a, A> {
        map: A,
        seen: &'a mut Seen,
        pending: Option<Field>,
    }

    impl<'de, A: MapAccess<'de>> MapAccess<'de> for TapMap<'_, A> {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
            let Some(Key(key)) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            self.pending = Field::of(&key);
            match key {
                Cow::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some),
                Cow::Owned(k) => seed.deserialize(StringDeserializer::new(k)).map(Some),
            }
        }

        fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
            let Some(field) = self.pending.take() else {
                return self.map.next_value_seed(seed);
            };
            let value: Scalar<'de> = self.map.next_value()?;
            let seen = &mut *self.seen;
            // Types and duplicates as the envelope struct of the slow path
            // accepts them; anything else is left to it to report.
            let fits = match (field, &value) {
                (Field::Status, Scalar::Str(s)) if seen.status_ok.is_none() => {
                    seen.status_ok = Some(s.eq_ignore_ascii_case("OK"));
                    true
                }
                (Field::Code, &Scalar::I64(n)) if seen.code.is_none() => {
                    seen.code = Some(n);
                    true
                }
                (Field::Code, &Scalar::U64(n)) if seen.code.is_none() => {
                    seen.code = i64::try_from(n).ok();
                    seen.code.is_some()
                }
                (Field::Info, Scalar::Str(_)) if !seen.info => {
                    seen.info = true;
                    true
                }
                _ => false,
            };
            if !fits {
                return Err(de::Error::custom("envelope left to the slow path"));
            }
            match value {
                Scalar::Str(Cow::Borrowed(s)) => seed.deserialize(BorrowedStrDeserializer::new(s)),
                Scalar::Str(Cow::Owned(s)) => seed.deserialize(StringDeserializer::new(s)),
                Scalar::I64(n) => seed.deserialize(I64Deserializer::new(n)),
                Scalar::U64(n) => seed.deserialize(U64Deserializer::new(n)),
            }
        }

        fn size_hint(&self) -> Option<usize> {
            self.map.size_hint()
        }
    }

    /// A map key, borrowed from the body unless it had escapes.
    struct Key<'de>(Cow<'de, str>);

    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(ScalarVisitor).and_then(|s| match s {
                Scalar::Str(s) => Ok(Key(s)),
                _ => Err(de::Error::custom("key is not a string")),
            })
        }
    }

    /// An envelope value: a string or an integer.
    enum Scalar<'de> {
        Str(Cow<'de, str>),
        I64(i64),
        U64(u64),
    }

    impl<'de> Deserialize<'de> for Scalar<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
    }

    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Scalar<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an integer")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Scalar::Str(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Scalar::Str(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Scalar::Str(Cow::Owned(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Scalar::I64(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Scalar::U64(v))
        }
    }
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
        // serde_path_to_error spells the root `.`.
        Some(name) => crate::endpoint::join_path(if path == "." { "" } else { path }, name),
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

    /// The one-pass path must give exactly what the two-step decoding gives.
    #[test]
    fn fast_path_agrees_with_two_step() {
        let bodies = [
            r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","Value":7}"#,
            r#"{"Value":7,"ActionStatus":"ok"}"#,
            r#"{"ErrorCode":0,"Value":7}"#,
            r#"{"ErrorCode":0,"Value":7,"Extra":{"ActionStatus":"FAIL"}}"#,
            r#"{"Action\u0053tatus":"OK","Err\u006frCode":0,"Value":7,"Tags":["a"]}"#,
            r#"{"ActionStatus":"OK","ErrorCode":0,"Value":7} "#,
            r#"{"ActionStatus":"O\u004b","ErrorInfo":"a\"b","Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":0,"Value":7} x"#,
            r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorCode":0,"Value":7}"#,
            r#"{"ActionStatus":"OK","ActionStatus":"OK","Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorInfo":"","Value":7}"#,
            r#"{"ActionStatus":null,"ErrorCode":0,"Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":null,"Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorInfo":null,"Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":"0","Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":0.0,"Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":-1,"Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":18446744073709551615,"Value":7}"#,
            r#"{"ActionStatus":1,"Value":7}"#,
            r#"{"ActionStatus":"FAIL","ErrorCode":0,"Value":7}"#,
            r#"{"ActionStatus":"FAIL","Value":7}"#,
            r#"{"ActionStatus":"OK","ErrorCode":70001,"ErrorInfo":"sig","Value":7}"#,
            r#"{"ActionStatus":"FAIL","ErrorCode":90001,"ErrorInfo":"bad"}"#,
            r#"{"Value":7}"#,
            r#"{"ActionStatus":"OK"}"#,
            r#"{"ActionStatus":"OK","Value":"seven"}"#,
            r#"["OK",0,"",7]"#,
            r#"{"ActionStatus":"OK","ErrorCode":0,"Value":7"#,
            "",
            "null",
        ];
        for body in bodies {
            let one = format!("{:?}", dec(200, body));
            let two = format!("{:?}", decode_two_step::<EchoResp, EchoError>(body.as_bytes()));
            assert_eq!(one, two, "{body}");
        }
        // The common replies do take the one-pass path.
        for body in [bodies[0], bodies[1], bodies[2], bodies[4], bodies[6]] {
            assert!(fast::decode_success::<EchoResp>(body.as_bytes()).is_some(), "{body}");
        }
        // Any JSON value as the response type sees the whole reply, envelope included.
        let body = br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","N":[1,{"a":null}]}"#;
        let v: serde_json::Value = decode::<_, EchoError>(200, body).unwrap();
        assert_eq!(v, serde_json::from_slice::<serde_json::Value>(body).unwrap());
        assert!(fast::decode_success::<serde_json::Value>(body).is_some());
    }

    #[test]
    fn missing_field_joins_path() {
        assert_eq!(join_missing_field("A[0]", "missing field `MsgKey`"), "A[0].MsgKey");
        assert_eq!(join_missing_field(".", "missing field `X` at line 1 column 2"), "X");
        assert_eq!(join_missing_field("A", "invalid type"), "A");
    }
}
