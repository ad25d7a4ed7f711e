//! How spec names become Rust names. Validation and rendering both use these,
//! so a name that validates is a name that renders.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Built-in scalar and structural type names.
pub const BUILTIN_TYPES: &[&str] = &[
    "string", "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f64", "json", "object", "array",
    "map", "enum", "union",
];

/// Integer type names.
pub const INTEGER_TYPES: &[&str] = &["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"];

/// Names a generated endpoint module reserves for itself.
pub const RESERVED_TYPE_NAMES: &[&str] = &["Request", "Response", "Error", "META", "ERRORS"];

/// Group type IDs accepted in `group_types`, in the order tables list them.
pub const GROUP_TYPES: &[&str] =
    &["Private", "Work", "Public", "ChatRoom", "Meeting", "AVChatRoom", "Community"];

/// Protocol roles an error code may play (`role:` in an error table): the
/// name written in specs and the `tim_core::ErrorRole` variant it becomes.
pub const ERROR_ROLES: &[(&str, &str)] = &[
    ("usersig_expired", "UserSigExpired"),
    ("usersig_empty", "UserSigEmpty"),
    ("usersig_invalid", "UserSigInvalid"),
    ("usersig_wrong_key", "UserSigWrongKey"),
    ("usersig_user_mismatch", "UserSigUserMismatch"),
    ("usersig_app_mismatch", "UserSigAppMismatch"),
    ("usersig_key_missing", "UserSigKeyMissing"),
    ("invalid_json", "InvalidJson"),
    ("invalid_field", "InvalidField"),
    ("body_too_large", "BodyTooLarge"),
    ("rate_limited", "RateLimited"),
    ("bad_request", "BadRequest"),
    ("unknown_path", "UnknownPath"),
    ("sdkappid_missing", "SdkAppIdMissing"),
    ("sdkappid_not_found", "SdkAppIdNotFound"),
    ("identifier_invalid", "IdentifierInvalid"),
    ("admin_required", "AdminRequired"),
];

/// The `tim_core::ErrorRole` variant of a spec role name.
pub fn error_role_variant(role: &str) -> Option<&'static str> {
    ERROR_ROLES.iter().find(|(r, _)| *r == role).map(|(_, v)| *v)
}

/// snake_case Rust name of a wire field, module or command.
pub fn snake(name: &str) -> String {
    let s = name.to_snake_case();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

/// UpperCamelCase Rust type name of a wire name.
pub fn camel(name: &str) -> String {
    let s = name.to_upper_camel_case();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("T{s}")
    } else {
        s
    }
}

/// An identifier, raw (`r#type`) when it is a keyword.
pub fn ident(name: &str) -> Ident {
    if syn::parse_str::<Ident>(name).is_ok() {
        Ident::new(name, Span::call_site())
    } else {
        Ident::new_raw(name, Span::call_site())
    }
}

/// Whether `name` can be a Rust type or variant name as written.
pub fn is_camel_ident(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Splits `v4/<service>/<command>`, checking each segment's characters.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.split('/');
    let (v, service, command) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (v == "v4" && parts.next().is_none() && ok(service) && ok(command)).then_some((service, command))
}

/// Unit of a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Per second.
    Second,
    /// Per minute.
    Minute,
    /// Per day.
    Day,
}

/// Parses `200/s`, `10/min`, `100/day`.
pub fn parse_rate_limit(s: &str) -> Option<(u32, Per)> {
    let (n, unit) = s.split_once('/')?;
    let n: u32 = n.trim().parse().ok().filter(|n| *n > 0)?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => Per::Second,
        "min" | "minute" => Per::Minute,
        "day" => Per::Day,
        _ => return None,
    };
    Some((n, per))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("Report_Account"), "report_account");
        assert_eq!(snake("C2CMsgInfo"), "c2c_msg_info");
        assert_eq!(snake("GetIPList"), "get_ip_list");
        assert_eq!(camel("C2CMsgInfo"), "C2cMsgInfo");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(split_path("v4/openim/sendmsg"), Some(("openim", "sendmsg")));
        assert_eq!(split_path("v4/openim"), None);
        assert_eq!(split_path("v5/openim/x"), None);
        assert_eq!(parse_rate_limit("200/s"), Some((200, Per::Second)));
        assert_eq!(parse_rate_limit("100/day"), Some((100, Per::Day)));
        assert_eq!(parse_rate_limit("0/s"), None);
    }
}
