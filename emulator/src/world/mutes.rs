//! Mutes under their legacy names: an account's global mute
//! (`openconfigsvr/setnospeaking`, `getnospeaking`), kept on the account,
//! and the muted members of a group under the old field names
//! (`get_group_shutted_uin`), read from the same state as
//! `get_group_muted_account`.
//!
//! REST sends are not refused for a global mute: the service documents the
//! mute as applying to the user's own (SDK) sends, and `sendmsg` as not
//! checking mutes.

use tim_runtime::api::group_open_http_svc::get_group_shutted_uin as shutted;
use tim_runtime::api::openconfigsvr::{getnospeaking, setnospeaking};
use tim_runtime::ErrorRole;

use super::typed::{route, Route, Typed};
use super::{Call, World};

/// The wire value of a permanent mute.
const PERMANENT: u32 = u32::MAX;

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(setnospeaking::Request, set_no_speaking),
    route!(getnospeaking::Request, get_no_speaking),
    route!(shutted::Request, get_group_shutted_uin),
];

/// When a mute of `secs` seconds set at `now` ends: 0 for none, `u64::MAX`
/// for a permanent one.
fn until(now: u64, secs: u32) -> u64 {
    match secs {
        0 => 0,
        PERMANENT => u64::MAX,
        s => now.saturating_add(u64::from(s)),
    }
}

/// The seconds left of a mute ending at `until`, as the wire says them.
fn remaining(now: u64, until: u64) -> u32 {
    match until {
        u64::MAX => PERMANENT,
        u => u32::try_from(u.saturating_sub(now)).unwrap_or(PERMANENT - 1),
    }
}

fn set_no_speaking(
    w: &mut World,
    call: &Call<'_>,
    req: setnospeaking::Request,
) -> Typed<setnospeaking::Request> {
    if req.c2_cmsg_nospeaking_time.is_none() && req.groupmsg_nospeaking_time.is_none() {
        return Err(
            call.refuse_named("NoMuteTimeGiven", "give C2CmsgNospeakingTime, GroupmsgNospeakingTime or both")
        );
    }
    let Some(account) = w.accounts.accounts.get_mut(&req.set_account) else {
        return Err(
            call.refuse_named("SetAccountInvalid", format!("account {} does not exist", req.set_account))
        );
    };
    if let Some(secs) = req.c2_cmsg_nospeaking_time {
        account.c2c_mute_until = until(call.now, secs);
    }
    if let Some(secs) = req.groupmsg_nospeaking_time {
        account.group_mute_until = until(call.now, secs);
    }
    Ok(setnospeaking::Response::new().into())
}

fn get_no_speaking(
    w: &mut World,
    call: &Call<'_>,
    req: getnospeaking::Request,
) -> Typed<getnospeaking::Request> {
    let Some(account) = w.accounts.accounts.get(&req.get_account) else {
        return Err(
            call.refuse(ErrorRole::AccountNotFound, format!("account {} does not exist", req.get_account))
        );
    };
    Ok(getnospeaking::Response::new()
        .c2_cmsg_nospeaking_time(remaining(call.now, account.c2c_mute_until))
        .groupmsg_nospeaking_time(remaining(call.now, account.group_mute_until))
        .into())
}

fn get_group_shutted_uin(w: &mut World, call: &Call<'_>, req: shutted::Request) -> Typed<shutted::Request> {
    let Some(group) = w.groups.get(&req.group_id) else {
        return Err(call.refuse(ErrorRole::GroupNotFound, format!("group {} does not exist", req.group_id)));
    };
    let list: Vec<shutted::ShuttedUin> = group
        .muted
        .iter()
        .filter(|(_, until)| **until > call.now)
        .map(|(account, until)| shutted::ShuttedUin::new(account.as_str(), *until))
        .collect();
    Ok(shutted::Response::new().group_id(req.group_id).shutted_uin_list(list).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, world};
    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn set_then_get_counts_down_and_permanent_stays() {
        let mut w = world(&["alice"]);
        let set = json!({"Set_Account": "alice", "C2CmsgNospeakingTime": PERMANENT, "GroupmsgNospeakingTime": 7200});
        exec_ok(&mut w, "openconfigsvr/setnospeaking", set, NOW);
        let got =
            exec_ok(&mut w, "openconfigsvr/getnospeaking", json!({"Get_Account": "alice"}), NOW + 100).body();
        assert_eq!(got["C2CmsgNospeakingTime"], PERMANENT);
        assert_eq!(got["GroupmsgNospeakingTime"], 7100);
        let unmute = json!({"Set_Account": "alice", "C2CmsgNospeakingTime": 0});
        exec_ok(&mut w, "openconfigsvr/setnospeaking", unmute, NOW + 200);
        let got =
            exec_ok(&mut w, "openconfigsvr/getnospeaking", json!({"Get_Account": "alice"}), NOW + 200).body();
        assert_eq!(got["C2CmsgNospeakingTime"], 0);
        assert_eq!(got["GroupmsgNospeakingTime"], 7000);
        // Over: nothing left.
        let got = exec_ok(&mut w, "openconfigsvr/getnospeaking", json!({"Get_Account": "alice"}), NOW + 9000)
            .body();
        assert_eq!(got["GroupmsgNospeakingTime"], 0);
    }

    #[test]
    fn refusals_use_the_documented_codes() {
        let mut w = world(&["alice"]);
        let r = exec(&mut w, "openconfigsvr/setnospeaking", json!({"Set_Account": "alice"}), NOW);
        assert_eq!(r.unwrap_err().code, 130008);
        let r = exec(
            &mut w,
            "openconfigsvr/setnospeaking",
            json!({"Set_Account": "ghost", "C2CmsgNospeakingTime": 5}),
            NOW,
        );
        assert_eq!(r.unwrap_err().code, 130005);
    }

    #[test]
    fn the_legacy_muted_list_reads_the_same_mutes() {
        let mut w = world(&["alice", "bob"]);
        let create = json!({"Owner_Account": "alice", "Type": "Public", "Name": "g", "GroupId": "g1",
            "MemberList": [{"Member_Account": "bob"}]});
        exec_ok(&mut w, "group_open_http_svc/create_group", create, NOW);
        let mute = json!({"GroupId": "g1", "Members_Account": ["bob"], "MuteTime": 60});
        exec_ok(&mut w, "group_open_http_svc/forbid_send_msg", mute, NOW);
        let legacy =
            exec_ok(&mut w, "group_open_http_svc/get_group_shutted_uin", json!({"GroupId": "g1"}), NOW)
                .body();
        let current =
            exec_ok(&mut w, "group_open_http_svc/get_group_muted_account", json!({"GroupId": "g1"}), NOW)
                .body();
        assert_eq!(legacy["ShuttedUinList"][0]["Member_Account"], "bob");
        assert_eq!(legacy["ShuttedUinList"][0]["ShuttedUntil"], current["MutedAccountList"][0]["MutedUntil"]);
        assert_eq!(legacy["ShuttedUinList"][0]["ShuttedUntil"], NOW + 60);
    }
}
