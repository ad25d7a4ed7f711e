//! Checking that a callback (webhook) request really comes from Tencent.
//!
//! With callback authentication on, Tencent adds `RequestTime` (Unix seconds)
//! and `Sign` to the callback URL's query: `Sign` is the lowercase hex SHA-256
//! of the callback token (set in the console; not the REST secret key)
//! followed by `RequestTime`. The sign covers neither the body nor the
//! command, so the time window is the only protection against replays: a
//! request outside it is refused even when its sign is right.
//!
//! Verify before parsing the body: [`CallbackVerifier::verify_query`] needs
//! only the raw query string.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::usersig::unix_now;

/// Default largest distance between `RequestTime` and now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(60);

/// Checks the `Sign` and `RequestTime` of callback requests for one token.
///
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct CallbackVerifier {
    token: String,
    tolerance: Duration,
}

impl fmt::Debug for CallbackVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackVerifier").field("token", &"***").field("tolerance", &self.tolerance).finish()
    }
}

/// Why a callback request was refused. Never contains the token or the expected sign.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackAuthError {
    /// The query has no `Sign` (authentication is off in the console, or the
    /// request is not from Tencent).
    MissingSign,
    /// The query has no `RequestTime`.
    MissingRequestTime,
    /// `RequestTime` is not a number of Unix seconds.
    MalformedRequestTime,
    /// `RequestTime` is further in the past than the tolerance allows.
    Expired {
        /// Seconds between `RequestTime` and now.
        age_secs: u64,
    },
    /// `RequestTime` is further in the future than the tolerance allows.
    FromTheFuture {
        /// Seconds between now and `RequestTime`.
        ahead_secs: u64,
    },
    /// `Sign` does not match the token and `RequestTime`.
    BadSign,
}

impl fmt::Display for CallbackAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSign => f.write_str("callback query has no `Sign`"),
            Self::MissingRequestTime => f.write_str("callback query has no `RequestTime`"),
            Self::MalformedRequestTime => {
                f.write_str("callback `RequestTime` is not a number of Unix seconds")
            }
            Self::Expired { age_secs } => {
                write!(f, "callback `RequestTime` is {age_secs} s old, outside the window")
            }
            Self::FromTheFuture { ahead_secs } => {
                write!(f, "callback `RequestTime` is {ahead_secs} s in the future, outside the window")
            }
            Self::BadSign => f.write_str("callback `Sign` does not match the token"),
        }
    }
}

impl std::error::Error for CallbackAuthError {}

impl CallbackVerifier {
    /// A verifier for `token` with the default ±60 s window.
    pub fn new(token: impl Into<String>) -> Self {
        Self { token: token.into(), tolerance: DEFAULT_TOLERANCE }
    }

    /// Sets how far `RequestTime` may be from now, either way.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The sign Tencent computes for `request_time`, as lowercase hex; for
    /// tests and for sending signed callbacks (e.g. from a mock).
    pub fn sign(&self, request_time: u64) -> String {
        let digest = Sha256::new()
            .chain_update(self.token.as_bytes())
            .chain_update(request_time.to_string())
            .finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Verifies the raw query string of a callback request (`SdkAppid=..&Sign=..`) now.
    pub fn verify_query(&self, query: &str) -> Result<(), CallbackAuthError> {
        self.verify_query_at(query, unix_now())
    }

    /// Like [`verify_query`](Self::verify_query), as if the time were `now` (Unix seconds).
    pub fn verify_query_at(&self, query: &str, now: u64) -> Result<(), CallbackAuthError> {
        let params = crate::query::parse(query);
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        self.verify_at(get("RequestTime"), get("Sign"), now)
    }

    /// Verifies `RequestTime` and `Sign` as taken from the query, as if the
    /// time were `now` (Unix seconds). The window is checked first, so a
    /// replayed request is refused as expired whatever its sign.
    pub fn verify_at(
        &self,
        request_time: Option<&str>,
        sign: Option<&str>,
        now: u64,
    ) -> Result<(), CallbackAuthError> {
        let sign = sign.filter(|s| !s.is_empty()).ok_or(CallbackAuthError::MissingSign)?;
        let raw_time = request_time.filter(|s| !s.is_empty()).ok_or(CallbackAuthError::MissingRequestTime)?;
        let time: u64 = raw_time.trim().parse().map_err(|_| CallbackAuthError::MalformedRequestTime)?;
        let window = self.tolerance.as_secs();
        if now > time && now - time > window {
            return Err(CallbackAuthError::Expired { age_secs: now - time });
        }
        if time > now && time - now > window {
            return Err(CallbackAuthError::FromTheFuture { ahead_secs: time - now });
        }
        // The sign is hex, so case carries no secret; compare in constant time.
        let expected = self.sign(time);
        let given = sign.trim().to_ascii_lowercase();
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            Ok(())
        } else {
            Err(CallbackAuthError::BadSign)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The overview page's example: its printed hash is SHA-256 of
    // `xxxxyyyy` + `1669872112` (the page shows the token as `xxxyyy`).
    const TOKEN: &str = "xxxxyyyy";
    const TIME: u64 = 1_669_872_112;
    const SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

    #[test]
    fn documented_vector() {
        let v = CallbackVerifier::new(TOKEN);
        assert_eq!(v.sign(TIME), SIGN);
        let query = format!("SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS&RequestTime={TIME}&Sign={SIGN}");
        assert_eq!(v.verify_query_at(&query, TIME + 5), Ok(()));
        assert_eq!(v.verify_at(Some("1669872112"), Some(&SIGN.to_uppercase()), TIME), Ok(()));
    }

    #[test]
    fn window_and_sign_are_both_enforced() {
        let v = CallbackVerifier::new(TOKEN);
        let t = Some("1669872112");
        assert_eq!(v.verify_at(t, Some(SIGN), TIME + 61), Err(CallbackAuthError::Expired { age_secs: 61 }));
        assert_eq!(
            v.verify_at(t, Some(SIGN), TIME - 61),
            Err(CallbackAuthError::FromTheFuture { ahead_secs: 61 })
        );
        assert_eq!(v.verify_at(t, Some(SIGN), TIME + 60), Ok(()));
        let wide = v.clone().tolerance(Duration::from_secs(600));
        assert_eq!(wide.verify_at(t, Some(SIGN), TIME + 599), Ok(()));
        let mut wrong = SIGN.to_owned();
        wrong.replace_range(0..1, "2");
        assert_eq!(v.verify_at(t, Some(&wrong), TIME), Err(CallbackAuthError::BadSign));
        assert_eq!(v.verify_at(t, Some(&SIGN[..10]), TIME), Err(CallbackAuthError::BadSign));
        assert_eq!(
            CallbackVerifier::new("other").verify_at(t, Some(SIGN), TIME),
            Err(CallbackAuthError::BadSign)
        );
        // A right sign for another time does not carry over.
        assert_eq!(v.verify_at(Some("1669872113"), Some(SIGN), TIME), Err(CallbackAuthError::BadSign));
    }

    #[test]
    fn missing_and_malformed_parts() {
        let v = CallbackVerifier::new(TOKEN);
        assert_eq!(v.verify_at(Some("1"), None, 1), Err(CallbackAuthError::MissingSign));
        assert_eq!(v.verify_at(None, Some(SIGN), 1), Err(CallbackAuthError::MissingRequestTime));
        assert_eq!(v.verify_at(Some("soon"), Some(SIGN), 1), Err(CallbackAuthError::MalformedRequestTime));
        assert_eq!(v.verify_at(Some("-5"), Some(SIGN), 1), Err(CallbackAuthError::MalformedRequestTime));
        assert_eq!(v.verify_query_at("SdkAppid=1", 1), Err(CallbackAuthError::MissingSign));
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let v = CallbackVerifier::new(TOKEN);
        assert!(!format!("{v:?}").contains(TOKEN));
        let err = v.verify_at(Some("1669872112"), Some("00"), TIME).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(SIGN));
    }
}
