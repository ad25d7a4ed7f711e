//! Accounts and profiles: import, delete, check, kick, portrait set/get.
//!
//! An account is a UserID with its profile, a map from profile tag
//! (`Tag_Profile_IM_Nick`, `Tag_Profile_Custom_Test`, ...) to value. The
//! `Nick` and `FaceUrl` of an import are the `Tag_Profile_IM_Nick` and
//! `Tag_Profile_IM_Image` tags. Account limits of the editions (100 accounts
//! on the free plan) are not emulated, so that tests may import freely.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tim_runtime::api::callbacks::profile::portrait_set as portrait_changed;
use tim_runtime::api::im_open_login_svc::{
    account_check, account_delete, account_import, kick, multiaccount_import,
};
use tim_runtime::api::profile::{portrait_get as get, portrait_set as set};
use tim_runtime::api::types::ProfileItem;
use tim_runtime::ErrorRole;

use super::typed::{route, Answer, Route, Typed};
use super::{Call, Event, World};

/// Paths this family answers.
/// The account and profile endpoints.
pub static ROUTES: &[Route] = &[
    route!(account_import::Request, import_one),
    route!(multiaccount_import::Request, import_many),
    route!(account_delete::Request, delete),
    route!(account_check::Request, check),
    route!(kick::Request, kick_out),
    route!(set::Request, portrait_set),
    route!(get::Request, portrait_get),
];

/// The nickname tag (an import's `Nick`).
pub const TAG_NICK: &str = "Tag_Profile_IM_Nick";
/// The profile photo tag (an import's `FaceUrl`).
pub const TAG_IMAGE: &str = "Tag_Profile_IM_Image";
/// The status line (`SelfSignature`) profile tag.
pub const TAG_SELF_SIGNATURE: &str = "Tag_Profile_IM_SelfSignature";
/// How the user answers friend requests (`AllowType_Type_*`).
pub const TAG_ALLOW_TYPE: &str = "Tag_Profile_IM_AllowType";
/// Whether the admin forbids the user to send friend requests
/// (`AdminForbid_Type_*`).
pub const TAG_ADMIN_FORBID_TYPE: &str = "Tag_Profile_IM_AdminForbidType";

/// Longest string value of a profile field, bytes (the pages' 500).
const MAX_VALUE_BYTES: usize = 500;
/// Longest UserID, bytes.
const MAX_USER_ID_BYTES: usize = 32;
/// The values `Tag_Profile_IM_AllowType` takes.
const ALLOW_TYPES: &[&str] =
    &["AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"];

/// Every account and its profile.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Accounts {
    /// By UserID.
    pub accounts: BTreeMap<String, Account>,
}

/// One account.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Account {
    /// Profile fields by tag (`Tag_Profile_IM_Nick`, ...).
    pub profile: BTreeMap<String, Value>,
    /// How many times the account was kicked (its UserSig invalidated).
    pub kicked: u64,
    /// When its global one-to-one mute ends (Unix seconds; 0 none,
    /// `u64::MAX` permanent), from `setnospeaking`.
    pub c2c_mute_until: u64,
    /// When its global group mute ends, likewise.
    pub group_mute_until: u64,
    /// A chatbot account (`create_robot`).
    pub robot: bool,
}

impl Accounts {
    /// Creates the account if it does not exist.
    pub fn ensure(&mut self, id: &str) {
        self.accounts.entry(id.to_owned()).or_default();
    }

    /// Whether the account exists.
    pub fn exists(&self, id: &str) -> bool {
        self.accounts.contains_key(id)
    }

    /// Removes the account.
    pub fn forget_account(&mut self, id: &str) {
        self.accounts.remove(id);
    }

    /// One profile field of an account, if set.
    pub fn profile_value(&self, id: &str, tag: &str) -> Option<&Value> {
        self.accounts.get(id).and_then(|a| a.profile.get(tag))
    }

    /// The nickname of an account, if set.
    pub fn nick(&self, id: &str) -> Option<&str> {
        self.profile_value(id, TAG_NICK).and_then(Value::as_str)
    }

    /// The UserIDs of all accounts, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.accounts.keys().cloned().collect()
    }

    /// Creates the account or keeps it, and sets the import's nickname and
    /// photo when given.
    fn import(&mut self, id: &str, nick: Option<&str>, face_url: Option<&str>) {
        let account = self.accounts.entry(id.to_owned()).or_default();
        if let Some(nick) = nick {
            account.profile.insert(TAG_NICK.to_owned(), json!(nick));
        }
        if let Some(url) = face_url {
            account.profile.insert(TAG_IMAGE.to_owned(), json!(url));
        }
    }
}

fn import_one(
    w: &mut World,
    call: &Call<'_>,
    req: account_import::Request,
) -> Typed<account_import::Request> {
    if req.user_id.is_empty() {
        return Err(call.refuse_field("UserID", "UserID is empty"));
    }
    for (field, value) in [("Nick", &req.nick), ("FaceUrl", &req.face_url)] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
            return Err(call.refuse_field(field, format!("{field} is longer than {MAX_VALUE_BYTES} bytes")));
        }
    }
    w.accounts.import(&req.user_id, req.nick.as_deref(), req.face_url.as_deref());
    Ok(account_import::Response::new().into())
}

/// Both forms: `Accounts` (UserIDs) and `AccountList` (with profiles). An
/// entry that cannot be an account (empty or too long UserID, too long
/// profile value) is reported in `FailAccounts`; the others are imported.
fn import_many(
    w: &mut World,
    call: &Call<'_>,
    req: multiaccount_import::Request,
) -> Typed<multiaccount_import::Request> {
    if req.accounts.is_none() && req.account_list.is_none() {
        return Err(call.refuse(ErrorRole::InvalidField, "give Accounts or AccountList"));
    }
    let entries = req
        .accounts
        .into_iter()
        .flatten()
        .map(|id| (id, None, None))
        .chain(req.account_list.into_iter().flatten().map(|a| (a.user_id, a.nick, a.face_url)));
    let mut failed = Vec::new();
    for (id, nick, face_url) in entries {
        let too_long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.len() > MAX_VALUE_BYTES);
        if id.is_empty() || id.len() > MAX_USER_ID_BYTES || too_long(&nick) || too_long(&face_url) {
            failed.push(id);
            continue;
        }
        w.accounts.import(&id, nick.as_deref(), face_url.as_deref());
    }
    Ok(multiaccount_import::Response::new().fail_accounts(failed).into())
}

/// Deletes each account with everything every family stores about it.
fn delete(w: &mut World, call: &Call<'_>, req: account_delete::Request) -> Typed<account_delete::Request> {
    let not_found = call.refuse(ErrorRole::AccountNotFound, "the account does not exist").code;
    let results = req
        .delete_item
        .into_iter()
        .map(|item| {
            if w.accounts.exists(&item.user_id) {
                w.forget_account(&item.user_id);
                account_delete::DeleteResult::new(item.user_id, 0).result_info("")
            } else {
                account_delete::DeleteResult::new(item.user_id, not_found)
                    .result_info("Err_TLS_PT_Open_Login_Account_Not_Exist")
            }
        })
        .collect::<Vec<_>>();
    Ok(account_delete::Response::new().result_item(results).into())
}

fn check(w: &mut World, _call: &Call<'_>, req: account_check::Request) -> Typed<account_check::Request> {
    use account_check::AccountStatus;
    let results = req
        .check_item
        .into_iter()
        .map(|item| {
            let status = if w.accounts.exists(&item.user_id) {
                AccountStatus::Imported
            } else {
                AccountStatus::NotImported
            };
            account_check::CheckResult::new(item.user_id, 0).result_info("").account_status(status)
        })
        .collect::<Vec<_>>();
    Ok(account_check::Response::new().result_item(results).into())
}

/// The emulator has no login sessions; it only counts the kick.
fn kick_out(w: &mut World, call: &Call<'_>, req: kick::Request) -> Typed<kick::Request> {
    match w.accounts.accounts.get_mut(&req.user_id) {
        Some(account) => {
            account.kicked = account.kicked.saturating_add(1);
            Ok(kick::Response::new().into())
        }
        None => {
            Err(call.refuse(ErrorRole::AccountNotFound, format!("account {} does not exist", req.user_id)))
        }
    }
}

/// What a standard profile field holds (the profile page's table).
enum Kind {
    /// A string of at most this many bytes.
    Text(usize),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An unsigned 32-bit integer.
    U32,
}

/// The standard profile fields (`Tag_Profile_IM_*`).
const STANDARD: &[(&str, Kind)] = &[
    (TAG_NICK, Kind::Text(MAX_VALUE_BYTES)),
    (
        "Tag_Profile_IM_Gender",
        Kind::OneOf(&["Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"]),
    ),
    ("Tag_Profile_IM_BirthDay", Kind::U32),
    ("Tag_Profile_IM_Location", Kind::Text(16)),
    ("Tag_Profile_IM_SelfSignature", Kind::Text(MAX_VALUE_BYTES)),
    (TAG_ALLOW_TYPE, Kind::OneOf(ALLOW_TYPES)),
    ("Tag_Profile_IM_Language", Kind::U32),
    (TAG_IMAGE, Kind::Text(MAX_VALUE_BYTES)),
    (TAG_ADMIN_FORBID_TYPE, Kind::OneOf(&["AdminForbid_Type_None", "AdminForbid_Type_SendOut"])),
    ("Tag_Profile_IM_Level", Kind::U32),
    ("Tag_Profile_IM_Role", Kind::U32),
];

/// Whether a tag names a profile field: a standard one or a custom one.
fn is_profile_tag(tag: &str) -> bool {
    STANDARD.iter().any(|(t, _)| *t == tag)
        || tag.strip_prefix("Tag_Profile_Custom_").is_some_and(|k| !k.is_empty())
}

/// Why `value` cannot be written to `tag` (a known profile tag), as the
/// spec's error name and a text.
fn check_value(tag: &str, value: &Value) -> Result<(), (&'static str, String)> {
    let Some((_, kind)) = STANDARD.iter().find(|(t, _)| *t == tag) else {
        // Custom fields hold a string (at most 500 bytes) or an integer.
        return match value {
            Value::String(s) if s.len() > MAX_VALUE_BYTES => {
                Err(("ValueTooLong", format!("{tag} is longer than {MAX_VALUE_BYTES} bytes")))
            }
            Value::String(_) | Value::Number(_) => Ok(()),
            _ => Err(("InvalidStandardValueType", format!("{tag} takes a string or an integer"))),
        };
    };
    match (kind, value) {
        (Kind::Text(max), Value::String(s)) if s.len() > *max => {
            Err(("ValueTooLong", format!("{tag} is longer than {max} bytes")))
        }
        (Kind::Text(_), Value::String(_)) => Ok(()),
        (Kind::OneOf(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        (Kind::OneOf(allowed), Value::String(_)) => {
            Err(("InvalidStandardValue", format!("{tag} takes one of {allowed:?}")))
        }
        (Kind::U32, Value::Number(n)) if n.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)) => Ok(()),
        (Kind::U32, Value::Number(_)) => {
            Err(("InvalidStandardValue", format!("{tag} takes an unsigned 32-bit integer")))
        }
        (Kind::U32, _) => Err(("InvalidStandardValueType", format!("{tag} takes an integer"))),
        _ => Err(("InvalidStandardValueType", format!("{tag} takes a string"))),
    }
}

/// Writes the fields all or nothing: a bad item refuses the whole call.
fn portrait_set(w: &mut World, call: &Call<'_>, req: set::Request) -> Typed<set::Request> {
    let id = req.from_account.as_str();
    if !w.accounts.exists(id) {
        return Err(call.refuse(ErrorRole::AccountNotFound, format!("account {id} does not exist")));
    }
    for item in &req.profile_item {
        if !is_profile_tag(&item.tag) {
            return Err(call.refuse_field("ProfileItem", format!("{:?} is not a profile tag", item.tag)));
        }
        if let Err((name, info)) = check_value(&item.tag, &item.value) {
            return Err(call.refuse_named(name, info));
        }
    }
    if let Some(account) = w.accounts.accounts.get_mut(id) {
        for item in &req.profile_item {
            account.profile.insert(item.tag.clone(), item.value.clone());
        }
    }
    let payload = portrait_changed::Payload::new(call.operator, id)
        .event_time(call.now.saturating_mul(1000))
        .profile_item(req.profile_item.clone());
    Ok(Answer::with_events(set::Response::new(), vec![Event::typed(&payload)]))
}

/// Every user gets an entry; one that does not exist gets the account-not-
/// found code in its entry and in `Fail_Account`. Only tags that have a
/// value are returned.
fn portrait_get(w: &mut World, call: &Call<'_>, req: get::Request) -> Typed<get::Request> {
    if let Some(bad) = req.tag_list.iter().find(|t| !is_profile_tag(t)) {
        return Err(call.refuse_field("TagList", format!("{bad:?} is not a profile tag")));
    }
    let not_found = call.refuse(ErrorRole::AccountNotFound, "").code;
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for id in &req.to_account {
        match w.accounts.accounts.get(id) {
            Some(account) => {
                let profile: Vec<ProfileItem> = req
                    .tag_list
                    .iter()
                    .filter_map(|t| account.profile.get(t).map(|v| ProfileItem::new(t.as_str(), v.clone())))
                    .collect();
                items.push(
                    get::UserProfile::new(id.as_str())
                        .profile_item(profile)
                        .result_code(0i64)
                        .result_info(""),
                );
            }
            None => {
                items.push(
                    get::UserProfile::new(id.as_str())
                        .result_code(not_found)
                        .result_info("Err_Profile_PortraitGet_Account_Not_Exist"),
                );
                failed.push(id.clone());
            }
        }
    }
    let mut reply = get::Response::new().user_profile_item(items).error_display("");
    if !failed.is_empty() {
        reply = reply.fail_account(failed);
    }
    Ok(reply.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::world::testing::{exec, named_code, role_code};
    use crate::world::Handled;

    fn run(w: &mut World, path: &str, body: Value) -> Handled {
        exec(w, path, body, 1_700_000_000)
    }

    /// The code `path`'s spec gives `role`.
    fn code(path: &str, role: ErrorRole) -> i64 {
        role_code(path, role)
    }

    fn named(path: &str, name: &str) -> i64 {
        named_code(path, name)
    }

    #[test]
    fn import_check_delete() {
        let mut w = World::new("admin");
        run(&mut w, "im_open_login_svc/account_import", json!({"UserID": "alice", "Nick": "Al"})).unwrap();
        // A second import updates the profile and keeps one account.
        run(&mut w, "im_open_login_svc/account_import", json!({"UserID": "alice", "FaceUrl": "http://x"}))
            .unwrap();
        assert_eq!(w.accounts.nick("alice"), Some("Al"));
        assert_eq!(w.accounts.profile_value("alice", TAG_IMAGE), Some(&json!("http://x")));
        let done = run(
            &mut w,
            "im_open_login_svc/account_check",
            json!({"CheckItem": [{"UserID": "alice"}, {"UserID": "bob"}]}),
        )
        .unwrap();
        assert_eq!(done.reply["ResultItem"][0]["AccountStatus"], "Imported");
        assert_eq!(done.reply["ResultItem"][1]["AccountStatus"], "NotImported");
        let done = run(
            &mut w,
            "im_open_login_svc/account_delete",
            json!({"DeleteItem": [{"UserID": "alice"}, {"UserID": "bob"}]}),
        )
        .unwrap();
        assert_eq!(done.reply["ResultItem"][0]["ResultCode"], 0);
        assert_eq!(
            done.reply["ResultItem"][1]["ResultCode"],
            code("im_open_login_svc/account_delete", ErrorRole::AccountNotFound)
        );
        assert!(!w.accounts.exists("alice"));
    }

    #[test]
    fn multiaccount_import_both_forms() {
        let mut w = World::new("admin");
        let long = "x".repeat(40);
        let done = run(
            &mut w,
            "im_open_login_svc/multiaccount_import",
            json!({"Accounts": ["a", "b", long.clone()]}),
        )
        .unwrap();
        assert_eq!(done.reply["FailAccounts"], json!([long]));
        let done = run(
            &mut w,
            "im_open_login_svc/multiaccount_import",
            json!({"AccountList": [{"UserID": "a", "Nick": "A"}, {"UserID": "c", "FaceUrl": "u"}]}),
        )
        .unwrap();
        assert_eq!(done.reply["FailAccounts"], json!([]));
        assert_eq!(w.accounts.nick("a"), Some("A"));
        assert!(w.accounts.exists("b") && w.accounts.exists("c"));
        assert!(run(&mut w, "im_open_login_svc/multiaccount_import", json!({})).is_err());
    }

    #[test]
    fn portrait_round_trip_and_callback() {
        let mut w = World::new("admin");
        run(&mut w, "im_open_login_svc/account_import", json!({"UserID": "alice", "Nick": "Al"})).unwrap();
        let done = run(
            &mut w,
            "profile/portrait_set",
            json!({"From_Account": "alice", "ProfileItem": [
                {"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"},
                {"Tag": "Tag_Profile_Custom_Test", "Value": 7}
            ]}),
        )
        .unwrap();
        assert_eq!(done.events.len(), 1);
        assert_eq!(done.events[0].command, "Profile.CallbackPortraitSet");
        assert_eq!(done.events[0].payload["From_Account"], "alice");
        assert_eq!(done.events[0].payload["ProfileItem"][1]["Value"], 7);
        let done = run(
            &mut w,
            "profile/portrait_get",
            json!({"To_Account": ["alice", "ghost"], "TagList": ["Tag_Profile_IM_Nick", "Tag_Profile_Custom_Test"]}),
        )
        .unwrap();
        let items = &done.reply["UserProfileItem"];
        assert_eq!(items[0]["ProfileItem"][0], json!({"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"}));
        assert_eq!(items[0]["ProfileItem"][1]["Value"], 7);
        assert_eq!(items[1]["ResultCode"], code("profile/portrait_get", ErrorRole::AccountNotFound));
        assert_eq!(done.reply["Fail_Account"], json!(["ghost"]));
    }

    #[test]
    fn portrait_set_refusals() {
        let mut w = World::new("admin");
        let r = run(&mut w, "profile/portrait_set", json!({"From_Account": "ghost", "ProfileItem": []}))
            .unwrap_err();
        assert_eq!(r.code, code("profile/portrait_set", ErrorRole::AccountNotFound));
        w.accounts.ensure("a");
        let long = "x".repeat(501);
        let r = run(
            &mut w,
            "profile/portrait_set",
            json!({"From_Account": "a", "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": long}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, named("profile/portrait_set", "ValueTooLong"));
        let r = run(
            &mut w,
            "profile/portrait_set",
            json!({"From_Account": "a", "ProfileItem": [{"Tag": "Nick", "Value": "n"}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, named("profile/portrait_set", "TagNotFound"));
        let r = run(
            &mut w,
            "profile/portrait_set",
            json!({"From_Account": "a", "ProfileItem": [{"Tag": TAG_ALLOW_TYPE, "Value": "Sometimes"}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, named("profile/portrait_set", "InvalidStandardValue"));
        let r = run(
            &mut w,
            "profile/portrait_set",
            json!({"From_Account": "a", "ProfileItem": [{"Tag": "Tag_Profile_IM_Level", "Value": "high"}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, named("profile/portrait_set", "InvalidStandardValueType"));
        let r = run(
            &mut w,
            "profile/portrait_set",
            json!({"From_Account": "a", "ProfileItem": [{"Tag": "Tag_Profile_IM_Mood", "Value": "ok"}]}),
        )
        .unwrap_err();
        assert_eq!(r.code, named("profile/portrait_set", "TagNotFound"));
        assert!(w.accounts.accounts.get("a").is_some_and(|a| a.profile.is_empty()));
    }

    #[test]
    fn kick_needs_an_account() {
        let mut w = World::new("admin");
        assert_eq!(
            run(&mut w, "im_open_login_svc/kick", json!({"UserID": "ghost"})).unwrap_err().code,
            code("im_open_login_svc/kick", ErrorRole::AccountNotFound)
        );
        w.accounts.ensure("a");
        run(&mut w, "im_open_login_svc/kick", json!({"UserID": "a"})).unwrap();
        assert_eq!(w.accounts.accounts.get("a").map(|a| a.kicked), Some(1));
    }
}
