//! Accounts and profiles: import, delete, check, portrait set/get.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Call, Handled, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[];

/// Every account and its profile.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Accounts {
    /// By UserID.
    pub accounts: BTreeMap<String, Account>,
}

/// One account.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Account {
    /// Profile fields by tag (`Tag_Profile_IM_Nick`, ...).
    pub profile: BTreeMap<String, Value>,
}

impl Accounts {
    /// Creates the account if it does not exist.
    pub fn ensure(&mut self, id: &str) {
        self.accounts.entry(id.to_owned()).or_default();
    }

    /// Whether the account exists.
    pub fn exists(&self, id: &str) -> bool {
        self.accounts.contains_key(id)
    }

    /// Removes the account.
    pub fn forget_account(&mut self, id: &str) {
        self.accounts.remove(id);
    }
}

/// Answers a call on one of [`PATHS`].
pub fn handle(_w: &mut World, call: &Call<'_>) -> Handled {
    Err(call.refuse(tim_runtime::ErrorRole::InvalidField, "not yet"))
}
