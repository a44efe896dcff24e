//! Why a storage connection could not be understood.

use super::string::VALID_KEYS;

/// Why a storage connection could not be understood.
///
/// Messages name the offending key and say what to do; they never contain an account key, a
/// shared access signature or a client secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The connection string is empty.
    #[error(
        "the storage connection string is empty; set it to `UseDevelopmentStorage=true` for the emulator, \
         or to `DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...` (from the storage account's \
         \"Access keys\")"
    )]
    Empty,
    /// A `;`-separated part has no `=` or no key before it.
    #[error(
        "part {position} of the storage connection string is not `Key=Value` (its text is not shown: it may \
         be a secret); separate `Key=Value` pairs with `;`"
    )]
    MalformedPart {
        /// The part's position, from 1.
        position: usize,
    },
    /// A key that storage connection strings do not have.
    #[error("unknown key {} in the storage connection string; valid keys: {}", shown_key(.key), VALID_KEYS.join(", "))]
    UnknownKey {
        /// The key as written, or `None` when it does not look like a key name (it is then not shown,
        /// since it may be part of a secret).
        key: Option<String>,
    },
    /// A key given twice.
    #[error("`{key}` appears twice in the storage connection string; keep one")]
    DuplicateKey {
        /// The key.
        key: &'static str,
    },
    /// A key with an empty value.
    #[error("`{key}` is empty in the storage connection string; give it a value or remove it")]
    EmptyValue {
        /// The key.
        key: &'static str,
    },
    /// A value outside the key's allowed values.
    #[error("`{key}` in the storage connection string must be {expected}")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// What the key accepts.
        expected: &'static str,
    },
    /// `AccountKey` is not base64.
    #[error(
        "`AccountKey` in the storage connection string is not valid base64; copy the key again from the \
         storage account's \"Access keys\" (it ends with `==`)"
    )]
    InvalidAccountKey,
    /// `AccountKey` without `AccountName`.
    #[error(
        "the storage connection string has `AccountKey` but no `AccountName`; add `AccountName=<account>` \
         (Shared Key signing needs the account's name)"
    )]
    MissingAccountName,
    /// Neither an account name nor an endpoint to build the queue endpoint from.
    #[error(
        "the storage connection string says neither `AccountName` nor `QueueEndpoint`; add \
         `AccountName=<account>` (the endpoint is then https://<account>.queue.<EndpointSuffix>) or \
         `QueueEndpoint=<url>`"
    )]
    MissingEndpoint,
    /// `UseDevelopmentStorage=true` with a key it cannot be combined with.
    #[error(
        "`UseDevelopmentStorage=true` cannot be combined with `{key}`; for the emulator use \
         `UseDevelopmentStorage=true` alone (optionally with `DevelopmentStorageProxyUri`), or write out \
         `AccountName`, `AccountKey` and `QueueEndpoint` without it"
    )]
    DevelopmentStorageConflict {
        /// The key that may not stand beside it.
        key: &'static str,
    },
    /// A URL value that does not parse, or is not a plain http(s) base URL.
    #[error("`{key}` is not a usable URL: {reason}")]
    InvalidUrl {
        /// The key (`QueueEndpoint`, `queueServiceUri`, …).
        key: &'static str,
        /// What is wrong (never the URL itself: it may carry a signature).
        reason: String,
    },
    /// An identity-based section with nothing to find the queue service from.
    #[error(
        "the identity-based connection has no queue service address; looked for `queueServiceUri`, \
         `serviceUri` and `accountName` in its section; set `<Connection>__queueServiceUri` to \
         https://<account>.queue.core.windows.net (or `<Connection>__accountName`)"
    )]
    MissingServiceUri,
    /// An identity-based section whose `credential` is not one this crate knows.
    #[error(
        "`credential` is \"{value}\" in the identity-based connection; the only value is `managedidentity` \
         (omit it to use a client secret or the developer tools' sign-in)"
    )]
    UnknownCredential {
        /// The value given (a kind, not a secret).
        value: String,
    },
    /// Some, but not all, of `tenantId`, `clientId` and `clientSecret`.
    #[error(
        "the identity-based connection has {present} but not {missing}; a client secret credential needs \
         `tenantId`, `clientId` and `clientSecret` (or set `credential` to `managedidentity` for a managed \
         identity)"
    )]
    IncompleteClientSecret {
        /// The keys given, for display.
        present: String,
        /// The keys missing, for display.
        missing: String,
    },
    /// Entra ID tokens are only sent over HTTPS.
    #[error(
        "`{key}` must be an https URL: an identity-based connection sends Entra ID tokens, which the SDK \
         only sends over https"
    )]
    HttpsRequired {
        /// The key holding the URL.
        key: &'static str,
    },
    /// The identity library refused to build the credential.
    #[error("cannot set up the {kind} credential of the identity-based connection: {reason}")]
    Credential {
        /// Which credential (`managed identity`, `client secret`, `developer tools`).
        kind: &'static str,
        /// The identity library's reason.
        reason: String,
    },
}

/// How an unknown key is shown: only when it looks like a key name.
fn shown_key(key: &Option<String>) -> String {
    match key {
        Some(key) => format!("`{key}`"),
        None => "(not shown: it does not look like a key name)".to_owned(),
    }
}
