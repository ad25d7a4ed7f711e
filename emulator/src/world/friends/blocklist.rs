//! Blocklists: blocking, unblocking, listing and checking blocked users.

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::{
    check, check_target, fail, friend_delete_event, pair, BlockEntry, Friends, Results, MAX_BLOCKLIST,
};
use crate::world::{Call, Done, Handled, World};

const BLACK_RELATIONS: [&str; 4] = [
    "BlackCheckResult_Type_BothWay",
    "BlackCheckResult_Type_AWithB",
    "BlackCheckResult_Type_BWithA",
    "BlackCheckResult_Type_NO",
];

pub(super) fn black_list_check(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    check(
        w,
        call,
        from,
        "BlackListCheckItem",
        "BlackCheckResult_Type_Both",
        BLACK_RELATIONS,
        Friends::is_blocked,
    )
}

/// Blocks users. Blocking ends the friendship both ways (each removed pair
/// is reported by `Sns.CallbackFriendDelete`); blocking someone already
/// blocked succeeds and keeps the original time.
pub(super) fn black_list_add(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let mut results = Results::default();
    let mut blocked = Vec::new();
    let mut unfriended = Vec::new();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            if w.friends.is_blocked(from, &to) {
                return Ok(());
            }
            let user = w.friends.user(from);
            if user.blocklist.len() >= MAX_BLOCKLIST {
                return Err(fail(
                    call,
                    ErrorRole::LimitReached,
                    format!("the blocklist holds {MAX_BLOCKLIST} users"),
                ));
            }
            user.blocklist.insert(to.clone(), BlockEntry { added_at: call.now });
            user.black_sequence = user.black_sequence.saturating_add(1);
            blocked.push(pair(from, &to));
            if w.friends.unfriend(from, &to) {
                unfriended.push(pair(from, &to));
            }
            if w.friends.unfriend(&to, from) {
                unfriended.push(pair(&to, from));
            }
            Ok(())
        });
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    if !blocked.is_empty() {
        done = done.event("Sns.CallbackBlackListAdd", json!({ "PairList": blocked }));
    }
    Ok(friend_delete_event(done, unfriended))
}

/// Unblocks users; one that is not blocked gets the catch-all code (the
/// page documents none for it).
pub(super) fn black_list_delete(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            let user = w.friends.user(from);
            if user.blocklist.remove(&to).is_none() {
                return Err(fail(
                    call,
                    ErrorRole::InvalidField,
                    format!("{to} is not on {from}'s blocklist"),
                ));
            }
            user.black_sequence = user.black_sequence.saturating_add(1);
            pairs.push(pair(from, &to));
            Ok(())
        });
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    if !pairs.is_empty() {
        done = done.event("Sns.CallbackBlackListDelete", json!({ "PairList": pairs }));
    }
    Ok(done)
}

/// One page of at most `MaxLimited` blocked users from `StartIndex`, in
/// the order they were blocked; `StartIndex` 0 in the reply ends the list.
pub(super) fn black_list_get(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let mut entries: Vec<(&String, &BlockEntry)> = user.blocklist.iter().collect();
    entries.sort_by(|a, b| a.1.added_at.cmp(&b.1.added_at).then_with(|| a.0.cmp(b.0)));
    let start = usize::try_from(call.u64("StartIndex").unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = usize::try_from(call.u64("MaxLimited").unwrap_or(0)).unwrap_or(usize::MAX).max(1);
    let page: Vec<Value> = entries
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, e)| json!({"To_Account": id, "AddBlackTimeStamp": e.added_at}))
        .collect();
    let end = start.saturating_add(page.len());
    let next = if end >= entries.len() { 0 } else { end };
    Ok(Done::reply(json!({
        "BlackListItem": page,
        "StartIndex": next,
        "CurruentSequence": user.black_sequence,
        "ErrorDisplay": "",
    })))
}
