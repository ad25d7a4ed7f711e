//! How spec names become Rust names. Validation and rendering both use these,
//! so a name that validates is a name that renders.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

use crate::model::ErrorRole;

/// Names a generated endpoint module reserves for itself.
pub const RESERVED_TYPE_NAMES: &[&str] =
    &["Request", "Response", "Error", "Required", "PageItem", "META", "ERRORS", "PAGINATION", "BATCH"];

/// Protocol roles an error code may play: the name written in specs
/// (`role:` in an error table) and the role it stands for.
pub const ERROR_ROLES: &[(&str, ErrorRole)] = &[
    ("usersig_expired", ErrorRole::UserSigExpired),
    ("usersig_empty", ErrorRole::UserSigEmpty),
    ("usersig_invalid", ErrorRole::UserSigInvalid),
    ("usersig_wrong_key", ErrorRole::UserSigWrongKey),
    ("usersig_user_mismatch", ErrorRole::UserSigUserMismatch),
    ("usersig_app_mismatch", ErrorRole::UserSigAppMismatch),
    ("usersig_key_missing", ErrorRole::UserSigKeyMissing),
    ("invalid_json", ErrorRole::InvalidJson),
    ("invalid_field", ErrorRole::InvalidField),
    ("body_too_large", ErrorRole::BodyTooLarge),
    ("rate_limited", ErrorRole::RateLimited),
    ("bad_request", ErrorRole::BadRequest),
    ("unknown_path", ErrorRole::UnknownPath),
    ("sdkappid_missing", ErrorRole::SdkAppIdMissing),
    ("sdkappid_not_found", ErrorRole::SdkAppIdNotFound),
    ("identifier_invalid", ErrorRole::IdentifierInvalid),
    ("admin_required", ErrorRole::AdminRequired),
    ("account_not_found", ErrorRole::AccountNotFound),
    ("group_not_found", ErrorRole::GroupNotFound),
    ("not_group_member", ErrorRole::NotGroupMember),
    ("group_type_unsupported", ErrorRole::GroupTypeUnsupported),
    ("already_exists", ErrorRole::AlreadyExists),
    ("message_not_found", ErrorRole::MessageNotFound),
    ("permission_denied", ErrorRole::PermissionDenied),
    ("limit_reached", ErrorRole::LimitReached),
    ("not_friend", ErrorRole::NotFriend),
    ("blocked", ErrorRole::Blocked),
];

/// The role a spec role name stands for.
pub fn error_role(name: &str) -> Option<ErrorRole> {
    ERROR_ROLES.iter().find(|(r, _)| *r == name).map(|(_, role)| *role)
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
        assert_eq!(error_role("invalid_field"), Some(ErrorRole::InvalidField));
        assert!(ERROR_ROLES.iter().all(|(name, role)| error_role(name) == Some(*role)));
    }
}
