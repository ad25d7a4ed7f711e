//! Audio-video (live) group controls: administrators, member marks and
//! bans. Live groups keep no member list, so these name any existing
//! account; the emulator has no client connections, so every existing
//! account counts as present (the service leaves offline members out of a
//! mark change).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tim_runtime::api::group_open_avchatroom_http_svc::{get_admin_list, modify_admin, modify_user_info};
use tim_runtime::api::group_open_http_svc::{ban_group_member, get_group_ban_member, unban_group_member};
use tim_runtime::ErrorRole;

use super::super::accounts::{TAG_IMAGE, TAG_NICK};
use super::super::typed::{route, Route, Typed};
use super::super::{Call, Refusal, World};
use super::Group;

/// The live-group endpoints.
pub static ROUTES: &[Route] = &[
    route!(get_admin_list::Request, admins),
    route!(modify_admin::Request, set_admins),
    route!(modify_user_info::Request, marks),
    route!(ban_group_member::Request, ban),
    route!(unban_group_member::Request, unban),
    route!(get_group_ban_member::Request, banned),
];

/// What a live group keeps besides its profile.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Live {
    /// Administrators.
    pub admins: BTreeSet<String>,
    /// Marks by member.
    pub marks: BTreeMap<String, BTreeSet<u32>>,
    /// Ban end times (Unix seconds) by member.
    pub banned: BTreeMap<String, u64>,
}

fn group<'w>(w: &'w mut World, call: &Call<'_>, id: &str) -> Result<&'w mut Group, Refusal> {
    w.groups.get_or_refuse(call, id)
}

fn known(w: &World, call: &Call<'_>, ids: &[String]) -> Result<(), Refusal> {
    match ids.iter().find(|id| !w.accounts.exists(id)) {
        Some(id) => Err(call.refuse(ErrorRole::AccountNotFound, format!("account {id} does not exist"))),
        None => Ok(()),
    }
}

fn admins(w: &mut World, call: &Call<'_>, req: get_admin_list::Request) -> Typed<get_admin_list::Request> {
    let ids: Vec<String> = group(w, call, &req.group_id)?.live.admins.iter().cloned().collect();
    let list = ids
        .iter()
        .map(|id| {
            let text = |tag: &str| {
                w.accounts.profile_value(id, tag).and_then(|v| v.as_str()).unwrap_or("").to_owned()
            };
            get_admin_list::AdminEntry::new(id.as_str()).avatar(text(TAG_IMAGE)).nick_name(text(TAG_NICK))
        })
        .collect::<Vec<_>>();
    Ok(get_admin_list::Response::new().admin_list(list).into())
}

fn set_admins(w: &mut World, call: &Call<'_>, req: modify_admin::Request) -> Typed<modify_admin::Request> {
    known(w, call, &req.admin_account)?;
    let g = group(w, call, &req.group_id)?;
    let mut next = g.live.admins.clone();
    match req.command_type {
        modify_admin::AdminCommand::Cancel => {
            for a in &req.admin_account {
                next.remove(a);
            }
        }
        _ => next.extend(req.admin_account.iter().cloned()),
    }
    call.within_limit("max_admins", next.len() as u64, "administrators")?;
    g.live.admins = next;
    Ok(modify_admin::Response::new().into())
}

fn marks(w: &mut World, call: &Call<'_>, req: modify_user_info::Request) -> Typed<modify_user_info::Request> {
    let ids: Vec<String> = req.member_list.iter().map(|m| m.member_account.clone()).collect();
    known(w, call, &ids)?;
    let g = group(w, call, &req.group_id)?;
    let set = !matches!(req.command_type, modify_user_info::MarkCommand::Delete);
    let mut changed = Vec::new();
    for m in &req.member_list {
        let marks = g.live.marks.entry(m.member_account.clone()).or_default();
        for mark in &m.marks {
            if set {
                marks.insert(*mark);
            } else {
                marks.remove(mark);
            }
        }
        changed.push(modify_user_info::ChangedMarks::new(m.member_account.as_str()).marks(m.marks.clone()));
    }
    g.live.marks.retain(|_, m| !m.is_empty());
    let applied = if set {
        modify_user_info::AppliedMarkCommand::Set
    } else {
        modify_user_info::AppliedMarkCommand::Delete
    };
    Ok(modify_user_info::Response::new().command_type(applied).member_list(changed).into())
}

fn ban(w: &mut World, call: &Call<'_>, req: ban_group_member::Request) -> Typed<ban_group_member::Request> {
    known(w, call, &req.members_account)?;
    let g = group(w, call, &req.group_id)?;
    let until = call.now.saturating_add(u64::from(req.duration));
    for m in req.members_account {
        g.live.banned.insert(m, until);
    }
    Ok(ban_group_member::Response::new().into())
}

fn unban(
    w: &mut World,
    call: &Call<'_>,
    req: unban_group_member::Request,
) -> Typed<unban_group_member::Request> {
    let g = group(w, call, &req.group_id)?;
    for m in &req.members_account {
        g.live.banned.remove(m);
    }
    Ok(unban_group_member::Response::new().into())
}

fn banned(
    w: &mut World,
    call: &Call<'_>,
    req: get_group_ban_member::Request,
) -> Typed<get_group_ban_member::Request> {
    let g = group(w, call, &req.group_id)?;
    let current: Vec<(&String, &u64)> =
        g.live.banned.iter().filter(|(_, until)| **until > call.now).collect();
    let start = usize::try_from(req.offset).unwrap_or(usize::MAX);
    let limit = req.limit.filter(|l| *l > 0).unwrap_or(100) as usize;
    let page: Vec<get_group_ban_member::BannedAccount> = current
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, until)| get_group_ban_member::BannedAccount::new(id.as_str(), **until))
        .collect();
    let end = start.saturating_add(page.len());
    let next = if end < current.len() { end as u64 } else { 0 };
    Ok(get_group_ban_member::Response::new().banned_account_list(page).next_offset(next).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::testing::{exec, exec_ok, world};

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn admins_marks_and_bans_of_a_live_group() {
        let mut w = world(&["u1", "u2", "u3", "u4", "u5", "u6"]);
        exec_ok(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Type": "AVChatRoom", "Name": "live", "GroupId": "live"}),
            NOW,
        );
        exec_ok(
            &mut w,
            "group_open_avchatroom_http_svc/modify_admin",
            json!({"GroupId": "live", "CommandType": 1, "Admin_Account": ["u1", "u2"]}),
            NOW,
        );
        exec_ok(
            &mut w,
            "group_open_avchatroom_http_svc/modify_admin",
            json!({"GroupId": "live", "CommandType": 2, "Admin_Account": ["u1"]}),
            NOW,
        );
        let r =
            exec_ok(&mut w, "group_open_avchatroom_http_svc/get_admin_list", json!({"GroupId": "live"}), NOW)
                .body();
        assert_eq!(r["Admin_List"][0]["Admin_Account"], "u2");
        assert_eq!(r["Admin_List"].as_array().unwrap().len(), 1);
        let too_many =
            json!({"GroupId": "live", "CommandType": 1, "Admin_Account": ["u1", "u3", "u4", "u5", "u6"]});
        assert!(exec(&mut w, "group_open_avchatroom_http_svc/modify_admin", too_many, NOW).is_err());
        let r = exec_ok(&mut w, "group_open_avchatroom_http_svc/modify_user_info", json!({"GroupId": "live", "CommandType": 1, "MemberList": [{"Member_Account": "u3", "Marks": [1000, 1001]}]}), NOW).body();
        assert_eq!(r["MemberList"][0]["Marks"], json!([1000, 1001]));
        exec_ok(
            &mut w,
            "group_open_avchatroom_http_svc/modify_user_info",
            json!({"GroupId": "live", "CommandType": 2, "MemberList": [{"Member_Account": "u3", "Marks": [1000]}]}),
            NOW,
        );
        assert_eq!(
            w.groups.get("live").unwrap().live.marks["u3"].iter().copied().collect::<Vec<_>>(),
            [1001]
        );
        exec_ok(
            &mut w,
            "group_open_http_svc/ban_group_member",
            json!({"GroupId": "live", "Members_Account": ["u1", "u2"], "Duration": 60}),
            NOW,
        );
        let page = exec_ok(
            &mut w,
            "group_open_http_svc/get_group_ban_member",
            json!({"GroupId": "live", "Limit": 1, "Offset": 0}),
            NOW,
        )
        .body();
        assert_eq!(
            (page["BannedAccountList"][0]["BannedUntil"].as_u64(), page["NextOffset"].as_u64()),
            (Some(NOW + 60), Some(1))
        );
        exec_ok(
            &mut w,
            "group_open_http_svc/unban_group_member",
            json!({"GroupId": "live", "Members_Account": ["u1"]}),
            NOW,
        );
        let page = exec_ok(
            &mut w,
            "group_open_http_svc/get_group_ban_member",
            json!({"GroupId": "live", "Offset": 0}),
            NOW,
        )
        .body();
        assert_eq!(page["BannedAccountList"], json!([{"Member_Account": "u2", "BannedUntil": NOW + 60}]));
        // Bans run out.
        let later = exec_ok(
            &mut w,
            "group_open_http_svc/get_group_ban_member",
            json!({"GroupId": "live", "Offset": 0}),
            NOW + 61,
        )
        .body();
        assert_eq!(later["BannedAccountList"], json!([]));
        // Other group types are refused by the specs' tables.
        exec_ok(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "u1", "Type": "Public", "Name": "p", "GroupId": "pub"}),
            NOW,
        );
        assert!(exec(
            &mut w,
            "group_open_http_svc/ban_group_member",
            json!({"GroupId": "pub", "Members_Account": ["u2"], "Duration": 60}),
            NOW
        )
        .is_err());
    }
}
