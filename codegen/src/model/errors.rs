//! Error codes, error tables and the protocol roles codes play.

/// One documented error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    /// The `ErrorCode` value.
    pub code: i64,
    /// Rust variant name (`Code<code>` when the spec names none).
    pub name: String,
    /// What the code means.
    pub meaning: String,
    /// Whether sending the same request again may succeed.
    pub retryable: bool,
    /// Request fields (wire names) whose absence or bad value yields the code.
    pub fields: Vec<String>,
    /// Whether this is the endpoint's catch-all code for an invalid request
    /// (`'*'` in the spec).
    pub catch_all: bool,
    /// What the code stands for in the protocol.
    pub role: Option<ErrorRole>,
}

/// A named table of `shared/errors.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorTable {
    /// What the table covers.
    pub doc: String,
    /// The codes, in spec order.
    pub codes: Vec<ErrorCode>,
}

/// What an error code stands for in the protocol; mirrors
/// `tim_core::ErrorRole`, with the spec names in
/// [`ERROR_ROLES`](crate::names::ERROR_ROLES).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorRole {
    /// The UserSig has expired.
    UserSigExpired,
    /// The UserSig is empty.
    UserSigEmpty,
    /// The UserSig is malformed or fails to verify.
    UserSigInvalid,
    /// The UserSig was signed with another app's key.
    UserSigWrongKey,
    /// The UserSig was made for another identifier.
    UserSigUserMismatch,
    /// The UserSig was made for another SDKAppID.
    UserSigAppMismatch,
    /// The app has no key to check UserSigs with.
    UserSigKeyMissing,
    /// The body is not valid JSON.
    InvalidJson,
    /// The catch-all code for a missing or bad request field.
    InvalidField,
    /// The body is larger than the service accepts.
    BodyTooLarge,
    /// A call frequency limit was exceeded.
    RateLimited,
    /// The HTTP request itself is malformed.
    BadRequest,
    /// No endpoint has this path.
    UnknownPath,
    /// The query lacks `sdkappid`.
    SdkAppIdMissing,
    /// No app has this SDKAppID.
    SdkAppIdNotFound,
    /// The `identifier` is missing or wrong.
    IdentifierInvalid,
    /// The `identifier` is not the app's administrator.
    AdminRequired,
    /// An account the request names does not exist (was never imported, or was deleted).
    AccountNotFound,
    /// The group does not exist or was disbanded.
    GroupNotFound,
    /// An account the request names is not a member of the group.
    NotGroupMember,
    /// The group's type does not support the operation.
    GroupTypeUnsupported,
    /// What the request creates exists already (a group ID in use, a friend already added).
    AlreadyExists,
    /// The message the request names does not exist or was recalled.
    MessageNotFound,
    /// The operator may not do this (e.g. not the owner or an admin).
    PermissionDenied,
    /// A stored quantity is at its limit (friends, groups, members).
    LimitReached,
    /// The accounts are not friends.
    NotFriend,
    /// One account has blocked the other.
    Blocked,
}

impl ErrorRole {
    /// Name of the `tim_core::ErrorRole` variant.
    pub fn variant(self) -> &'static str {
        match self {
            ErrorRole::UserSigExpired => "UserSigExpired",
            ErrorRole::UserSigEmpty => "UserSigEmpty",
            ErrorRole::UserSigInvalid => "UserSigInvalid",
            ErrorRole::UserSigWrongKey => "UserSigWrongKey",
            ErrorRole::UserSigUserMismatch => "UserSigUserMismatch",
            ErrorRole::UserSigAppMismatch => "UserSigAppMismatch",
            ErrorRole::UserSigKeyMissing => "UserSigKeyMissing",
            ErrorRole::InvalidJson => "InvalidJson",
            ErrorRole::InvalidField => "InvalidField",
            ErrorRole::BodyTooLarge => "BodyTooLarge",
            ErrorRole::RateLimited => "RateLimited",
            ErrorRole::BadRequest => "BadRequest",
            ErrorRole::UnknownPath => "UnknownPath",
            ErrorRole::SdkAppIdMissing => "SdkAppIdMissing",
            ErrorRole::SdkAppIdNotFound => "SdkAppIdNotFound",
            ErrorRole::IdentifierInvalid => "IdentifierInvalid",
            ErrorRole::AdminRequired => "AdminRequired",
            ErrorRole::AccountNotFound => "AccountNotFound",
            ErrorRole::GroupNotFound => "GroupNotFound",
            ErrorRole::NotGroupMember => "NotGroupMember",
            ErrorRole::GroupTypeUnsupported => "GroupTypeUnsupported",
            ErrorRole::AlreadyExists => "AlreadyExists",
            ErrorRole::MessageNotFound => "MessageNotFound",
            ErrorRole::PermissionDenied => "PermissionDenied",
            ErrorRole::LimitReached => "LimitReached",
            ErrorRole::NotFriend => "NotFriend",
            ErrorRole::Blocked => "Blocked",
        }
    }
}
