//! Official accounts: created, read, modified and destroyed; their
//! subscribers (added, removed, listed, with their own data); the messages
//! they broadcast (sent, pulled newest first by `LastMsgKey`, recalled).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_runtime::api::official_account_open_http_svc::{
    add_subscriber as add_sub, create_official_account as create, delete_subscriber as del_sub,
    destroy_official_account as destroy, get_official_account_info as info,
    get_subscribed_official_account_list as subscribed, get_subscriber_info as subscribers,
    modify_official_account_base_info as modify, modify_subscriber_info as modify_sub,
    official_account_msg_get_simple as history, official_account_msg_recall as recall,
    send_official_account_msg as send,
};
use tim_runtime::ErrorRole;

use super::typed::{route, Route, Typed};
use super::{Call, Refusal, World};
use crate::world::{wire_i32, wire_u32};

/// The endpoints of this family.
pub static ROUTES: &[Route] = &[
    route!(create::Request, create_account),
    route!(destroy::Request, destroy_account),
    route!(info::Request, account_info),
    route!(modify::Request, modify_account),
    route!(add_sub::Request, add_subscribers),
    route!(del_sub::Request, delete_subscribers),
    route!(subscribed::Request, subscribed_accounts),
    route!(subscribers::Request, list_subscribers),
    route!(modify_sub::Request, modify_subscriber),
    route!(send::Request, send_message),
    route!(history::Request, message_history),
    route!(recall::Request, recall_messages),
];

/// The app's official accounts.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct OfficialAccounts {
    /// By ID (`@TOA#_...`).
    pub accounts: BTreeMap<String, OfficialAccount>,
    /// Last serial handed out (generated IDs).
    pub last_serial: u64,
}

/// One official account.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct OfficialAccount {
    /// Owner's UserID.
    pub owner: String,
    /// Display name.
    pub name: String,
    /// Introduction.
    pub introduction: String,
    /// Avatar URL.
    pub face_url: String,
    /// Organization.
    pub organization: String,
    /// App-defined data.
    pub custom_string: String,
    /// Most subscribers.
    pub max_subscribers: u32,
    /// Creation time (Unix seconds).
    pub create_time: u64,
    /// Subscribers by UserID.
    pub subscribers: BTreeMap<String, Subscription>,
    /// Messages, oldest first.
    pub messages: Vec<OfficialMessage>,
}

/// One subscription.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Subscription {
    /// When (Unix seconds).
    pub time: u64,
    /// The subscriber's app-defined data.
    pub custom_string: String,
}

/// One broadcast message.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct OfficialMessage {
    /// Sequence number.
    pub seq: u64,
    /// `Random` of the request.
    pub random: u32,
    /// Send time (Unix seconds).
    pub time: u64,
    /// `MsgBody` as sent.
    pub body: tim_runtime::api::types::MsgBody,
    /// Recalled.
    pub recalled: bool,
}

impl OfficialMessage {
    fn key(&self) -> String {
        format!("{}_{}_{}", self.seq, self.random, self.time)
    }
}

impl OfficialAccounts {
    /// Removes the account as a subscriber everywhere, and as the owner of
    /// the accounts it owned, which are left without owner, as groups are
    /// (account_delete).
    pub fn forget_account(&mut self, id: &str) {
        for a in self.accounts.values_mut() {
            a.subscribers.remove(id);
            if a.owner == id {
                a.owner.clear();
            }
        }
    }

    /// Whether a subscription or ownership names `id`.
    pub fn mentions_account(&self, id: &str) -> bool {
        self.accounts.values().any(|a| a.owner == id || a.subscribers.contains_key(id))
    }
}

fn account<'w>(w: &'w mut World, call: &Call<'_>, id: &str) -> Result<&'w mut OfficialAccount, Refusal> {
    w.official.accounts.get_mut(id).ok_or_else(|| {
        call.refuse(ErrorRole::AccountNotFound, format!("official account {id} does not exist"))
    })
}

fn create_account(w: &mut World, call: &Call<'_>, req: create::Request) -> Typed<create::Request> {
    if !w.accounts.exists(&req.owner_account) {
        return Err(
            call.refuse(ErrorRole::AccountNotFound, format!("owner {} does not exist", req.owner_account))
        );
    }
    let serial = w.official.last_serial.saturating_add(1);
    let id = req.official_account_user_id.unwrap_or_else(|| format!("@TOA#_@TOA#{serial}"));
    if w.official.accounts.contains_key(&id) {
        return Err(call.refuse(ErrorRole::AlreadyExists, format!("official account {id} exists already")));
    }
    let default_max = call.meta.limit("subscribers").map_or(u32::MAX, |l| wire_u32(l.max));
    let a = OfficialAccount {
        owner: req.owner_account,
        name: req.name,
        introduction: req.introduction.unwrap_or_default(),
        face_url: req.face_url.unwrap_or_default(),
        organization: req.organization.unwrap_or_default(),
        custom_string: req.custom_string.unwrap_or_default(),
        max_subscribers: req.max_subscriber_num.unwrap_or(default_max),
        create_time: call.now,
        ..OfficialAccount::default()
    };
    w.official.accounts.insert(id.clone(), a);
    w.official.last_serial = serial;
    Ok(create::Response::new().official_account_user_id(id).into())
}

fn destroy_account(w: &mut World, call: &Call<'_>, req: destroy::Request) -> Typed<destroy::Request> {
    if w.official.accounts.remove(&req.official_account).is_none() {
        return Err(call.refuse_named(
            "AccountNotFound",
            format!("official account {} does not exist", req.official_account),
        ));
    }
    Ok(destroy::Response::new().into())
}

fn account_info(w: &mut World, call: &Call<'_>, req: info::Request) -> Typed<info::Request> {
    use info::OfficialAccountInfoField as F;
    let missing = call.refuse(ErrorRole::AccountNotFound, "").code;
    let fields = req.response_filter.and_then(|f| f.official_account_base_info_filter);
    let wants = |f: F| fields.as_ref().is_none_or(|list| list.contains(&f));
    let list = req
        .official_account_id_list
        .iter()
        .map(|id| {
            let Some(a) = w.official.accounts.get(&id.official_account) else {
                return info::OfficialAccountInfo::new()
                    .error_code(missing)
                    .error_info("no such official account");
            };
            let mut r = info::OfficialAccountInfo::new().error_code(0i64).error_info("");
            if wants(F::Name) {
                r = r.name(a.name.as_str());
            }
            if wants(F::OwnerAccount) {
                r = r.owner_account(a.owner.as_str());
            }
            if wants(F::CreateTime) {
                r = r.create_time(a.create_time);
            }
            if wants(F::LastMsgTime) {
                r = r.last_msg_time(a.messages.last().map_or(0, |m| m.time));
            }
            if wants(F::SubscriberNum) {
                r = r.subscriber_num(wire_u32(a.subscribers.len()));
            }
            if wants(F::Introduction) {
                r = r.introduction(a.introduction.as_str());
            }
            if wants(F::FaceUrl) {
                r = r.face_url(a.face_url.as_str());
            }
            if wants(F::Organization) {
                r = r.organization(a.organization.as_str());
            }
            if wants(F::CustomString) {
                r = r.custom_string(a.custom_string.as_str());
            }
            r
        })
        .collect::<Vec<_>>();
    Ok(info::Response::new().official_account_info_list(list).into())
}

fn modify_account(w: &mut World, call: &Call<'_>, req: modify::Request) -> Typed<modify::Request> {
    let a = account(w, call, &req.official_account)?;
    let set = |field: &mut String, v: Option<String>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut a.name, req.name);
    set(&mut a.introduction, req.introduction);
    set(&mut a.face_url, req.face_url);
    set(&mut a.organization, req.organization);
    set(&mut a.custom_string, req.custom_string);
    if let Some(n) = req.max_subscriber_num {
        a.max_subscribers = n;
    }
    Ok(modify::Response::new().into())
}

fn add_subscribers(w: &mut World, call: &Call<'_>, req: add_sub::Request) -> Typed<add_sub::Request> {
    use add_sub::AddOutcome;
    let exists: Vec<bool> =
        req.subscriber_list.iter().map(|s| w.accounts.exists(&s.subscriber_account)).collect();
    let a = account(w, call, &req.official_account)?;
    let results = req
        .subscriber_list
        .iter()
        .zip(exists)
        .map(|(s, exists)| {
            let id = s.subscriber_account.as_str();
            let outcome = if a.subscribers.contains_key(id) {
                AddOutcome::AlreadySubscribed
            } else if !exists || a.subscribers.len() >= a.max_subscribers as usize {
                AddOutcome::Failed
            } else {
                a.subscribers
                    .insert(id.to_owned(), Subscription { time: call.now, custom_string: String::new() });
                AddOutcome::Added
            };
            add_sub::AddResult::new().subscriber_account(id).result(outcome)
        })
        .collect::<Vec<_>>();
    Ok(add_sub::Response::new().subscriber_list(results).into())
}

fn delete_subscribers(w: &mut World, call: &Call<'_>, req: del_sub::Request) -> Typed<del_sub::Request> {
    use del_sub::DeleteOutcome;
    let a = account(w, call, &req.official_account)?;
    let results = req
        .subscriber_to_del_account
        .iter()
        .map(|id| {
            let outcome = if a.subscribers.remove(id).is_some() {
                DeleteOutcome::Removed
            } else {
                DeleteOutcome::NotSubscribed
            };
            del_sub::DeleteResult::new().subscriber_account(id.as_str()).result(outcome)
        })
        .collect::<Vec<_>>();
    Ok(del_sub::Response::new().subscriber_list(results).into())
}

fn subscribed_accounts(
    w: &mut World,
    _call: &Call<'_>,
    req: subscribed::Request,
) -> Typed<subscribed::Request> {
    let mine: Vec<(&String, &OfficialAccount, &Subscription)> = w
        .official
        .accounts
        .iter()
        .filter_map(|(id, a)| a.subscribers.get(&req.subscriber_account).map(|s| (id, a, s)))
        .collect();
    let offset = usize::try_from(req.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = req.limit.filter(|l| *l > 0).unwrap_or(200) as usize;
    let page: Vec<subscribed::SubscribedAccount> = mine
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(_, a, s)| {
            subscribed::SubscribedAccount::new()
                .name(a.name.as_str())
                .owner_account(a.owner.as_str())
                .last_msg_time(a.messages.last().map_or(0, |m| m.time))
                .subscriber_num(wire_u32(a.subscribers.len()))
                .introduction(a.introduction.as_str())
                .face_url(a.face_url.as_str())
                .organization(a.organization.as_str())
                .custom_string(a.custom_string.as_str())
                .self_info(
                    subscribed::SelfInfo::new()
                        .subscribe_time(s.time)
                        .custom_string(s.custom_string.as_str()),
                )
        })
        .collect();
    let end = offset.saturating_add(page.len());
    let complete = end >= mine.len();
    Ok(subscribed::Response::new()
        .total_count(wire_u32(mine.len()))
        .complete_flag(u32::from(complete))
        .next(if complete { 0 } else { end as u64 })
        .official_account_info_list(page)
        .into())
}

fn list_subscribers(
    w: &mut World,
    call: &Call<'_>,
    req: subscribers::Request,
) -> Typed<subscribers::Request> {
    let a = account(w, call, &req.official_account)?;
    let rest: Vec<(&String, &Subscription)> = a
        .subscribers
        .iter()
        .filter(|(id, _)| req.next.is_empty() || id.as_str() > req.next.as_str())
        .collect();
    let limit = req.limit.filter(|l| *l > 0).map_or(usize::MAX, |l| l as usize);
    let page: Vec<subscribers::Subscriber> = rest
        .iter()
        .take(limit)
        .map(|(id, s)| {
            subscribers::Subscriber::new()
                .subscriber_account(id.as_str())
                .subscribe_time(s.time)
                .custom_string(s.custom_string.as_str())
                .msg_flag(subscribers::SubscriberMsgFlag::AcceptAndNotify)
                .last_send_msg_time(0u64)
        })
        .collect();
    let next = if rest.len() > page.len() {
        page.last().and_then(|s| s.subscriber_account.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(subscribers::Response::new()
        .next(next)
        .subscriber_num(wire_u32(a.subscribers.len()))
        .subscriber_list(page)
        .into())
}

fn modify_subscriber(w: &mut World, call: &Call<'_>, req: modify_sub::Request) -> Typed<modify_sub::Request> {
    let a = account(w, call, &req.official_account)?;
    let Some(s) = a.subscribers.get_mut(&req.subscriber_account) else {
        return Err(
            call.refuse(ErrorRole::InvalidField, format!("{} does not subscribe", req.subscriber_account))
        );
    };
    if let Some(c) = req.custom_string {
        s.custom_string = c;
    }
    Ok(modify_sub::Response::new().into())
}

fn send_message(w: &mut World, call: &Call<'_>, req: send::Request) -> Typed<send::Request> {
    let a = account(w, call, &req.official_account)?;
    let seq = a.messages.last().map_or(1, |m| m.seq.saturating_add(1));
    let m = OfficialMessage {
        seq,
        random: req.random,
        time: call.now,
        body: req.msg_body.clone(),
        recalled: false,
    };
    let key = m.key();
    if req.online_only_flag != Some(1) {
        a.messages.push(m);
    }
    Ok(send::Response::new().msg_time(call.now).msg_key(key).into())
}

fn message_history(w: &mut World, call: &Call<'_>, req: history::Request) -> Typed<history::Request> {
    let a = account(w, call, &req.official_account)?;
    let with_recalled = req.with_recalled_msg == Some(1);
    let before = req
        .last_msg_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .and_then(|k| a.messages.iter().find(|m| m.key() == k))
        .map(|m| m.seq);
    let wanted = req.req_msg_number.unwrap_or(20) as usize;
    let older: Vec<&OfficialMessage> = a
        .messages
        .iter()
        .rev()
        .filter(|m| before.is_none_or(|b| m.seq < b) && (with_recalled || !m.recalled))
        .collect();
    let page: Vec<&OfficialMessage> = older.iter().take(wanted).copied().collect();
    let finished = page.len() == older.len();
    let list = page
        .iter()
        .map(|m| {
            let r = history::OfficialAccountMsg::new()
                .from_account(req.official_account.as_str())
                .is_place_msg(u32::from(m.recalled))
                .is_system_msg(0u32)
                .msg_priority(2u32)
                .msg_random(m.random)
                .msg_key(m.key())
                .msg_seq(m.seq)
                .msg_time_stamp(m.time);
            r.msg_body(if m.recalled { Vec::new() } else { m.body.clone() })
        })
        .collect::<Vec<_>>();
    let last = page.last().map(|m| m.key()).unwrap_or_default();
    Ok(history::Response::new()
        .official_account(req.official_account.as_str())
        .is_finished(u32::from(finished))
        .last_msg_key(last)
        .rsp_msg_list(list)
        .into())
}

fn recall_messages(w: &mut World, call: &Call<'_>, req: recall::Request) -> Typed<recall::Request> {
    let invalid = wire_i32(call.refuse_named("InvalidParameter", "").code);
    let a = account(w, call, &req.official_account)?;
    let results = req
        .msg_key_list
        .iter()
        .map(|key| match a.messages.iter_mut().find(|m| &m.key() == key && !m.recalled) {
            Some(m) => {
                m.recalled = true;
                recall::RecallRet::new().msg_key(key.as_str()).ret_code(0).msg_seq(m.seq)
            }
            None => recall::RecallRet::new().msg_key(key.as_str()).ret_code(invalid),
        })
        .collect::<Vec<_>>();
    Ok(recall::Response::new().recall_ret_list(results).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{exec, exec_ok, world};

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn accounts_subscribers_and_messages() {
        let mut w = world(&["owner", "u1", "u2"]);
        let id = exec_ok(
            &mut w,
            "official_account_open_http_svc/create_official_account",
            json!({"Owner_Account": "owner", "Name": "News"}),
            NOW,
        )
        .body()["OfficialAccountUserID"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(id.starts_with("@TOA#_"));
        exec_ok(
            &mut w,
            "official_account_open_http_svc/modify_official_account_base_info",
            json!({"Official_Account": id, "Introduction": "daily"}),
            NOW,
        );
        let add = json!({"Official_Account": id, "SubscriberList": [{"Subscriber_Account": "u1"}, {"Subscriber_Account": "u2"}, {"Subscriber_Account": "ghost"}]});
        let r = exec_ok(&mut w, "official_account_open_http_svc/add_subscriber", add.clone(), NOW).body();
        let outcomes: Vec<i64> =
            r["SubscriberList"].as_array().unwrap().iter().map(|x| x["Result"].as_i64().unwrap()).collect();
        assert_eq!(outcomes, [1, 1, 0]);
        let r = exec_ok(&mut w, "official_account_open_http_svc/add_subscriber", add, NOW).body();
        assert_eq!(r["SubscriberList"][0]["Result"], 2);
        let r = exec_ok(
            &mut w,
            "official_account_open_http_svc/get_official_account_info",
            json!({"OfficialAccountIdList": [{"Official_Account": id}]}),
            NOW,
        )
        .body();
        assert_eq!(r["OfficialAccountInfoList"][0]["SubscriberNum"], 2);
        assert_eq!(r["OfficialAccountInfoList"][0]["Introduction"], "daily");
        let r = exec_ok(
            &mut w,
            "official_account_open_http_svc/get_subscribed_official_account_list",
            json!({"Subscriber_Account": "u1"}),
            NOW,
        )
        .body();
        assert_eq!((r["TotalCount"].as_u64(), r["CompleteFlag"].as_u64()), (Some(1), Some(1)));
        let page = exec_ok(
            &mut w,
            "official_account_open_http_svc/get_subscriber_info",
            json!({"Official_Account": id, "Limit": 1, "Next": ""}),
            NOW,
        )
        .body();
        assert_eq!(page["SubscriberList"][0]["Subscriber_Account"], "u1");
        let page = exec_ok(
            &mut w,
            "official_account_open_http_svc/get_subscriber_info",
            json!({"Official_Account": id, "Limit": 1, "Next": page["Next"]}),
            NOW,
        )
        .body();
        assert_eq!(
            (page["SubscriberList"][0]["Subscriber_Account"].as_str(), page["Next"].as_str()),
            (Some("u2"), Some(""))
        );
        let msg = |t: &str| json!({"Official_Account": id, "Random": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": t}}]});
        let k1 = exec_ok(&mut w, "official_account_open_http_svc/send_official_account_msg", msg("one"), NOW)
            .body()["MsgKey"]
            .clone();
        exec_ok(&mut w, "official_account_open_http_svc/send_official_account_msg", msg("two"), NOW + 1);
        let h = exec_ok(
            &mut w,
            "official_account_open_http_svc/official_account_msg_get_simple",
            json!({"Official_Account": id, "ReqMsgNumber": 1}),
            NOW,
        )
        .body();
        assert_eq!(h["RspMsgList"][0]["MsgBody"][0]["MsgContent"]["Text"], "two");
        assert_eq!(h["IsFinished"], 0);
        let h = exec_ok(
            &mut w,
            "official_account_open_http_svc/official_account_msg_get_simple",
            json!({"Official_Account": id, "ReqMsgNumber": 5, "LastMsgKey": h["LastMsgKey"]}),
            NOW,
        )
        .body();
        assert_eq!(h["RspMsgList"][0]["MsgKey"], k1);
        let r = exec_ok(
            &mut w,
            "official_account_open_http_svc/official_account_msg_recall",
            json!({"Official_Account": id, "MsgKeyList": [k1]}),
            NOW,
        )
        .body();
        assert_eq!(r["RecallRetList"][0]["RetCode"], 0);
        let h = exec_ok(
            &mut w,
            "official_account_open_http_svc/official_account_msg_get_simple",
            json!({"Official_Account": id, "ReqMsgNumber": 5}),
            NOW,
        )
        .body();
        assert_eq!(h["RspMsgList"].as_array().unwrap().len(), 1);
        exec_ok(
            &mut w,
            "official_account_open_http_svc/delete_subscriber",
            json!({"Official_Account": id, "SubscriberToDel_Account": ["u1"]}),
            NOW,
        );
        w.forget_account("u2");
        assert!(!w.official.mentions_account("u2"));
        exec_ok(
            &mut w,
            "official_account_open_http_svc/destroy_official_account",
            json!({"Official_Account": id}),
            NOW,
        );
        assert!(exec(
            &mut w,
            "official_account_open_http_svc/destroy_official_account",
            json!({"Official_Account": id}),
            NOW
        )
        .is_err());
    }
}
