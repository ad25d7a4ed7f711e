//! The names of the connection settings: each one's environment variable
//! and `tim` flag. Apart from the reader ([`crate::settings`]) so that
//! errors can name settings without depending on it.

use std::fmt;

/// One connection setting, with its environment variable and CLI flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The app's SDKAppID.
    SdkAppId,
    /// The admin account requests are made as.
    Identifier,
    /// The app's secret key, used to sign UserSigs.
    SecretKey,
    /// The data-center region (`singapore`, ...).
    Region,
    /// An explicit base URL, instead of a region's host.
    BaseUrl,
    /// The callback token set in the console, which signs callbacks (not the secret key).
    CallbackToken,
}

impl Setting {
    /// Every setting, in the order messages list them.
    pub const ALL: [Setting; 6] =
        [Self::SdkAppId, Self::Identifier, Self::SecretKey, Self::Region, Self::BaseUrl, Self::CallbackToken];

    /// The environment variable, e.g. `TIM_SDKAPPID`.
    pub fn var(self) -> &'static str {
        match self {
            Self::SdkAppId => "TIM_SDKAPPID",
            Self::Identifier => "TIM_IDENTIFIER",
            Self::SecretKey => "TIM_SECRET_KEY",
            Self::Region => "TIM_REGION",
            Self::BaseUrl => "TIM_BASE_URL",
            Self::CallbackToken => "TIM_CALLBACK_TOKEN",
        }
    }

    /// The `tim` flag, e.g. `--sdkappid`.
    pub fn flag(self) -> &'static str {
        match self {
            Self::SdkAppId => "--sdkappid",
            Self::Identifier => "--identifier",
            Self::SecretKey => "--secret-key",
            Self::Region => "--region",
            Self::BaseUrl => "--base-url",
            Self::CallbackToken => "--token",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (or {})", self.flag(), self.var())
    }
}
