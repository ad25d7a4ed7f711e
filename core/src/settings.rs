//! Connection settings from the `TIM_*` environment (or command-line flags):
//! the one place that knows the variable names and how to read them, used by
//! [`Client::from_env`](crate::Client::from_env) and the `tim` CLI alike.

use std::fmt;

use crate::client::{Client, ClientBuilder};
use crate::error::ConfigError;
use crate::region::Region;
use crate::usersig::UserSigKey;

pub use crate::setting::Setting;

impl Client {
    /// A builder from `TIM_SDKAPPID`, `TIM_IDENTIFIER`, `TIM_SECRET_KEY` and
    /// optionally `TIM_REGION` (e.g. `singapore`) or `TIM_BASE_URL` (which wins).
    ///
    /// `Ok(None)` when none of the three required variables is set, so callers
    /// can fall back to other configuration; an error when only some are.
    pub fn from_env() -> Result<Option<ClientBuilder>, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<ClientBuilder>, ConfigError> {
        let settings = Settings::from_lookup(get);
        if settings.is_empty() {
            return Ok(None);
        }
        settings.client_builder(false).map(Some)
    }
}

/// Raw connection settings, each possibly unset; blank values count as unset.
///
/// `Debug` never shows the secret key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// `TIM_SDKAPPID`.
    pub sdkappid: Option<String>,
    /// `TIM_IDENTIFIER`.
    pub identifier: Option<String>,
    /// `TIM_SECRET_KEY`.
    pub secret_key: Option<String>,
    /// `TIM_REGION`.
    pub region: Option<String>,
    /// `TIM_BASE_URL`.
    pub base_url: Option<String>,
    /// `TIM_CALLBACK_TOKEN`.
    pub callback_token: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("sdkappid", &self.sdkappid)
            .field("identifier", &self.identifier)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("callback_token", &self.callback_token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Settings {
    /// Reads the `TIM_*` variables of the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads settings through `get` (variable name to value), for tests and
    /// other sources shaped like the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let read = |s: Setting| get(s.var()).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Self {
            sdkappid: read(Setting::SdkAppId),
            identifier: read(Setting::Identifier),
            // The key is used as given: only an all-blank value counts as unset.
            secret_key: get(Setting::SecretKey.var()).filter(|v| !v.trim().is_empty()),
            region: read(Setting::Region),
            base_url: read(Setting::BaseUrl),
            // A token, like the key, is used as given.
            callback_token: get(Setting::CallbackToken.var()).filter(|v| !v.trim().is_empty()),
        }
    }

    /// These settings, with unset ones taken from `fallback` (flags over the environment).
    #[must_use]
    pub fn or(self, fallback: Settings) -> Self {
        Self {
            sdkappid: self.sdkappid.or(fallback.sdkappid),
            identifier: self.identifier.or(fallback.identifier),
            secret_key: self.secret_key.or(fallback.secret_key),
            region: self.region.or(fallback.region),
            base_url: self.base_url.or(fallback.base_url),
            callback_token: self.callback_token.or(fallback.callback_token),
        }
    }

    /// Whether none of the settings a client needs (app, admin, key) is set.
    pub fn is_empty(&self) -> bool {
        self.sdkappid.is_none() && self.identifier.is_none() && self.secret_key.is_none()
    }

    /// The SDKAppID, if set; an error if it is not a positive integer.
    pub fn sdkappid(&self) -> Result<Option<u64>, ConfigError> {
        let Some(raw) = self.sdkappid.as_deref() else { return Ok(None) };
        match raw.parse::<u64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(ConfigError::Env {
                var: Setting::SdkAppId.var(),
                reason: format!("`{raw}` is not a positive integer"),
            }),
        }
    }

    /// The region, if set; an error naming the known ones if it is not one.
    pub fn region(&self) -> Result<Option<Region>, ConfigError> {
        self.region
            .as_deref()
            .map(|raw| {
                raw.parse::<Region>()
                    .map_err(|reason| ConfigError::Env { var: Setting::Region.var(), reason })
            })
            .transpose()
    }

    /// The signing key (SDKAppID and secret key), or an error naming every missing setting.
    pub fn key(&self) -> Result<UserSigKey, ConfigError> {
        let sdkappid = self.sdkappid()?;
        match (sdkappid, self.secret_key.as_deref()) {
            (Some(appid), Some(secret)) => Ok(UserSigKey::new(appid, secret)),
            _ => Err(self.missing(&[Setting::SdkAppId, Setting::SecretKey])),
        }
    }

    /// A client builder for these settings, or an error naming every missing
    /// or malformed setting. A base URL wins over a region; with neither, the
    /// builder's default region applies unless `require_host` is set.
    pub fn client_builder(&self, require_host: bool) -> Result<ClientBuilder, ConfigError> {
        let sdkappid = self.sdkappid()?;
        let region = self.region()?;
        let mut needed = vec![Setting::SdkAppId, Setting::Identifier, Setting::SecretKey];
        if require_host && region.is_none() && self.base_url.is_none() {
            needed.extend([Setting::Region, Setting::BaseUrl]);
        }
        let (Some(appid), Some(identifier), Some(secret)) =
            (sdkappid, self.identifier.as_deref(), self.secret_key.as_deref())
        else {
            return Err(self.missing(&needed));
        };
        if needed.len() > 3 {
            return Err(self.missing(&needed));
        }
        let mut builder = Client::builder(appid, identifier, secret);
        if let Some(region) = region {
            builder = builder.region(region);
        }
        if let Some(url) = self.base_url.as_deref() {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The error for the unset ones among `wanted`.
    fn missing(&self, wanted: &[Setting]) -> ConfigError {
        let settings = wanted.iter().copied().filter(|s| !self.is_set(*s)).collect();
        ConfigError::Missing { settings }
    }

    fn is_set(&self, s: Setting) -> bool {
        match s {
            Setting::SdkAppId => self.sdkappid.is_some(),
            Setting::Identifier => self.identifier.is_some(),
            Setting::SecretKey => self.secret_key.is_some(),
            // A host is "set" when either way of naming one is.
            Setting::Region | Setting::BaseUrl => self.region.is_some() || self.base_url.is_some(),
            Setting::CallbackToken => self.callback_token.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn env_configuration() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert!(Client::from_vars(vars(&[])).unwrap().is_none());
        let err = Client::from_vars(vars(&[("TIM_SDKAPPID", "1")])).unwrap_err();
        assert!(matches!(&err, ConfigError::Missing { settings } if settings.len() == 2), "{err}");
        assert!(err.to_string().contains("TIM_IDENTIFIER"), "{err}");
        let full = &[
            ("TIM_SDKAPPID", "1400000001"),
            ("TIM_IDENTIFIER", "admin"),
            ("TIM_SECRET_KEY", "k"),
            ("TIM_REGION", "singapore"),
        ];
        let c = Client::from_vars(vars(full)).unwrap().unwrap().build().unwrap();
        assert_eq!((c.sdkappid(), c.identifier()), (1_400_000_001, "admin"));
        assert_eq!(c.base_url(), "https://adminapisgp.im.qcloud.com");
        let bad_region = &[
            ("TIM_SDKAPPID", "1"),
            ("TIM_IDENTIFIER", "a"),
            ("TIM_SECRET_KEY", "k"),
            ("TIM_REGION", "mars"),
        ];
        assert!(matches!(
            Client::from_vars(vars(bad_region)),
            Err(ConfigError::Env { var: "TIM_REGION", .. })
        ));
        let url = &[
            ("TIM_SDKAPPID", "1"),
            ("TIM_IDENTIFIER", "a"),
            ("TIM_SECRET_KEY", "k"),
            ("TIM_REGION", "seoul"),
            ("TIM_BASE_URL", "http://127.0.0.1:9"),
        ];
        assert_eq!(
            Client::from_vars(vars(url)).unwrap().unwrap().build().unwrap().base_url(),
            "http://127.0.0.1:9"
        );
        let bad_id = &[("TIM_SDKAPPID", "x"), ("TIM_IDENTIFIER", "a"), ("TIM_SECRET_KEY", "k")];
        assert!(matches!(Client::from_vars(vars(bad_id)), Err(ConfigError::Env { var: "TIM_SDKAPPID", .. })));
    }

    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> Settings {
        Settings::from_lookup(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn blank_values_are_unset_and_secrets_stay_hidden() {
        let s = vars(&[
            ("TIM_SDKAPPID", " 14 "),
            ("TIM_REGION", "  "),
            ("TIM_SECRET_KEY", "k3y"),
            ("TIM_CALLBACK_TOKEN", "t0ken"),
        ]);
        assert_eq!(s.sdkappid.as_deref(), Some("14"));
        assert_eq!(s.region, None);
        assert_eq!(s.callback_token.as_deref(), Some("t0ken"));
        assert!(!format!("{s:?}").contains("k3y") && !format!("{s:?}").contains("t0ken"));
        assert!(vars(&[]).is_empty());
    }

    #[test]
    fn missing_settings_are_all_named() {
        let err = vars(&[("TIM_SDKAPPID", "1")]).client_builder(true).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Missing {
                settings: vec![Setting::Identifier, Setting::SecretKey, Setting::Region, Setting::BaseUrl]
            }
        );
        let text = err.to_string();
        assert!(text.contains("--identifier (or TIM_IDENTIFIER)"), "{text}");
        assert!(text.ends_with("--region (or TIM_REGION) or --base-url (or TIM_BASE_URL)"), "{text}");
        let err = vars(&[("TIM_SDKAPPID", "x")]).key().unwrap_err();
        assert!(matches!(err, ConfigError::Env { var: "TIM_SDKAPPID", .. }), "{err}");
    }

    #[test]
    fn flags_win_over_the_environment() {
        let flags = Settings { sdkappid: Some("2".into()), ..Settings::default() };
        let merged = flags.or(vars(&[("TIM_SDKAPPID", "1"), ("TIM_IDENTIFIER", "a")]));
        assert_eq!((merged.sdkappid.as_deref(), merged.identifier.as_deref()), (Some("2"), Some("a")));
    }
}
