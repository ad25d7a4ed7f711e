//! The app as a whole: the server address list (`GetIPList`: the
//! emulator's own address), the day's statistics (`getappinfo`, counted
//! from the state), and bans of rich-media files (`im_cos_msg`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tim_runtime::api::config_svc::get_ip_list;
use tim_runtime::api::im_cos_msg::{allow_banned_object, forbid_illegal_object, get_cos_sig};
use tim_runtime::api::openconfigsvr::getappinfo;

use super::typed::{route, Route, Typed};
use super::{datetime, Call, World};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(get_ip_list::Request, ip_list),
    route!(getappinfo::Request, app_info),
    route!(get_cos_sig::Request, file_status),
    route!(forbid_illegal_object::Request, ban_file),
    route!(allow_banned_object::Request, unban_file),
];

/// Rich-media files banned with `forbid_illegal_object`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Files {
    /// Banned file URLs.
    pub banned: BTreeSet<String>,
}

fn ip_list(_w: &mut World, call: &Call<'_>, _req: get_ip_list::Request) -> Typed<get_ip_list::Request> {
    let host = call.server.rsplit_once(':').map_or(call.server, |(h, _)| h).trim_matches(['[', ']']);
    Ok(get_ip_list::Response::new().ip_list(vec![host.to_owned()]).into())
}

fn app_info(w: &mut World, call: &Call<'_>, req: getappinfo::Request) -> Typed<getappinfo::Request> {
    let today = call.now / 86_400;
    let is_today = |t: u64| t / 86_400 == today;
    let c2c_today: Vec<&str> = w
        .c2c
        .threads
        .values()
        .flat_map(|inner| inner.values())
        .flat_map(|t| t.messages.iter())
        .filter(|m| is_today(m.time))
        .map(|m| m.from.as_str())
        .collect();
    let groups = w.groups.groups.values();
    let group_today: Vec<(&str, &str)> = w
        .groups
        .groups
        .iter()
        .flat_map(|(id, g)| g.messages.iter().map(move |m| (id.as_str(), m)))
        .filter(|(_, m)| is_today(m.time))
        .map(|(id, m)| (id, m.from.as_str()))
        .collect();
    let distinct = |it: &mut dyn Iterator<Item = &str>| it.collect::<BTreeSet<&str>>().len();
    let count = |n: usize| n.to_string();
    let mut figures: BTreeMap<&str, String> = BTreeMap::new();
    figures.insert("AppId", call.sdkappid.to_string());
    figures.insert("RegistUserNumTotal", count(w.accounts.accounts.len()));
    figures.insert("C2CUpMsgNum", count(c2c_today.len()));
    figures.insert("C2CDownMsgNum", count(c2c_today.len()));
    figures.insert("C2CSendMsgUserNum", count(distinct(&mut c2c_today.iter().copied())));
    figures.insert("GroupUpMsgNum", count(group_today.len()));
    figures.insert("GroupSendMsgUserNum", count(distinct(&mut group_today.iter().map(|(_, f)| *f))));
    figures.insert("GroupSendMsgGroupNum", count(distinct(&mut group_today.iter().map(|(g, _)| *g))));
    figures.insert("UpMsgNum", count(c2c_today.len() + group_today.len()));
    figures.insert(
        "SendMsgUserNum",
        count(distinct(&mut c2c_today.iter().copied().chain(group_today.iter().map(|(_, f)| *f)))),
    );
    figures.insert("GroupAllGroupNum", count(w.groups.groups.len()));
    figures.insert("GroupNewGroupNum", count(groups.filter(|g| is_today(g.create_time)).count()));
    figures.insert("Date", datetime(call.now).get(..10).unwrap_or_default().replace('-', ""));
    let wanted: Option<BTreeSet<String>> =
        req.request_field.map(|f| f.iter().map(|x| x.as_str().to_owned()).collect());
    let keep = |name: &str| wanted.as_ref().is_none_or(|w| w.contains(name) || name == "Date");
    // Every documented figure: those the state counts, 0 for the rest
    // (logins, pushes, webhooks: the emulator has no clients).
    let mut day = getappinfo::AppInfoDay::new();
    let value = |name: &str| figures.get(name).cloned().unwrap_or_else(|| "0".to_owned());
    macro_rules! set {
        ($($setter:ident = $name:literal),* $(,)?) => {
            $(if keep($name) { day = day.$setter(value($name)); })*
        };
    }
    set!(
        app_id = "AppId",
        active_user_num = "ActiveUserNum",
        regist_user_num_one_day = "RegistUserNumOneDay",
        regist_user_num_total = "RegistUserNumTotal",
        login_times = "LoginTimes",
        login_user_num = "LoginUserNum",
        up_msg_num = "UpMsgNum",
        send_msg_user_num = "SendMsgUserNum",
        apns_msg_num = "APNSMsgNum",
        c2c_up_msg_num = "C2CUpMsgNum",
        c2c_down_msg_num = "C2CDownMsgNum",
        c2c_send_msg_user_num = "C2CSendMsgUserNum",
        c2capns_msg_num = "C2CAPNSMsgNum",
        max_online_num = "MaxOnlineNum",
        down_msg_num = "DownMsgNum",
        chain_increase = "ChainIncrease",
        chain_decrease = "ChainDecrease",
        group_up_msg_num = "GroupUpMsgNum",
        group_down_msg_num = "GroupDownMsgNum",
        group_send_msg_user_num = "GroupSendMsgUserNum",
        group_apns_msg_num = "GroupAPNSMsgNum",
        group_send_msg_group_num = "GroupSendMsgGroupNum",
        group_join_group_times = "GroupJoinGroupTimes",
        group_quit_group_times = "GroupQuitGroupTimes",
        group_new_group_num = "GroupNewGroupNum",
        group_all_group_num = "GroupAllGroupNum",
        group_destroy_group_num = "GroupDestroyGroupNum",
        call_back_req = "CallBackReq",
        call_back_rsp = "CallBackRsp",
        date = "Date",
    );
    Ok(getappinfo::Response::new().result(vec![day]).into())
}

fn file_status(w: &mut World, _call: &Call<'_>, req: get_cos_sig::Request) -> Typed<get_cos_sig::Request> {
    let list = req
        .raw_ur_ls
        .iter()
        .map(|f| {
            let banned = w.files.banned.contains(&f.raw_url);
            let status =
                if banned { get_cos_sig::CosFileStatus::Banned } else { get_cos_sig::CosFileStatus::Normal };
            let sep = if f.raw_url.contains('?') { '&' } else { '?' };
            get_cos_sig::PreSigUrl::new()
                .resource_id(f.resource_id)
                .code(0)
                .desc("")
                .pre_sig_url(format!("{}{sep}emulator-signature=full", f.raw_url))
                .status(status)
        })
        .collect::<Vec<_>>();
    Ok(get_cos_sig::Response::new().pre_sig_ur_ls(list).into())
}

fn ban_file(
    w: &mut World,
    _call: &Call<'_>,
    req: forbid_illegal_object::Request,
) -> Typed<forbid_illegal_object::Request> {
    w.files.banned.insert(req.raw_url);
    Ok(forbid_illegal_object::Response::new().into())
}

fn unban_file(
    w: &mut World,
    _call: &Call<'_>,
    req: allow_banned_object::Request,
) -> Typed<allow_banned_object::Request> {
    w.files.banned.remove(&req.raw_url);
    Ok(allow_banned_object::Response::new().into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec_ok, world, SDKAPPID};

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn statistics_count_the_state() {
        let mut w = world(&["alice", "bob"]);
        let msg = json!({"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]});
        exec_ok(&mut w, "openim/sendmsg", msg, NOW);
        let r = exec_ok(&mut w, "openconfigsvr/getappinfo", json!({}), NOW).body();
        let day = &r["Result"][0];
        assert_eq!(day["RegistUserNumTotal"], "3");
        assert_eq!(day["AppId"], SDKAPPID.to_string());
        assert_eq!(day["Date"], "20231114");
        let only =
            exec_ok(&mut w, "openconfigsvr/getappinfo", json!({"RequestField": ["C2CUpMsgNum"]}), NOW).body();
        assert_eq!(only["Result"][0], json!({"C2CUpMsgNum": "1", "Date": "20231114"}));
        let ips = exec_ok(&mut w, "ConfigSvc/GetIPList", json!({}), NOW).body();
        assert_eq!(ips["IPList"], json!(["127.0.0.1"]));
    }

    #[test]
    fn files_banned_and_unbanned() {
        let mut w = world(&[]);
        let url = "https://cos.example.invalid/file.jpg";
        exec_ok(&mut w, "im_cos_msg/forbid_illegal_object", json!({"RawURL": url}), NOW);
        let r = exec_ok(
            &mut w,
            "im_cos_msg/get_cos_sig",
            json!({"RawURLs": [{"ResourceID": 1, "RawURL": url}]}),
            NOW,
        )
        .body();
        assert_eq!(r["PreSigURLs"][0]["Status"], 1);
        exec_ok(&mut w, "im_cos_msg/allow_banned_object", json!({"RawURL": url}), NOW);
        let r = exec_ok(
            &mut w,
            "im_cos_msg/get_cos_sig",
            json!({"RawURLs": [{"ResourceID": 1, "RawURL": url}]}),
            NOW,
        )
        .body();
        assert_eq!(r["PreSigURLs"][0]["Status"], 0);
    }
}
