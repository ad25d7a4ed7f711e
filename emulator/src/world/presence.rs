//! Who is online: `query_online_status`, `querystate` and
//! `get_online_member_num`.
//!
//! Clients log in through the client SDKs, which the emulator does not
//! serve, so every existing account is `Offline` and an audio-video group
//! has no one online. What these calls do check is real: an account that
//! does not exist is in `ErrorList` with its code (or left out where the
//! endpoint has no such list), and a group that does not exist or is not an
//! audio-video group gets the documented code.

use tim_runtime::api::group_open_http_svc::get_online_member_num;
use tim_runtime::api::openim::{query_online_status, querystate};
use tim_runtime::api::types::OnlineState;
use tim_runtime::ErrorRole;

use super::typed::{route, Route, Typed};
use super::{Call, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(query_online_status::Request, online_status),
    route!(querystate::Request, state),
    route!(get_online_member_num::Request, online_members),
];

fn online_status(
    w: &mut World,
    call: &Call<'_>,
    req: query_online_status::Request,
) -> Typed<query_online_status::Request> {
    let missing = call.refuse(ErrorRole::AccountNotFound, "").code;
    let (known, unknown): (Vec<&String>, Vec<&String>) =
        req.to_account.iter().partition(|a| w.accounts.exists(a));
    let detail = req.is_need_detail == Some(1);
    let results = known
        .into_iter()
        .map(|a| {
            let r = query_online_status::QueryResult::new(a.as_str())
                .state(query_online_status::OnlineState::Offline)
                .status(query_online_status::OnlineStatus::Offline);
            if detail {
                r.detail(Vec::<query_online_status::PlatformStatus>::new())
            } else {
                r
            }
        })
        .collect::<Vec<_>>();
    let errors = unknown
        .into_iter()
        .map(|a| query_online_status::QueryError::new(a.as_str(), missing))
        .collect::<Vec<_>>();
    Ok(query_online_status::Response::new().query_result(results).error_list(errors).into())
}

fn state(w: &mut World, _call: &Call<'_>, req: querystate::Request) -> Typed<querystate::Request> {
    let detail = req.is_need_detail == Some(1);
    let results = req
        .to_account
        .iter()
        .filter(|a| w.accounts.exists(a))
        .map(|a| {
            let r = querystate::UserState::new().to_account(a.as_str()).state(OnlineState::Offline);
            if detail {
                r.detail(Vec::<querystate::PlatformState>::new())
            } else {
                r
            }
        })
        .collect::<Vec<_>>();
    Ok(querystate::Response::new().query_result(results).into())
}

fn online_members(
    w: &mut World,
    call: &Call<'_>,
    req: get_online_member_num::Request,
) -> Typed<get_online_member_num::Request> {
    // The group-type table has already refused other types.
    if w.groups.get(&req.group_id).is_none() {
        return Err(call.refuse(ErrorRole::GroupNotFound, format!("group {} does not exist", req.group_id)));
    }
    Ok(get_online_member_num::Response::new().online_member_num(0u64).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, named_code, role_code, world};
    use tim_runtime::ErrorRole;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn asked_accounts_are_answered_and_unknown_ones_listed() {
        let mut w = world(&["alice", "bob"]);
        let r = exec_ok(
            &mut w,
            "openim/query_online_status",
            json!({"To_Account": ["alice", "ghost", "bob"]}),
            NOW,
        )
        .body();
        assert_eq!(
            r["QueryResult"],
            json!([{"To_Account": "alice", "State": "Offline", "Status": "Offline"}, {"To_Account": "bob", "State": "Offline", "Status": "Offline"}])
        );
        assert_eq!(
            r["ErrorList"],
            json!([{"To_Account": "ghost", "ErrorCode": role_code("openim/query_online_status", ErrorRole::AccountNotFound)}])
        );
        let r = exec_ok(&mut w, "openim/querystate", json!({"To_Account": ["alice", "ghost"]}), NOW).body();
        assert_eq!(r["QueryResult"], json!([{"To_Account": "alice", "State": "Offline"}]));
    }

    #[test]
    fn online_members_only_for_live_groups() {
        let mut w = world(&["alice"]);
        exec_ok(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Type": "AVChatRoom", "Name": "live", "GroupId": "live"}),
            NOW,
        );
        exec_ok(
            &mut w,
            "group_open_http_svc/create_group",
            json!({"Owner_Account": "alice", "Type": "Public", "Name": "p", "GroupId": "pub"}),
            NOW,
        );
        let r = exec_ok(&mut w, "group_open_http_svc/get_online_member_num", json!({"GroupId": "live"}), NOW)
            .body();
        assert_eq!(r["OnlineMemberNum"], 0);
        let path = "group_open_http_svc/get_online_member_num";
        let r = exec(&mut w, path, json!({"GroupId": "pub"}), NOW);
        assert_eq!(r.unwrap_err().code, named_code(path, "NoPermission"));
        let r = exec(&mut w, path, json!({"GroupId": "nope"}), NOW);
        assert_eq!(r.unwrap_err().code, named_code(path, "GroupNotFound"));
    }
}
