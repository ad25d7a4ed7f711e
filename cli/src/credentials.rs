//! The app's credentials and the API address, flag by flag, for the
//! subcommands that use them: each takes only its own share, so its `--help`
//! lists what applies to it. The same flags given before the subcommand
//! (`tim --base-url URL call ...`) are still accepted, unlisted; the
//! subcommand's own win, then those, then the `TIM_*` variables.
//!
//! Deliberately not `Debug`: they hold the secret key.

use clap::Args;

use crate::Config;

/// Which app, and the admin account and key requests are signed with.
#[derive(Args, Clone, Default)]
pub(crate) struct AppFlags {
    /// SDKAppID of the app [or TIM_SDKAPPID].
    #[arg(long)]
    sdkappid: Option<String>,
    /// Admin account (UserID) requests are made as [or TIM_IDENTIFIER].
    #[arg(long)]
    identifier: Option<String>,
    /// Secret key of the app, used to sign UserSigs [or TIM_SECRET_KEY]. Prefer
    /// the variable: a flag is visible to other users in process listings.
    #[arg(long)]
    secret_key: Option<String>,
}

/// Where requests go.
#[derive(Args, Clone, Default)]
pub(crate) struct TargetFlags {
    /// Data-center region: china, singapore, seoul, tokyo, frankfurt, india,
    /// silicon-valley, jakarta [or TIM_REGION].
    #[arg(long)]
    region: Option<String>,
    /// Explicit API base URL (https, or http for loopback); wins over --region
    /// [or TIM_BASE_URL].
    #[arg(long)]
    base_url: Option<String>,
}

/// What signing and checking UserSigs needs: the app and its key.
#[derive(Args, Clone, Default)]
pub(crate) struct KeyFlags {
    /// SDKAppID of the app [or TIM_SDKAPPID].
    #[arg(long)]
    sdkappid: Option<String>,
    /// Secret key of the app [or TIM_SECRET_KEY]. Prefer the variable: a flag
    /// is visible to other users in process listings.
    #[arg(long)]
    secret_key: Option<String>,
}

/// Which app callbacks are for.
#[derive(Args, Clone, Default)]
pub(crate) struct AppIdFlag {
    /// SDKAppID of the app [or TIM_SDKAPPID].
    #[arg(long)]
    sdkappid: Option<String>,
}

impl Config {
    /// These settings with the subcommand's own flags in front.
    pub(crate) fn with_app(&self, f: &AppFlags) -> Config {
        Config {
            sdkappid: f.sdkappid.clone().or_else(|| self.sdkappid.clone()),
            identifier: f.identifier.clone().or_else(|| self.identifier.clone()),
            secret_key: f.secret_key.clone().or_else(|| self.secret_key.clone()),
            ..self.clone()
        }
    }

    /// These settings with the subcommand's address flags in front.
    pub(crate) fn with_target(&self, f: &TargetFlags) -> Config {
        Config {
            region: f.region.clone().or_else(|| self.region.clone()),
            base_url: f.base_url.clone().or_else(|| self.base_url.clone()),
            ..self.clone()
        }
    }

    /// These settings with the subcommand's key flags in front.
    pub(crate) fn with_key(&self, f: &KeyFlags) -> Config {
        Config {
            sdkappid: f.sdkappid.clone().or_else(|| self.sdkappid.clone()),
            secret_key: f.secret_key.clone().or_else(|| self.secret_key.clone()),
            ..self.clone()
        }
    }

    /// These settings with the subcommand's SDKAppID flag in front.
    pub(crate) fn with_appid(&self, f: &AppIdFlag) -> Config {
        Config { sdkappid: f.sdkappid.clone().or_else(|| self.sdkappid.clone()), ..self.clone() }
    }
}
