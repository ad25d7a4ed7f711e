//! One-to-one messages: sending (one or many recipients), importing, history
//! pages, unread counts and read marks, read receipts, recall, modification,
//! deletion for one side, and message extensions.
//!
//! Messages live in one [`Thread`] per pair of accounts, ordered by time, then
//! `MsgSeq`, then arrival. A message's `MsgKey` (`{seq}_{random}_{time}`) is
//! unique within its thread; the same key in another thread is another
//! message (a batch send gives every recipient the same key).

pub(crate) mod extensions;
mod history;
mod read;
mod send;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_runtime::api::openim::{
    admin_getroammsg, admin_msgwithdraw, admin_set_msg_read, batchsendmsg, c2c_msg_read_receipt,
    delete_c2c_msg_ramble, get_c2c_unread_msg_num, importmsg, modify_c2c_msg, sendmsg,
};
use tim_runtime::api::types::MsgBody;
use tim_runtime::ErrorRole;

use super::typed::{route, Route};
use super::Call;

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(sendmsg::Request, send::sendmsg, before = send::before_sendmsg),
    route!(batchsendmsg::Request, send::batchsendmsg),
    route!(importmsg::Request, send::importmsg),
    route!(get_c2c_unread_msg_num::Request, read::unread_num),
    route!(admin_set_msg_read::Request, read::set_msg_read),
    route!(c2c_msg_read_receipt::Request, read::read_receipt),
    route!(admin_getroammsg::Request, history::roam),
    route!(admin_msgwithdraw::Request, history::withdraw),
    route!(delete_c2c_msg_ramble::Request, history::delete_ramble),
    route!(modify_c2c_msg::Request, history::modify),
];

/// One-to-one messages of the app.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct C2c {
    /// Threads by the pair's smaller UserID, then the larger one.
    pub threads: BTreeMap<String, BTreeMap<String, Thread>>,
    /// Last number handed out for a generated `MsgSeq` and for arrival order.
    pub counter: u64,
}

/// The messages two accounts exchanged.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Thread {
    /// Oldest first (time, then `MsgSeq`, then arrival).
    pub messages: Vec<C2cMessage>,
}

/// One stored one-to-one message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct C2cMessage {
    /// Sender.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// `MsgSeq`.
    pub seq: u64,
    /// `MsgRandom`.
    pub random: u64,
    /// Send time (Unix seconds).
    pub time: u64,
    /// `MsgKey`.
    pub key: String,
    /// Arrival order over the whole app (ties of time and `MsgSeq`).
    pub order: u64,
    /// `MsgBody`.
    pub body: MsgBody,
    /// `CloudCustomData`.
    pub cloud_custom_data: Option<String>,
    /// Recalled (`admin_msgwithdraw`).
    pub recalled: bool,
    /// Counts in the recipient's unread number.
    pub unread: bool,
    /// The recipient sent a read receipt for it (`IsPeerRead`).
    pub peer_read: bool,
    /// Sent with `IsNeedReadReceipt` 1.
    pub need_read_receipt: bool,
    /// Sent with `SendMsgControl` `NoLastMsg`: does not move the conversation.
    pub no_last_msg: bool,
    /// Accounts whose history no longer shows it (deleted on their side, or
    /// the sender of a message sent with `SyncOtherMachine` 2).
    pub hidden_for: Vec<String>,
    /// Sent with `SupportMessageExtension` 1.
    pub supports_extension: bool,
    /// Its extension pairs.
    pub extension: Extension,
}

/// The key-value extension of a message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Extension {
    /// Current pairs by key.
    pub pairs: BTreeMap<String, ExtensionPair>,
    /// Version of the latest change (every change request adds one).
    pub latest_seq: u64,
    /// Version of the last clear (0: never cleared).
    pub clear_seq: u64,
}

/// One extension pair.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ExtensionPair {
    /// The value.
    pub value: String,
    /// Version of its last change.
    pub seq: u64,
}

impl C2cMessage {
    /// Whether `account`'s history still shows it.
    pub fn visible_to(&self, account: &str) -> bool {
        !self.hidden_for.iter().any(|a| a == account)
    }

    fn sort_key(&self) -> (u64, u64, u64) {
        (self.time, self.seq, self.order)
    }

    fn hide_for(&mut self, account: &str) {
        if self.visible_to(account) {
            self.hidden_for.push(account.to_owned());
        }
        if self.to == account {
            self.unread = false;
        }
    }
}

/// The two accounts of a thread in storage order.
fn pair<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl C2c {
    /// Removes every thread the account takes part in: its conversations,
    /// unread counts, receipts and extensions go with them, so the peers'
    /// histories with a deleted account are gone as well.
    pub fn forget_account(&mut self, id: &str) {
        self.threads.remove(id);
        for inner in self.threads.values_mut() {
            inner.remove(id);
        }
        self.threads.retain(|_, inner| !inner.is_empty());
    }

    /// Whether a stored message was sent by or to the account.
    pub fn mentions_account(&self, id: &str) -> bool {
        self.threads.iter().any(|(a, inner)| a == id || inner.contains_key(id))
    }

    /// The thread of two accounts.
    pub fn thread(&self, a: &str, b: &str) -> Option<&Thread> {
        let (x, y) = pair(a, b);
        self.threads.get(x)?.get(y)
    }

    fn thread_mut(&mut self, a: &str, b: &str) -> Option<&mut Thread> {
        let (x, y) = pair(a, b);
        self.threads.get_mut(x)?.get_mut(y)
    }

    /// Every stored message between two accounts, oldest first, whoever's
    /// history shows it (recalled ones too).
    pub fn messages_between(&self, a: &str, b: &str) -> Vec<&C2cMessage> {
        self.thread(a, b).map(|t| t.messages.iter().collect()).unwrap_or_default()
    }

    /// The message of the thread of `a` and `b` with this key.
    pub fn message(&self, a: &str, b: &str, key: &str) -> Option<&C2cMessage> {
        self.thread(a, b)?.messages.iter().find(|m| m.key == key)
    }

    fn message_mut(&mut self, from: &str, to: &str, key: &str) -> Option<&mut C2cMessage> {
        self.thread_mut(from, to)?.messages.iter_mut().find(|m| m.key == key && m.from == from && m.to == to)
    }

    /// Messages from `peer` that `reader` has not read.
    pub fn unread(&self, reader: &str, peer: &str) -> u64 {
        self.thread(reader, peer).map_or(0, |t| {
            t.messages
                .iter()
                .filter(|m| m.unread && m.to == reader && m.from == peer && m.visible_to(reader))
                .count() as u64
        })
    }

    /// Unread one-to-one messages of `reader` over all conversations.
    pub fn total_unread(&self, reader: &str) -> u64 {
        self.conversations_of(reader).iter().fold(0u64, |n, c| n.saturating_add(c.unread))
    }

    /// Marks the messages `peer` sent `reader` up to `time` (inclusive) as
    /// read.
    pub fn mark_read(&mut self, reader: &str, peer: &str, time: u64) {
        if let Some(t) = self.thread_mut(reader, peer) {
            for m in t.messages.iter_mut().filter(|m| m.to == reader && m.from == peer && m.time <= time) {
                m.unread = false;
            }
        }
    }

    /// Removes the whole conversation with `peer` from `account`'s history
    /// (the peer keeps it).
    pub fn clear_history_of(&mut self, account: &str, peer: &str) {
        if let Some(t) = self.thread_mut(account, peer) {
            for m in &mut t.messages {
                m.hide_for(account);
            }
        }
    }

    /// A fresh number (generated `MsgSeq`, arrival order).
    pub(super) fn next(&mut self) -> u64 {
        self.counter = self.counter.saturating_add(1);
        self.counter
    }

    /// Stores a message in order; `false` (and nothing stored) when its
    /// thread already holds a message with the same key.
    fn store(&mut self, mut msg: C2cMessage) -> bool {
        let (x, y) = pair(&msg.from, &msg.to);
        let (x, y) = (x.to_owned(), y.to_owned());
        if self.message(&x, &y, &msg.key).is_some() {
            return false;
        }
        msg.order = self.next();
        let thread = self.threads.entry(x).or_default().entry(y).or_default();
        let at = thread.messages.partition_point(|m| m.sort_key() <= msg.sort_key());
        thread.messages.insert(at, msg);
        true
    }

    /// The one-to-one conversations of `account`: every peer with a message
    /// its history shows (online-only messages are never stored).
    pub fn conversations_of(&self, account: &str) -> Vec<C2cConversation> {
        let mut out = Vec::new();
        for (a, inner) in &self.threads {
            for (b, t) in inner {
                let peer = if a == account {
                    b
                } else if b == account {
                    a
                } else {
                    continue;
                };
                let visible: Vec<&C2cMessage> = t.messages.iter().filter(|m| m.visible_to(account)).collect();
                if visible.is_empty() {
                    continue;
                }
                let last_msg_time =
                    visible.iter().filter(|m| !m.no_last_msg).map(|m| m.time).max().unwrap_or(0);
                let unread =
                    visible.iter().filter(|m| m.unread && m.to == account && m.from == *peer).count() as u64;
                out.push(C2cConversation { peer: peer.clone(), last_msg_time, unread });
            }
        }
        out
    }
}

/// A one-to-one conversation of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2cConversation {
    /// The other account.
    pub peer: String,
    /// Time of the latest message (Unix seconds; 0 when every message was
    /// sent with `NoLastMsg`).
    pub last_msg_time: u64,
    /// Messages from `peer` the account has not read.
    pub unread: u64,
}

/// Whether `call` generates a `MsgSeq` that its before-callback announces.
pub(super) fn needs_ticket(call: &Call<'_>) -> bool {
    call.path == "openim/sendmsg" && call.body.get("MsgSeq").is_none()
}

/// The code a per-item result gives a missing account: the public table's
/// (70107) when it carries the role, else the endpoint's own.
fn missing_account_code(call: &Call<'_>) -> i64 {
    call.meta
        .shared_errors
        .iter()
        .flat_map(|t| t.iter())
        .find(|e| e.role == Some(ErrorRole::AccountNotFound))
        .or_else(|| call.meta.error_with_role(ErrorRole::AccountNotFound))
        .map_or(-1, |e| e.code)
}
