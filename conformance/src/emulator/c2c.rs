//! c2c.

use serde::{Deserialize, Serialize};

use super::{Call, Event, Handled, Refusal, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[];

/// State of this family.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2c {}

impl C2c {
    /// Removes every trace of an account.
    pub fn forget_account(&mut self, _id: &str) {}

    /// Whether the state names the account.
    pub fn mentions_account(&self, _id: &str) -> bool {
        false
    }
}

/// Before-callbacks of a call, or why it is refused.
pub fn before(_w: &World, _call: &Call<'_>) -> Result<Vec<Event>, Refusal> {
    Ok(Vec::new())
}

/// Answers a call on one of [`PATHS`].
pub fn handle(_w: &mut World, call: &Call<'_>) -> Handled {
    Err(call.refuse(tim_runtime::ErrorRole::InvalidField, "not yet"))
}

/// A one-to-one conversation of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2cConversation {
    /// The other account.
    pub peer: String,
    /// Time of the latest message (Unix seconds).
    pub last_msg_time: u64,
    /// Messages from `peer` the account has not read.
    pub unread: u64,
}

impl C2c {
    /// The one-to-one conversations of `account`.
    pub fn conversations_of(&self, _account: &str) -> Vec<C2cConversation> {
        Vec::new()
    }
}
