//! Checking that a callback (webhook) request really comes from Tencent, for
//! this app.
//!
//! With callback authentication on, Tencent adds `RequestTime` (Unix seconds)
//! and `Sign` to the callback URL's query: `Sign` is the lowercase hex SHA-256
//! of the callback token (set in the console; not the REST secret key)
//! followed by `RequestTime`. The sign covers neither the body nor the
//! command, so the time window is the only protection against replays: a
//! request outside it is refused even when its sign is right.
//!
//! Verify before parsing the body: [`CallbackVerifier::verify_query`] needs
//! only the raw query string, and returns its parsed parameters
//! ([`CallbackQuery`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ConfigError;
use crate::usersig::unix_now;

/// Default largest distance between `RequestTime` and now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(60);

/// A source of the current Unix time in seconds, injectable so tests (and
/// hosts with their own time source) need not depend on the system clock.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The `Sign` Tencent computes: lowercase hex SHA-256 of `token` followed by
/// `request_time` in decimal. For tests and for sending signed callbacks
/// (e.g. from a mock); receivers use [`CallbackVerifier`].
pub fn compute_sign(token: &str, request_time: u64) -> String {
    let digest =
        Sha256::new().chain_update(token.as_bytes()).chain_update(request_time.to_string()).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the query of callback requests for one app: `SdkAppid`, and, with
/// authentication on, `Sign` and the `RequestTime` window.
///
/// Built with a token ([`new`](Self::new)), or, only by saying so,
/// without authentication ([`without_authentication`](Self::without_authentication)).
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct CallbackVerifier {
    sdkappid: u64,
    /// `None` only through `without_authentication`, never from an empty token.
    token: Option<String>,
    tolerance: Duration,
    clock: Clock,
}

impl fmt::Debug for CallbackVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackVerifier")
            .field("sdkappid", &self.sdkappid)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

/// Why a callback request was refused. Never contains the token, the
/// expected sign, nor text copied from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackAuthError {
    /// The query has no `SdkAppid`.
    MissingSdkAppid,
    /// `SdkAppid` is not this app's.
    OtherApp {
        /// The `SdkAppid` sent, `None` when it is not a number.
        sdkappid: Option<u64>,
    },
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
    /// The query has no `CallbackCommand` (only from
    /// [`CallbackVerifier::verify_query`]; a receiver falls back to the body's).
    MissingCommand,
}

impl CallbackAuthError {
    /// The HTTP status a receiver answers with: 401 when credentials are
    /// missing or unreadable, 403 when they are present but refused or the
    /// request is for no app or another one, 400 for a query without a command.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingSign | Self::MissingRequestTime | Self::MalformedRequestTime => 401,
            Self::MissingSdkAppid
            | Self::OtherApp { .. }
            | Self::Expired { .. }
            | Self::FromTheFuture { .. }
            | Self::BadSign => 403,
            Self::MissingCommand => 400,
        }
    }
}

impl fmt::Display for CallbackAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSdkAppid => f.write_str("callback query has no `SdkAppid`"),
            Self::OtherApp { sdkappid: Some(id) } => {
                write!(f, "callback `SdkAppid` {id} is not this app's")
            }
            Self::OtherApp { sdkappid: None } => f.write_str("callback `SdkAppid` is not a number"),
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
            Self::MissingCommand => f.write_str("callback query has no `CallbackCommand`"),
        }
    }
}

impl std::error::Error for CallbackAuthError {}

/// The parameters of a verified callback query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackQuery {
    /// `SdkAppid`: always the verifier's app.
    pub sdkappid: u64,
    /// `CallbackCommand`, e.g. `C2C.CallbackBeforeSendMsg`. A receiver fills
    /// it from the body when the query lacks it.
    pub command: String,
    /// `ClientIP`: the address of the client that caused the event, when sent.
    pub client_ip: Option<String>,
    /// `OptPlatform` as sent (`RESTAPI`, `Web`, `Android`, `iOS`, `IOS`, ...):
    /// an open set, so it is kept as a string.
    pub opt_platform: Option<String>,
    /// `RequestTime` (Unix seconds): checked when authentication is on; else
    /// whatever number was sent, if any.
    pub request_time: Option<u64>,
    /// `contenttype` (`json`, sometimes `JSON`), when sent.
    pub content_type: Option<String>,
}

impl CallbackQuery {
    /// A query for `command` of app `sdkappid` with no optional parameter;
    /// for handlers' unit tests and other frameworks' adapters.
    pub fn new(sdkappid: u64, command: impl Into<String>) -> Self {
        Self {
            sdkappid,
            command: command.into(),
            client_ip: None,
            opt_platform: None,
            request_time: None,
            content_type: None,
        }
    }
}

impl CallbackVerifier {
    /// A verifier for app `sdkappid` and its callback `token`, with the
    /// default ±60 s window and the system clock.
    ///
    /// A blank token is refused rather than taken to mean "no
    /// authentication" (an unset variable must not turn the check off); say
    /// so with [`without_authentication`](Self::without_authentication).
    pub fn new(sdkappid: u64, token: impl Into<String>) -> Result<Self, ConfigError> {
        let token = token.into();
        if token.trim().is_empty() {
            return Err(ConfigError::Setting {
                setting: "token",
                reason: "the callback token is empty; use CallbackVerifier::without_authentication \
                         to accept unsigned callbacks"
                    .into(),
            });
        }
        Ok(Self { token: Some(token), ..Self::without_authentication(sdkappid) })
    }

    /// A verifier for app `sdkappid` that accepts callbacks without `Sign`
    /// and `RequestTime` (callback authentication off in the console). The
    /// `SdkAppid` is still checked. Anyone who can reach the URL can then
    /// forge callbacks: use only behind another check.
    pub fn without_authentication(sdkappid: u64) -> Self {
        Self { sdkappid, token: None, tolerance: DEFAULT_TOLERANCE, clock: Arc::new(unix_now) }
    }

    /// Sets how far `RequestTime` may be from now, either way.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Replaces the system clock (Unix seconds) the window is checked against.
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The app this verifier accepts callbacks for.
    pub fn sdkappid(&self) -> u64 {
        self.sdkappid
    }

    /// Whether `Sign` and `RequestTime` are required.
    pub fn authenticates(&self) -> bool {
        self.token.is_some()
    }

    /// The current time by the verifier's clock.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Verifies the raw query string of a callback request
    /// (`SdkAppid=..&Sign=..`, without `?`) now, including that it names a
    /// `CallbackCommand`.
    pub fn verify_query(&self, query: &str) -> Result<CallbackQuery, CallbackAuthError> {
        self.verify_query_at(query, self.now())
    }

    /// Like [`verify_query`](Self::verify_query), as if the time were `now` (Unix seconds).
    pub fn verify_query_at(&self, query: &str, now: u64) -> Result<CallbackQuery, CallbackAuthError> {
        let parsed = self.verify_query_lenient(query, now)?;
        if parsed.command.is_empty() {
            return Err(CallbackAuthError::MissingCommand);
        }
        Ok(parsed)
    }

    /// Checks app and authentication but lets `CallbackCommand` be absent
    /// (left empty), so a receiver can take it from the body instead.
    pub(crate) fn verify_query_lenient(
        &self,
        query: &str,
        now: u64,
    ) -> Result<CallbackQuery, CallbackAuthError> {
        let params = crate::query::parse(query);
        // The first occurrence wins, for every parameter alike: what is
        // checked is what is returned.
        let get = |name: &str| {
            params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
        };
        let sent_app = get("SdkAppid").ok_or(CallbackAuthError::MissingSdkAppid)?;
        match sent_app.parse::<u64>() {
            Ok(id) if id == self.sdkappid => {}
            Ok(id) => return Err(CallbackAuthError::OtherApp { sdkappid: Some(id) }),
            Err(_) => return Err(CallbackAuthError::OtherApp { sdkappid: None }),
        }
        let request_time = match &self.token {
            Some(token) => Some(self.check_sign(token, get("RequestTime"), get("Sign"), now)?),
            None => get("RequestTime").and_then(|t| t.parse().ok()),
        };
        Ok(CallbackQuery {
            sdkappid: self.sdkappid,
            command: get("CallbackCommand").unwrap_or_default().to_owned(),
            client_ip: get("ClientIP").map(str::to_owned),
            opt_platform: get("OptPlatform").map(str::to_owned),
            request_time,
            content_type: get("contenttype").map(str::to_owned),
        })
    }

    /// Checks `RequestTime` and `Sign` as taken from the query and returns
    /// the time. The window is checked first, so a replayed request is
    /// refused as expired whatever its sign.
    fn check_sign(
        &self,
        token: &str,
        request_time: Option<&str>,
        sign: Option<&str>,
        now: u64,
    ) -> Result<u64, CallbackAuthError> {
        let sign = sign.ok_or(CallbackAuthError::MissingSign)?;
        let raw_time = request_time.ok_or(CallbackAuthError::MissingRequestTime)?;
        let time: u64 = raw_time.parse().map_err(|_| CallbackAuthError::MalformedRequestTime)?;
        let window = self.tolerance.as_secs();
        if now > time && now - time > window {
            return Err(CallbackAuthError::Expired { age_secs: now - time });
        }
        if time > now && time - now > window {
            return Err(CallbackAuthError::FromTheFuture { ahead_secs: time - now });
        }
        // The sign is hex, so case carries no secret; compare in constant time.
        let expected = compute_sign(token, time);
        let given = sign.to_ascii_lowercase();
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            Ok(time)
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
    const APP: u64 = 1_400_000_000;

    fn verifier() -> CallbackVerifier {
        CallbackVerifier::new(APP, TOKEN).unwrap()
    }

    fn query(time: &str, sign: &str) -> String {
        format!("SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS&RequestTime={time}&Sign={sign}")
    }

    #[test]
    fn documented_vector() {
        assert_eq!(compute_sign(TOKEN, TIME), SIGN);
        let v = verifier();
        let q = v.verify_query_at(&query("1669872112", SIGN), TIME + 5).unwrap();
        assert_eq!(
            q,
            CallbackQuery {
                sdkappid: APP,
                command: "C2C.CallbackAfterSendMsg".into(),
                client_ip: Some("1.2.3.4".into()),
                opt_platform: Some("iOS".into()),
                request_time: Some(TIME),
                content_type: Some("json".into()),
            }
        );
        assert!(v.verify_query_at(&query("1669872112", &SIGN.to_uppercase()), TIME).is_ok());
    }

    #[test]
    fn window_and_sign_are_both_enforced() {
        let v = verifier();
        let at =
            |v: &CallbackVerifier, time: &str, sign: &str, now| v.verify_query_at(&query(time, sign), now);
        assert_eq!(at(&v, "1669872112", SIGN, TIME + 61), Err(CallbackAuthError::Expired { age_secs: 61 }));
        assert_eq!(
            at(&v, "1669872112", SIGN, TIME - 61),
            Err(CallbackAuthError::FromTheFuture { ahead_secs: 61 })
        );
        assert!(at(&v, "1669872112", SIGN, TIME + 60).is_ok());
        assert!(at(&v, "1669872112", SIGN, TIME - 60).is_ok());
        let wide = v.clone().tolerance(Duration::from_secs(600));
        assert!(at(&wide, "1669872112", SIGN, TIME + 599).is_ok());
        let mut wrong = SIGN.to_owned();
        wrong.replace_range(0..1, "2");
        assert_eq!(at(&v, "1669872112", &wrong, TIME), Err(CallbackAuthError::BadSign));
        assert_eq!(at(&v, "1669872112", &SIGN[..10], TIME), Err(CallbackAuthError::BadSign));
        let other = CallbackVerifier::new(APP, "other").unwrap();
        assert_eq!(at(&other, "1669872112", SIGN, TIME), Err(CallbackAuthError::BadSign));
        // A right sign for another time does not carry over.
        assert_eq!(at(&v, "1669872113", SIGN, TIME), Err(CallbackAuthError::BadSign));
    }

    #[test]
    fn missing_and_malformed_parts() {
        let v = verifier();
        let check = |q: &str| v.verify_query_at(q, TIME);
        let app = format!("SdkAppid={APP}&CallbackCommand=X.Y");
        assert_eq!(check(&format!("{app}&RequestTime={TIME}")), Err(CallbackAuthError::MissingSign));
        assert_eq!(check(&format!("{app}&RequestTime={TIME}&Sign=")), Err(CallbackAuthError::MissingSign));
        assert_eq!(check(&format!("{app}&Sign={SIGN}")), Err(CallbackAuthError::MissingRequestTime));
        assert_eq!(
            check(&format!("{app}&RequestTime=soon&Sign={SIGN}")),
            Err(CallbackAuthError::MalformedRequestTime)
        );
        assert_eq!(
            check(&format!("{app}&RequestTime=-5&Sign={SIGN}")),
            Err(CallbackAuthError::MalformedRequestTime)
        );
        assert_eq!(
            check(&format!("RequestTime={TIME}&Sign={SIGN}")),
            Err(CallbackAuthError::MissingSdkAppid)
        );
        assert_eq!(
            check(&format!("SdkAppid=1400000001&RequestTime={TIME}&Sign={SIGN}")),
            Err(CallbackAuthError::OtherApp { sdkappid: Some(1_400_000_001) })
        );
        assert_eq!(check("SdkAppid=abc"), Err(CallbackAuthError::OtherApp { sdkappid: None }));
        assert_eq!(
            check(&format!("SdkAppid={APP}&RequestTime={TIME}&Sign={SIGN}")),
            Err(CallbackAuthError::MissingCommand)
        );
        // The receiver's lenient form leaves the command empty instead.
        assert_eq!(
            v.verify_query_lenient(&format!("SdkAppid={APP}&RequestTime={TIME}&Sign={SIGN}"), TIME)
                .unwrap()
                .command,
            ""
        );
        // The app is checked before anything else, so a foreign app learns nothing about the sign.
        assert_eq!(check("SdkAppid=1"), Err(CallbackAuthError::OtherApp { sdkappid: Some(1) }));
    }

    #[test]
    fn every_error_says_which_check_failed() {
        let all = [
            CallbackAuthError::MissingSdkAppid,
            CallbackAuthError::OtherApp { sdkappid: Some(1) },
            CallbackAuthError::OtherApp { sdkappid: None },
            CallbackAuthError::MissingSign,
            CallbackAuthError::MissingRequestTime,
            CallbackAuthError::MalformedRequestTime,
            CallbackAuthError::Expired { age_secs: 61 },
            CallbackAuthError::FromTheFuture { ahead_secs: 61 },
            CallbackAuthError::BadSign,
            CallbackAuthError::MissingCommand,
        ];
        let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
        for (i, t) in texts.iter().enumerate() {
            assert!(t.contains('`'), "names the parameter: {t}");
            assert_eq!(texts.iter().filter(|o| *o == t).count(), 1, "distinct: {t}");
            assert!(matches!(all[i].status(), 400 | 401 | 403));
        }
    }

    #[test]
    fn empty_token_is_refused_not_an_opt_out() {
        for blank in ["", "   "] {
            let err = CallbackVerifier::new(APP, blank).unwrap_err();
            assert!(err.to_string().contains("without_authentication"), "{err}");
        }
    }

    #[test]
    fn opt_out_still_checks_the_app() {
        let v = CallbackVerifier::without_authentication(APP);
        assert!(!v.authenticates());
        let q = v.verify_query_at(&format!("SdkAppid={APP}&CallbackCommand=X.Y&OptPlatform=IOS"), 0).unwrap();
        assert_eq!(
            (q.command.as_str(), q.opt_platform.as_deref(), q.request_time),
            ("X.Y", Some("IOS"), None)
        );
        // A sign, right or wrong, is ignored; a numeric time is kept.
        let q = v
            .verify_query_at(&format!("SdkAppid={APP}&CallbackCommand=X.Y&RequestTime=5&Sign=00"), 0)
            .unwrap();
        assert_eq!(q.request_time, Some(5));
        assert_eq!(
            v.verify_query_at("SdkAppid=2&CallbackCommand=X.Y", 0),
            Err(CallbackAuthError::OtherApp { sdkappid: Some(2) })
        );
        assert_eq!(v.verify_query_at("CallbackCommand=X.Y", 0), Err(CallbackAuthError::MissingSdkAppid));
    }

    #[test]
    fn clock_is_injectable() {
        let v = verifier().clock(|| TIME + 30);
        assert_eq!(v.now(), TIME + 30);
        assert!(v.verify_query(&query("1669872112", SIGN)).is_ok());
        let late = verifier().clock(|| TIME + 3600);
        assert_eq!(
            late.verify_query(&query("1669872112", SIGN)),
            Err(CallbackAuthError::Expired { age_secs: 3600 })
        );
        // The default is the system clock: the 2022 vector is long expired.
        assert!(matches!(
            verifier().verify_query(&query("1669872112", SIGN)),
            Err(CallbackAuthError::Expired { .. })
        ));
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let v = verifier();
        assert!(!format!("{v:?}").contains(TOKEN));
        let err = v.verify_query_at(&query("1669872112", "00"), TIME).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(SIGN));
        let err = CallbackVerifier::new(APP, " ").unwrap_err();
        assert!(!format!("{err:?}").contains(TOKEN));
    }
}
