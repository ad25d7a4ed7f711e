//! Friend lists (the `sns/group_*` endpoints): creating, deleting and getting them.

use serde_json::{json, Value};
use tim_runtime::ErrorRole;

use super::{check_target, fail, valid_list_name, Results, MAX_FRIEND_LISTS, MAX_LIST_NAME_BYTES};
use crate::world::{Call, Done, Handled, World};

/// Creates lists (names already there are kept) and puts the named friends
/// into all of them.
pub(super) fn group_add(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let names = call.strings("GroupName");
    if names.is_empty() || !names.iter().all(|n| valid_list_name(n)) {
        return Err(call.refuse_field(
            "GroupName",
            format!("list names are non-empty and at most {MAX_LIST_NAME_BYTES} bytes"),
        ));
    }
    let user = w.friends.user(from);
    if user.lists_overflow(&names) {
        return Err(call
            .refuse(ErrorRole::LimitReached, format!("a user has at most {MAX_FRIEND_LISTS} friend lists")));
    }
    user.create_lists(&names);
    let mut results = Results::default();
    for to in call.strings("To_Account") {
        let outcome = check_target(w, call, from, &to).and_then(|()| {
            let user = w.friends.user(from);
            let Some(friend) = user.friends.get_mut(&to) else {
                return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
            };
            for n in &names {
                if !friend.groups.contains(n) {
                    friend.groups.push(n.clone());
                }
            }
            user.bump_standard();
            Ok(())
        });
        results.push(&to, outcome);
    }
    let mut done = results.into_done(true);
    done.reply.insert("CurrentSequence".into(), json!(w.friends.user(from).list_sequence));
    Ok(done)
}

/// Deletes lists; their friends stay friends. Names that are no list are
/// ignored.
pub(super) fn group_delete(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let names = call.strings("GroupName");
    let user = w.friends.user(from);
    let before = user.lists.len();
    user.lists.retain(|l| !names.contains(l));
    if user.lists.len() != before {
        user.list_sequence = user.list_sequence.saturating_add(1);
        let mut touched = false;
        for f in user.friends.values_mut() {
            let n = f.groups.len();
            f.groups.retain(|g| !names.contains(g));
            touched |= f.groups.len() != n;
        }
        if touched {
            user.bump_standard();
        }
    }
    Ok(Done::reply(json!({"CurrentSequence": user.list_sequence, "ErrorDisplay": ""})))
}

/// Every list (or the named ones that exist) with its size, and its friends
/// when `NeedFriend` asks for them.
pub(super) fn group_get(w: &mut World, call: &Call<'_>, from: &str) -> Handled {
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let wanted = call.strings("GroupName");
    let need_friend = call.str("NeedFriend") == Some("Need_Friend_Type_Yes");
    let items: Vec<Value> = user
        .lists
        .iter()
        .filter(|l| wanted.is_empty() || wanted.contains(l))
        .map(|l| {
            let members: Vec<&String> =
                user.friends.iter().filter(|(_, f)| f.groups.contains(l)).map(|(id, _)| id).collect();
            let mut item = json!({"GroupName": l, "FriendNumber": members.len()});
            if need_friend {
                item["To_Account"] = json!(members);
            }
            item
        })
        .collect();
    Ok(Done::reply(json!({"ResultItem": items, "CurrentSequence": user.list_sequence, "ErrorDisplay": ""})))
}
