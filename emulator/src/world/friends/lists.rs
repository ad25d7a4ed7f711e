//! Friend lists (the `sns/group_*` endpoints): creating, deleting and getting them.

use tim_runtime::api::sns::{group_add, group_delete, group_get};
use tim_runtime::ErrorRole;

use super::{check_target, fail, sender, valid_list_name, Results};
use crate::world::typed::Typed;
use crate::world::wire_u32;
use crate::world::{Call, World};

/// Creates lists (names already there are kept) and puts the named friends
/// into all of them.
pub(super) fn group_add(
    w: &mut World,
    call: &Call<'_>,
    req: group_add::Request,
) -> Typed<group_add::Request> {
    let from = sender(w, call, &req.from_account)?;
    let names = &req.group_name;
    if names.is_empty() || !names.iter().all(|n| valid_list_name(call, n)) {
        let max = call.limit_max("list_name_bytes");
        return Err(
            call.refuse_field("GroupName", format!("list names are non-empty and at most {max} bytes"))
        );
    }
    let user = w.friends.user(from);
    call.within_limit("friend_lists", user.lists_after(names), "friend lists")?;
    user.create_lists(names);
    let mut results = Results::default();
    for to in req.to_account.iter().flatten() {
        let outcome = check_target(w, call, from, to).and_then(|()| {
            let user = w.friends.user(from);
            let Some(friend) = user.friends.get_mut(to) else {
                return Err(fail(call, ErrorRole::NotFriend, format!("{to} is not a friend of {from}")));
            };
            for n in names {
                if !friend.groups.contains(n) {
                    friend.groups.push(n.clone());
                }
            }
            user.bump_standard();
            Ok(())
        });
        results.push(to, outcome);
    }
    let (items, failed) = results.into_parts();
    let mut reply = group_add::Response::new()
        .result_item(items)
        .current_sequence(w.friends.user(from).list_sequence)
        .error_display("");
    reply.fail_account = failed;
    Ok(reply.into())
}

/// Deletes lists; their friends stay friends. Names that are no list are
/// ignored.
pub(super) fn group_delete(
    w: &mut World,
    call: &Call<'_>,
    req: group_delete::Request,
) -> Typed<group_delete::Request> {
    let from = sender(w, call, &req.from_account)?;
    let names = &req.group_name;
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
    Ok(group_delete::Response::new().current_sequence(user.list_sequence).error_display("").into())
}

/// Every list (or the named ones that exist) with its size, and its friends
/// when `NeedFriend` asks for them.
pub(super) fn group_get(
    w: &mut World,
    call: &Call<'_>,
    req: group_get::Request,
) -> Typed<group_get::Request> {
    let from = sender(w, call, &req.from_account)?;
    let user = w.friends.users.get(from).cloned().unwrap_or_default();
    let wanted = req.group_name.unwrap_or_default();
    let need_friend = req.need_friend == Some(group_get::NeedFriend::Yes);
    let items: Vec<group_get::FriendList> = user
        .lists
        .iter()
        .filter(|l| wanted.is_empty() || wanted.contains(l))
        .map(|l| {
            let members: Vec<String> =
                user.friends.iter().filter(|(_, f)| f.groups.contains(l)).map(|(id, _)| id.clone()).collect();
            let item = group_get::FriendList::new(l.as_str()).friend_number(wire_u32(members.len()));
            if need_friend {
                item.to_account(members)
            } else {
                item
            }
        })
        .collect();
    Ok(group_get::Response::new()
        .result_item(items)
        .current_sequence(user.list_sequence)
        .error_display("")
        .into())
}
