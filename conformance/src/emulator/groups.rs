//! groups.

use serde::{Deserialize, Serialize};

use super::{Call, Event, Handled, Refusal, World};

/// Paths this family answers.
pub const PATHS: &[&str] = &[];

/// State of this family.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Groups {}

impl Groups {
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

impl Groups {
    /// The type of an existing group (`Public`, `ChatRoom`, ...).
    pub fn type_of(&self, _id: &str) -> Option<&str> {
        None
    }
}

/// A group as a conversation of one member (recent contacts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConversation {
    /// The group.
    pub group_id: String,
    /// Time of the group's latest message (Unix seconds; 0 without one).
    pub last_msg_time: u64,
    /// The member's unread count.
    pub unread: u64,
}

impl Groups {
    /// The groups `account` is a member of, as conversations.
    pub fn joined_by(&self, _account: &str) -> Vec<GroupConversation> {
        Vec::new()
    }
}
