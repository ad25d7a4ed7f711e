//! Blocklists: blocking, unblocking, listing and checking blocked users.

use tim_runtime::api::callbacks::sns::{black_list_add as blocked_cb, black_list_delete as unblocked_cb};
use tim_runtime::api::sns::{black_list_add, black_list_check, black_list_delete, black_list_get};
use tim_runtime::ErrorRole;

use super::{
    check, check_target, fail, friend_delete_event, over_limit, sender, BlockEntry, Friends, Results,
};
use crate::world::typed::{Answer, Typed};
use crate::world::{Call, Event, World};

pub(super) fn black_list_check(
    w: &mut World,
    call: &Call<'_>,
    req: black_list_check::Request,
) -> Typed<black_list_check::Request> {
    use black_list_check::{BlackCheckInfo, BlackRelation};
    let from = sender(w, call, &req.from_account)?;
    let two_way = req.check_type == black_list_check::BlackCheckType::Both;
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for (to, r) in
        req.to_account.iter().zip(check(w, call, from, &req.to_account, two_way, Friends::is_blocked))
    {
        let item = BlackCheckInfo::new(to.as_str());
        items.push(match r {
            Ok(rel) => {
                let relation = match rel {
                    (true, Some(true)) => BlackRelation::BothWay,
                    (true, _) => BlackRelation::AWithB,
                    (false, Some(true)) => BlackRelation::BWithA,
                    (false, _) => BlackRelation::No,
                };
                item.relation(relation).result_code(0i64).result_info("")
            }
            Err((code, info)) => {
                failed.push(to.clone());
                item.result_code(code).result_info(info)
            }
        });
    }
    let mut reply = black_list_check::Response::new().black_list_check_item(items).error_display("");
    if !failed.is_empty() {
        reply = reply.fail_account(failed);
    }
    Ok(reply.into())
}

/// Blocks users. Blocking ends the friendship both ways (each removed pair
/// is reported by `Sns.CallbackFriendDelete`); blocking someone already
/// blocked succeeds and keeps the original time.
pub(super) fn black_list_add(
    w: &mut World,
    call: &Call<'_>,
    req: black_list_add::Request,
) -> Typed<black_list_add::Request> {
    let from = sender(w, call, &req.from_account)?;
    let mut results = Results::default();
    let mut blocked = Vec::new();
    let mut unfriended = Vec::new();
    for to in &req.to_account {
        let outcome = check_target(w, call, from, to).and_then(|()| {
            if w.friends.is_blocked(from, to) {
                return Ok(());
            }
            let user = w.friends.user(from);
            over_limit(call, "blocklist_size", user.blocklist.len() as u64 + 1, "users on the blocklist")?;
            user.blocklist.insert(to.clone(), BlockEntry { added_at: call.now });
            user.black_sequence = user.black_sequence.saturating_add(1);
            blocked.push(blocked_cb::BlacklistPair::new(from, to.as_str()));
            if w.friends.unfriend(from, to) {
                unfriended.push((from.to_owned(), to.clone()));
            }
            if w.friends.unfriend(to, from) {
                unfriended.push((to.clone(), from.to_owned()));
            }
            Ok(())
        });
        results.push(to, outcome);
    }
    let (items, failed) = results.into_parts();
    let mut reply = black_list_add::Response::new().result_item(items).error_display("");
    reply.fail_account = failed;
    let mut events = Vec::new();
    if !blocked.is_empty() {
        events.push(Event::typed(&blocked_cb::Payload::new(blocked)));
    }
    events.extend(friend_delete_event(unfriended));
    Ok(Answer::with_events(reply, events))
}

/// Unblocks users; one that is not blocked gets the catch-all code (the
/// page documents none for it).
pub(super) fn black_list_delete(
    w: &mut World,
    call: &Call<'_>,
    req: black_list_delete::Request,
) -> Typed<black_list_delete::Request> {
    let from = sender(w, call, &req.from_account)?;
    let mut results = Results::default();
    let mut pairs = Vec::new();
    for to in &req.to_account {
        let outcome = check_target(w, call, from, to).and_then(|()| {
            let user = w.friends.user(from);
            if user.blocklist.remove(to).is_none() {
                return Err(fail(
                    call,
                    ErrorRole::InvalidField,
                    format!("{to} is not on {from}'s blocklist"),
                ));
            }
            user.black_sequence = user.black_sequence.saturating_add(1);
            pairs.push(unblocked_cb::BlacklistPair::new(from, to.as_str()));
            Ok(())
        });
        results.push(to, outcome);
    }
    let (items, failed) = results.into_parts();
    let mut reply = black_list_delete::Response::new().result_item(items).error_display("");
    reply.fail_account = failed;
    let events =
        if pairs.is_empty() { Vec::new() } else { vec![Event::typed(&unblocked_cb::Payload::new(pairs))] };
    Ok(Answer::with_events(reply, events))
}

/// One page of at most `MaxLimited` blocked users from `StartIndex`, in
/// the order they were blocked; `StartIndex` 0 in the reply ends the list.
pub(super) fn black_list_get(
    w: &mut World,
    call: &Call<'_>,
    req: black_list_get::Request,
) -> Typed<black_list_get::Request> {
    let from = sender(w, call, &req.from_account)?;
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let mut entries: Vec<(&String, &BlockEntry)> = user.blocklist.iter().collect();
    entries.sort_by(|a, b| a.1.added_at.cmp(&b.1.added_at).then_with(|| a.0.cmp(b.0)));
    let start = usize::try_from(req.start_index).unwrap_or(usize::MAX);
    let limit = usize::try_from(req.max_limited).unwrap_or(usize::MAX).max(1);
    let page: Vec<black_list_get::BlockedUser> = entries
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, e)| black_list_get::BlockedUser::new(id.as_str()).add_black_time_stamp(e.added_at))
        .collect();
    let end = start.saturating_add(page.len());
    let next = if end >= entries.len() { 0 } else { end as u64 };
    Ok(black_list_get::Response::new()
        .black_list_item(page)
        .start_index(next)
        .curruent_sequence(user.black_sequence)
        .error_display("")
        .into())
}
