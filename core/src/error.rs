//! Errors returned by [`Client`](crate::Client) calls and by configuration.

use std::fmt;

use crate::endpoint::{fmt_api_error, ApiErrorKind, ValidationError};

/// Why a call failed; `E` is the endpoint's error enum.
///
/// No variant ever carries the secret key, a UserSig or a request URL (the URL
/// holds the UserSig), so errors are safe to log.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The server processed the request and answered with a non-zero `ErrorCode`.
    Api(E),
    /// A local check rejected the request; nothing was sent.
    InvalidRequest(ValidationError),
    /// The server answered with a non-2xx HTTP status.
    Http {
        /// HTTP status code.
        status: u16,
        /// Start of the reply body, for diagnosis.
        body_snippet: String,
    },
    /// The request could not be sent or the reply could not be read.
    Transport(TransportError),
    /// The request did not complete within the configured timeout.
    Timeout {
        /// Attempts made, each timed out or failed.
        attempts: u32,
        /// Time from the first attempt to giving up.
        elapsed: std::time::Duration,
    },
    /// The reply was not the JSON the endpoint documents.
    Decode {
        /// JSON path of the offending value (`.` for the whole body).
        path: String,
        /// What was wrong with it.
        message: String,
        /// Start of the reply body, for diagnosis.
        body_snippet: String,
    },
}

impl<E: ApiErrorKind> Error<E> {
    /// Whether sending the same request again may succeed.
    ///
    /// The client only acts on this for idempotent endpoints; a non-idempotent
    /// request that failed in transit may still have been processed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Http { status, .. } => *status >= 500 || *status == 429,
            Error::Transport(_) | Error::Timeout { .. } => true,
            Error::InvalidRequest(_) | Error::Decode { .. } => false,
        }
    }
}

impl<E> Error<E> {
    /// Converts the API error type, keeping every other variant as is.
    pub fn map_api<F>(self, f: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Api(e) => Error::Api(f(e)),
            Error::InvalidRequest(v) => Error::InvalidRequest(v),
            Error::Http { status, body_snippet } => Error::Http { status, body_snippet },
            Error::Transport(t) => Error::Transport(t),
            Error::Timeout { attempts, elapsed } => Error::Timeout { attempts, elapsed },
            Error::Decode { path, message, body_snippet } => Error::Decode { path, message, body_snippet },
        }
    }

    /// The API error, when the server answered with one.
    pub fn api(&self) -> Option<&E> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl<E: ApiErrorKind> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => fmt_api_error(e, f),
            Error::InvalidRequest(v) => write!(f, "invalid request: {v}"),
            Error::Http { status, body_snippet } => {
                write!(f, "HTTP status {status}")?;
                if !body_snippet.is_empty() {
                    write!(f, ": {body_snippet}")?;
                }
                Ok(())
            }
            Error::Transport(t) => write!(f, "transport error: {t}"),
            Error::Timeout { attempts, elapsed } => write!(
                f,
                "request timed out ({attempts} attempt{}, {:.1} s in all)",
                if *attempts == 1 { "" } else { "s" },
                elapsed.as_secs_f64()
            ),
            Error::Decode { path, message, .. } => {
                write!(f, "cannot decode reply at `{path}`: {message}")
            }
        }
    }
}

impl<E: ApiErrorKind> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidRequest(v) => Some(v),
            Error::Transport(t) => Some(t),
            _ => None,
        }
    }
}

/// A failure below HTTP (DNS, connect, TLS, reset, timeout), as text without the URL.
///
/// Transports make these with [`connect`](Self::connect),
/// [`timeout`](Self::timeout) or [`other`](Self::other); the client turns a
/// timeout into [`Error::Timeout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    message: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Timeout,
    Other,
}

impl TransportError {
    /// The connection could not be established, so nothing was sent.
    ///
    /// `message` must not contain the request URL (it carries the UserSig).
    pub fn connect(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: Kind::Connect }
    }

    /// The exchange did not finish within the request's timeout.
    pub fn timeout() -> Self {
        Self { message: "request timed out".into(), kind: Kind::Timeout }
    }

    /// Any other failure (reset, TLS, malformed reply); the request may have been processed.
    ///
    /// `message` must not contain the request URL (it carries the UserSig).
    pub fn other(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: Kind::Other }
    }

    /// Whether the connection could not be established, so nothing was sent.
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// Whether the exchange timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// `err` and its sources, joined with `: `, as one message.
    pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            let text = s.to_string();
            // Some errors repeat their source's text in their own.
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        message
    }

    /// Removes `secret` (e.g. the query string or the UserSig) from the
    /// message, in case a transport let the URL slip into it.
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        if !secret.is_empty() && self.message.contains(secret) {
            self.message = self.message.replace(secret, "***");
        }
        self
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// A client could not be configured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is unusable.
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A builder setting is out of range.
    Setting {
        /// Name of the builder method.
        setting: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// An environment variable is missing or unparsable.
    Env {
        /// Variable name.
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Settings needed for the operation are not set.
    Missing {
        /// The unset settings, each shown with its flag and variable.
        settings: Vec<crate::setting::Setting>,
    },
    /// The HTTP client could not be built (e.g. no TLS roots).
    HttpClient(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BaseUrl { url, reason } => write!(f, "invalid base URL `{url}`: {reason}"),
            Self::Setting { setting, reason } => write!(f, "invalid setting `{setting}`: {reason}"),
            Self::Env { var, reason } => write!(f, "environment variable {var}: {reason}"),
            Self::Missing { settings } => write!(f, "missing configuration: {}", list_settings(settings)),
            Self::HttpClient(why) => write!(f, "cannot build HTTP client: {why}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// `a, b, --region (or TIM_REGION) or --base-url (or TIM_BASE_URL)`: a region
/// followed by a base URL means either will do.
fn list_settings(settings: &[crate::setting::Setting]) -> String {
    use crate::setting::Setting;
    let mut out = String::new();
    for (i, s) in settings.iter().enumerate() {
        if i > 0 {
            let either = *s == Setting::BaseUrl && settings[i - 1] == Setting::Region;
            out.push_str(if either { " or " } else { ", " });
        }
        out.push_str(&s.to_string());
    }
    out
}

/// Cuts a reply body down to something fit for an error message.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX_CHARS: usize = 200;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_cuts_on_char_boundary() {
        let body = "é".repeat(300);
        let s = snippet(body.as_bytes());
        assert_eq!(s.chars().count(), 201);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"short"), "short");
        assert_eq!(snippet(&[0xff, b'a']), "\u{fffd}a");
    }
}
