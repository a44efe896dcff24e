//! Storage accounts from connection strings and from identity-based settings sections.
//!
//! Nothing here ever puts a key, a signature or a client secret into an error or a `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    ClientSecretCredential, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};
use base64::Engine as _;
use bindings_core::Connection;
use url::Url;

use crate::sas;

/// The emulator's account name (Azurite, the storage emulator).
pub(crate) const DEV_ACCOUNT: &str = "devstoreaccount1";
/// The emulator's well-known account key (public, the same everywhere).
pub(crate) const DEV_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// The emulator's queue endpoint.
const DEV_QUEUE_ENDPOINT: &str = "http://127.0.0.1:10001/devstoreaccount1";
/// The emulator's queue port (used with `DevelopmentStorageProxyUri`).
const DEV_QUEUE_PORT: u16 = 10001;
/// Set by App Service (and so Azure Functions) where a managed identity endpoint is available.
const HOSTED_IDENTITY_VAR: &str = "IDENTITY_ENDPOINT";
/// The default `EndpointSuffix` (Azure's public cloud).
const DEFAULT_ENDPOINT_SUFFIX: &str = "core.windows.net";

/// The keys a storage connection string may hold, as documented (matched case-insensitively).
const VALID_KEYS: &[&str] = &[
    "DefaultEndpointsProtocol",
    "AccountName",
    "AccountKey",
    "SharedAccessSignature",
    "EndpointSuffix",
    "QueueEndpoint",
    "QueueSecondaryEndpoint",
    "UseDevelopmentStorage",
    "DevelopmentStorageProxyUri",
    "BlobEndpoint",
    "BlobSecondaryEndpoint",
    "TableEndpoint",
    "TableSecondaryEndpoint",
    "FileEndpoint",
    "FileSecondaryEndpoint",
];

/// The keys that may stand beside `UseDevelopmentStorage=true`.
const DEV_STORAGE_KEYS: &[&str] = &["UseDevelopmentStorage", "DevelopmentStorageProxyUri"];

/// An identity-based section key: lower-cased (as [`Connection::Section`] holds it), and its
/// documented spelling.
type SectionKey = (&'static str, &'static str);

const QUEUE_SERVICE_URI: SectionKey = ("queueserviceuri", "queueServiceUri");
const SERVICE_URI: SectionKey = ("serviceuri", "serviceUri");
const ACCOUNT_NAME: SectionKey = ("accountname", "accountName");
const CREDENTIAL: SectionKey = ("credential", "credential");
const CLIENT_ID: SectionKey = ("clientid", "clientId");
const TENANT_ID: SectionKey = ("tenantid", "tenantId");
const CLIENT_SECRET: SectionKey = ("clientsecret", "clientSecret");
const MANAGED_IDENTITY_RESOURCE_ID: SectionKey =
    ("managedidentityresourceid", "managedIdentityResourceId");

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

/// How requests to the account prove who sends them.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// Shared Key: each request signed with the account key (HMAC-SHA256).
    SharedKey {
        /// The account name the signature names.
        account: String,
        /// The account key, base64-decoded.
        key: Vec<u8>,
    },
    /// A shared access signature, appended to every request's query (no leading `?`).
    Sas(String),
    /// An Entra ID token credential (HTTPS only).
    Token(Arc<dyn TokenCredential>),
    /// No credential.
    Anonymous,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SharedKey { account, .. } => f
                .debug_struct("SharedKey")
                .field("account", account)
                .field("key", &format_args!("***"))
                .finish(),
            Self::Sas(_) => f.write_str("Sas(***)"),
            Self::Token(credential) => f.debug_tuple("Token").field(credential).finish(),
            Self::Anonymous => f.write_str("Anonymous"),
        }
    }
}

impl Credential {
    /// A short name for logs: `shared key`, `SAS`, `token`, `anonymous`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SharedKey { .. } => "shared key",
            Self::Sas(_) => "SAS",
            Self::Token(_) => "token",
            Self::Anonymous => "anonymous",
        }
    }
}

/// A storage account's queue service and the credential to reach it with.
///
/// Built from a connection string ([`StorageAccount::from_connection_string`]), from an
/// identity-based settings section ([`StorageAccount::from_section`]), or from whichever
/// [`Connection`] the settings hold ([`StorageAccount::from_connection`]).
///
/// ```
/// use bindings_queue::{Credential, StorageAccount};
///
/// let account = StorageAccount::from_connection_string("UseDevelopmentStorage=true").unwrap();
/// assert_eq!(account.queue_endpoint.as_str(), "http://127.0.0.1:10001/devstoreaccount1");
/// assert_eq!(account.account_name.as_deref(), Some("devstoreaccount1"));
/// assert!(matches!(account.credential, Credential::SharedKey { .. }));
/// assert!(!format!("{account:?}").contains("Eby8"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct StorageAccount {
    /// The queue service endpoint, without a query (a SAS lives in [`Credential::Sas`]) and
    /// without a trailing slash after a path: `https://acct.queue.core.windows.net/` (a bare
    /// host keeps its root `/`), or path-style `http://127.0.0.1:10001/devstoreaccount1` for the
    /// emulator.
    pub queue_endpoint: Url,
    /// The account name, when known (always with Shared Key).
    pub account_name: Option<String>,
    /// How requests are authorized.
    pub credential: Credential,
}

impl fmt::Debug for StorageAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageAccount")
            .field("queue_endpoint", &self.queue_endpoint.as_str())
            .field("account_name", &self.account_name)
            .field("credential", &self.credential)
            .finish()
    }
}

impl StorageAccount {
    /// The storage emulator (Azurite) at its default address: account `devstoreaccount1`,
    /// `http://127.0.0.1:10001/devstoreaccount1`, the well-known key.
    pub fn development() -> Self {
        Self {
            queue_endpoint: Url::parse(DEV_QUEUE_ENDPOINT).expect("the constant URL parses"),
            account_name: Some(DEV_ACCOUNT.to_owned()),
            credential: dev_credential(),
        }
    }

    /// The account a [`Connection`] from the settings describes: a connection string, or an
    /// identity-based section.
    ///
    /// # Errors
    /// See [`StorageAccount::from_connection_string`] and [`StorageAccount::from_section`].
    pub fn from_connection(connection: &Connection) -> Result<Self, ConnectionError> {
        match connection {
            Connection::String(text) => Self::from_connection_string(text),
            Connection::Section(keys) => Self::from_section(keys),
        }
    }

    /// Parses a storage connection string (`Key=Value` pairs separated by `;`, keys
    /// case-insensitive).
    ///
    /// Keys: `DefaultEndpointsProtocol` (`https` by default), `AccountName`, `AccountKey`,
    /// `SharedAccessSignature`, `EndpointSuffix` (`core.windows.net` by default), `QueueEndpoint`,
    /// `QueueSecondaryEndpoint` (accepted, unused), `UseDevelopmentStorage`,
    /// `DevelopmentStorageProxyUri`; the blob, table and file endpoints are accepted and ignored.
    ///
    /// The queue endpoint is `QueueEndpoint` if given, else `{protocol}://{AccountName}.queue.{EndpointSuffix}`.
    /// A `SharedAccessSignature` wins over an `AccountKey`; with neither, the account is
    /// [`Credential::Anonymous`].
    ///
    /// # Errors
    /// A [`ConnectionError`] naming the offending key: unknown or repeated keys, empty values, a
    /// key that is not base64, `AccountKey` without `AccountName`, no endpoint, a bad URL.
    pub fn from_connection_string(text: &str) -> Result<Self, ConnectionError> {
        let parts = parse_pairs(text)?;
        let get = |key: &str| parts.get(key).map(String::as_str);

        match get("UseDevelopmentStorage")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("false") => {}
            Some("true") => return development_from(&parts),
            Some(_) => {
                return Err(ConnectionError::InvalidValue {
                    key: "UseDevelopmentStorage",
                    expected: "`true` or `false`",
                });
            }
        }
        if parts.contains_key("DevelopmentStorageProxyUri") {
            return Err(ConnectionError::InvalidValue {
                key: "DevelopmentStorageProxyUri",
                expected: "used only with `UseDevelopmentStorage=true`",
            });
        }

        let protocol = match get("DefaultEndpointsProtocol").map(str::to_ascii_lowercase) {
            None => "https".to_owned(),
            Some(p) if p == "http" || p == "https" => p,
            Some(_) => {
                return Err(ConnectionError::InvalidValue {
                    key: "DefaultEndpointsProtocol",
                    expected: "`https` or `http`",
                });
            }
        };
        let account_name = get("AccountName").map(str::to_owned);

        let queue_endpoint = if let Some(endpoint) = get("QueueEndpoint") {
            endpoint_url("QueueEndpoint", endpoint)?
        } else {
            let Some(account) = account_name.as_deref() else {
                return Err(ConnectionError::MissingEndpoint);
            };
            let suffix = get("EndpointSuffix").unwrap_or(DEFAULT_ENDPOINT_SUFFIX);
            if suffix.contains(['/', ':', '?', '#', '@']) {
                return Err(ConnectionError::InvalidValue {
                    key: "EndpointSuffix",
                    expected: "a host name suffix such as `core.windows.net` (no scheme, port or path)",
                });
            }
            if !account.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ConnectionError::InvalidValue {
                    key: "AccountName",
                    expected: "letters and digits only (a storage account name)",
                });
            }
            endpoint_url(
                "AccountName",
                &format!("{protocol}://{account}.queue.{suffix}"),
            )?
        };

        let credential = if let Some(signature) = get("SharedAccessSignature") {
            let token = sas::normalize(signature);
            if token.is_empty() {
                return Err(ConnectionError::EmptyValue {
                    key: "SharedAccessSignature",
                });
            }
            Credential::Sas(token.to_owned())
        } else if let Some(key) = get("AccountKey") {
            let Some(account) = account_name.clone() else {
                return Err(ConnectionError::MissingAccountName);
            };
            Credential::SharedKey {
                account,
                key: decode_key(key)?,
            }
        } else {
            Credential::Anonymous
        };

        Ok(Self {
            queue_endpoint,
            account_name,
            credential,
        })
    }

    /// An identity-based connection from the keys of a settings section (lower-cased, as
    /// [`Connection::Section`] holds them; `X__queueServiceUri` arrives as `queueserviceuri`).
    ///
    /// The endpoint is `queueServiceUri`, else `serviceUri`, else
    /// `https://{accountName}.queue.core.windows.net`. The credential is a managed identity with
    /// `credential=managedidentity` (user-assigned with `clientId` or `managedIdentityResourceId`),
    /// a client secret with `tenantId` + `clientId` + `clientSecret`, and otherwise, as in Azure
    /// Functions, the system-assigned managed identity when hosted in App Service / Functions
    /// (`IDENTITY_ENDPOINT` is set) or the developer tools' sign-in (Azure CLI, then Azure
    /// Developer CLI) elsewhere. Other keys of the section are ignored.
    ///
    /// # Errors
    /// A [`ConnectionError`]: no endpoint key, a bad or non-https URL, an unknown `credential`, an
    /// incomplete client secret, or the identity library refusing the credential.
    pub fn from_section(section: &BTreeMap<String, String>) -> Result<Self, ConnectionError> {
        Self::from_section_in(section, std::env::var_os(HOSTED_IDENTITY_VAR).is_some())
    }

    /// [`StorageAccount::from_section`], told whether the process runs where App Service's managed
    /// identity endpoint is.
    fn from_section_in(
        section: &BTreeMap<String, String>,
        hosted: bool,
    ) -> Result<Self, ConnectionError> {
        let get = |key| value(section, key);

        let (queue_endpoint, endpoint_key) = if let Some(uri) = get(QUEUE_SERVICE_URI) {
            (endpoint_url(QUEUE_SERVICE_URI.1, uri)?, QUEUE_SERVICE_URI.1)
        } else if let Some(uri) = get(SERVICE_URI) {
            (endpoint_url(SERVICE_URI.1, uri)?, SERVICE_URI.1)
        } else if let Some(account) = get(ACCOUNT_NAME) {
            if !account.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ConnectionError::InvalidValue {
                    key: ACCOUNT_NAME.1,
                    expected: "letters and digits only (a storage account name)",
                });
            }
            (
                endpoint_url(
                    ACCOUNT_NAME.1,
                    &format!("https://{account}.queue.{DEFAULT_ENDPOINT_SUFFIX}"),
                )?,
                ACCOUNT_NAME.1,
            )
        } else {
            return Err(ConnectionError::MissingServiceUri);
        };
        if queue_endpoint.scheme() != "https" {
            return Err(ConnectionError::HttpsRequired { key: endpoint_key });
        }
        let account_name = get(ACCOUNT_NAME)
            .map(str::to_owned)
            .or_else(|| account_from_host(&queue_endpoint));

        let credential = token_credential(section, hosted)?;
        Ok(Self {
            queue_endpoint,
            account_name,
            credential: Credential::Token(credential),
        })
    }

    /// The URL of queue `queue` (no SAS: the service adds it).
    pub(crate) fn queue_url(&self, queue: &str) -> Url {
        let mut url = self.queue_endpoint.clone();
        let path = if url.path() == "/" {
            format!("/{queue}")
        } else {
            format!("{}/{queue}", url.path())
        };
        url.set_path(&path);
        url
    }
}

/// A non-empty value of an identity-based section, trimmed.
fn value(section: &BTreeMap<String, String>, (key, _): SectionKey) -> Option<&str> {
    section
        .get(key)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

/// The credential an identity-based section asks for; `hosted`: App Service's managed identity
/// endpoint is there.
fn token_credential(
    section: &BTreeMap<String, String>,
    hosted: bool,
) -> Result<Arc<dyn TokenCredential>, ConnectionError> {
    let get = |key| value(section, key);
    if let Some(kind) = get(CREDENTIAL) {
        if !kind.eq_ignore_ascii_case("managedidentity") {
            return Err(ConnectionError::UnknownCredential {
                value: kind.to_owned(),
            });
        }
        let user_assigned_id = match (get(CLIENT_ID), get(MANAGED_IDENTITY_RESOURCE_ID)) {
            (Some(client_id), _) => Some(UserAssignedId::ClientId(client_id.to_owned())),
            (None, Some(resource_id)) => Some(UserAssignedId::ResourceId(resource_id.to_owned())),
            (None, None) => None,
        };
        return managed_identity(user_assigned_id);
    }

    let secret_keys = [TENANT_ID, CLIENT_ID, CLIENT_SECRET];
    let (present, missing): (Vec<&SectionKey>, Vec<&SectionKey>) =
        secret_keys.iter().partition(|&&key| get(key).is_some());
    let only_client_id = present.len() == 1 && present[0].0 == CLIENT_ID.0;
    if !present.is_empty() && !missing.is_empty() && !only_client_id {
        let list = |keys: &[&SectionKey]| {
            keys.iter()
                .map(|(_, name)| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        return Err(ConnectionError::IncompleteClientSecret {
            present: list(&present),
            missing: list(&missing),
        });
    }
    if only_client_id {
        return Err(ConnectionError::IncompleteClientSecret {
            present: "`clientId`".to_owned(),
            missing: "`tenantId` and `clientSecret` (nor `credential=managedidentity`)".to_owned(),
        });
    }
    if let (Some(tenant), Some(client), Some(secret)) =
        (get(TENANT_ID), get(CLIENT_ID), get(CLIENT_SECRET))
    {
        return ClientSecretCredential::new(
            tenant,
            client.to_owned(),
            Secret::new(secret.to_owned()),
            None,
        )
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|err| credential_error("client secret", &err));
    }
    if hosted {
        return managed_identity(None);
    }
    DeveloperToolsCredential::new(None)
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|err| credential_error("developer tools", &err))
}

/// A managed identity: system-assigned, or the user-assigned one given.
fn managed_identity(
    user_assigned_id: Option<UserAssignedId>,
) -> Result<Arc<dyn TokenCredential>, ConnectionError> {
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id,
        ..Default::default()
    };
    ManagedIdentityCredential::new(Some(options))
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|err| credential_error("managed identity", &err))
}

fn credential_error(kind: &'static str, err: &azure_core::Error) -> ConnectionError {
    ConnectionError::Credential {
        kind,
        reason: err.to_string(),
    }
}

/// The account name from an `{account}.queue.…` host, if the host has that shape.
fn account_from_host(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let (account, rest) = host.split_once('.')?;
    rest.starts_with("queue.").then(|| account.to_owned())
}

/// The emulator's Shared Key credential.
fn dev_credential() -> Credential {
    Credential::SharedKey {
        account: DEV_ACCOUNT.to_owned(),
        key: base64::engine::general_purpose::STANDARD
            .decode(DEV_ACCOUNT_KEY)
            .expect("the well-known key is base64"),
    }
}

/// `UseDevelopmentStorage=true`, with an optional proxy.
fn development_from(
    parts: &BTreeMap<&'static str, String>,
) -> Result<StorageAccount, ConnectionError> {
    if let Some(key) = parts.keys().find(|key| !DEV_STORAGE_KEYS.contains(key)) {
        return Err(ConnectionError::DevelopmentStorageConflict { key });
    }
    let mut account = StorageAccount::development();
    if let Some(proxy) = parts.get("DevelopmentStorageProxyUri") {
        let proxy = endpoint_url("DevelopmentStorageProxyUri", proxy)?;
        let mut endpoint = proxy.clone();
        endpoint
            .set_port(Some(DEV_QUEUE_PORT))
            .map_err(|()| ConnectionError::InvalidUrl {
                key: "DevelopmentStorageProxyUri",
                reason: "it cannot have a port".to_owned(),
            })?;
        endpoint.set_path(&format!("/{DEV_ACCOUNT}"));
        account.queue_endpoint = endpoint;
    }
    Ok(account)
}

/// Splits `Key=Value;…` into canonical key names and trimmed values.
fn parse_pairs(text: &str) -> Result<BTreeMap<&'static str, String>, ConnectionError> {
    let mut parts = BTreeMap::new();
    let mut position = 0;
    for part in text.split(';') {
        if part.trim().is_empty() {
            continue;
        }
        position += 1;
        let Some((key, value)) = part.split_once('=') else {
            return Err(ConnectionError::MalformedPart { position });
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ConnectionError::MalformedPart { position });
        }
        let Some(canonical) = VALID_KEYS
            .iter()
            .copied()
            .find(|valid| valid.eq_ignore_ascii_case(key))
        else {
            let looks_like_a_key = key.len() <= 40 && key.bytes().all(|b| b.is_ascii_alphabetic());
            return Err(ConnectionError::UnknownKey {
                key: looks_like_a_key.then(|| key.to_owned()),
            });
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(ConnectionError::EmptyValue { key: canonical });
        }
        if parts.insert(canonical, value.to_owned()).is_some() {
            return Err(ConnectionError::DuplicateKey { key: canonical });
        }
    }
    if parts.is_empty() {
        return Err(ConnectionError::Empty);
    }
    Ok(parts)
}

/// Decodes a base64 account key (standard alphabet, padded).
fn decode_key(key: &str) -> Result<Vec<u8>, ConnectionError> {
    match base64::engine::general_purpose::STANDARD.decode(key) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(ConnectionError::InvalidAccountKey),
    }
}

/// Parses an endpoint: http(s), a host, no query, user info or fragment; the trailing `/` dropped.
fn endpoint_url(key: &'static str, text: &str) -> Result<Url, ConnectionError> {
    let invalid = |reason: &str| ConnectionError::InvalidUrl {
        key,
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(text.trim()).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be `https` or `http`"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() {
        return Err(invalid(
            "it has a query (`?…`); put a shared access signature in `SharedAccessSignature` instead",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it has user information (`user:password@`)"));
    }
    if url.fragment().is_some() {
        return Err(invalid("it has a fragment (`#…`)"));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = DEV_ACCOUNT_KEY;
    const SIG: &str =
        "sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&sig=SeCrEtSiGnAtUrE%3D";

    fn parse(text: &str) -> Result<StorageAccount, ConnectionError> {
        StorageAccount::from_connection_string(text)
    }

    fn err(text: &str) -> ConnectionError {
        let error = parse(text).expect_err("should be an error");
        let message = error.to_string();
        for secret in [KEY, "SeCrEtSiGnAtUrE", "Eby8vdM02", "hunter2"] {
            assert!(!message.contains(secret), "secret in {message}");
            assert!(
                !format!("{error:?}").contains(secret),
                "secret in {error:?}"
            );
        }
        error
    }

    fn section(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
            .collect()
    }

    fn no_secret_in_debug(account: &StorageAccount) {
        let debug = format!("{account:?}");
        for secret in [KEY, "SeCrEtSiGnAtUrE", "hunter2"] {
            assert!(!debug.contains(secret), "secret in {debug}");
        }
        assert!(
            debug.contains("***")
                || matches!(
                    account.credential,
                    Credential::Anonymous | Credential::Token(_)
                )
        );
    }

    #[test]
    fn account_key_gives_shared_key_and_default_endpoint() {
        let account = parse(&format!(
            "DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={KEY};EndpointSuffix=core.windows.net"
        ))
        .unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "https://myacct.queue.core.windows.net/"
        );
        assert_eq!(account.account_name.as_deref(), Some("myacct"));
        let Credential::SharedKey { account: name, key } = &account.credential else {
            panic!("expected shared key, got {:?}", account.credential);
        };
        assert_eq!(name, "myacct");
        assert_eq!(key.len(), 64);
        no_secret_in_debug(&account);
        assert!(format!("{:?}", account.credential).contains("key: ***"));
    }

    #[test]
    fn keys_are_case_insensitive_and_spaces_trimmed() {
        let account = parse(&format!(
            " defaultendpointsprotocol = http ; ACCOUNTNAME=acct ; accountkey={KEY} ; endpointSUFFIX=core.chinacloudapi.cn ;"
        ))
        .unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "http://acct.queue.core.chinacloudapi.cn/"
        );
    }

    #[test]
    fn protocol_defaults_to_https() {
        let account = parse(&format!("AccountName=acct;AccountKey={KEY}")).unwrap();
        assert_eq!(account.queue_endpoint.scheme(), "https");
    }

    #[test]
    fn queue_endpoint_wins_and_loses_its_trailing_slash() {
        let account = parse(&format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};\
             QueueEndpoint=http://127.0.0.1:12345/devstoreaccount1/;\
             QueueSecondaryEndpoint=http://127.0.0.1:12345/devstoreaccount1-secondary;\
             BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://x;FileEndpoint=http://y"
        ))
        .unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "http://127.0.0.1:12345/devstoreaccount1"
        );
        assert_eq!(
            account.queue_url("orders").as_str(),
            "http://127.0.0.1:12345/devstoreaccount1/orders"
        );
    }

    #[test]
    fn queue_url_on_a_host_endpoint() {
        let account = parse(&format!("AccountName=acct;AccountKey={KEY}")).unwrap();
        assert_eq!(
            account.queue_url("orders").as_str(),
            "https://acct.queue.core.windows.net/orders"
        );
    }

    #[test]
    fn sas_wins_over_account_key() {
        let account = parse(&format!(
            "AccountName=acct;AccountKey={KEY};SharedAccessSignature=?{SIG}"
        ))
        .unwrap();
        let Credential::Sas(token) = &account.credential else {
            panic!("expected SAS, got {:?}", account.credential);
        };
        assert_eq!(token, SIG);
        no_secret_in_debug(&account);
        assert_eq!(format!("{:?}", account.credential), "Sas(***)");
    }

    #[test]
    fn sas_alone_with_an_endpoint() {
        let account = parse(&format!(
            "QueueEndpoint=https://acct.queue.core.windows.net;SharedAccessSignature={SIG}"
        ))
        .unwrap();
        assert!(matches!(account.credential, Credential::Sas(_)));
        assert_eq!(account.account_name, None);
    }

    #[test]
    fn neither_key_nor_sas_is_anonymous() {
        let account = parse("QueueEndpoint=https://acct.queue.core.windows.net").unwrap();
        assert!(matches!(account.credential, Credential::Anonymous));
    }

    #[test]
    fn development_storage() {
        for text in ["UseDevelopmentStorage=true", "usedevelopmentstorage=TRUE;"] {
            let account = parse(text).unwrap();
            assert_eq!(
                account.queue_endpoint.as_str(),
                "http://127.0.0.1:10001/devstoreaccount1"
            );
            assert_eq!(account.account_name.as_deref(), Some(DEV_ACCOUNT));
            let Credential::SharedKey { account: name, key } = &account.credential else {
                panic!("expected shared key");
            };
            assert_eq!(name, DEV_ACCOUNT);
            assert_eq!(
                *key,
                base64::engine::general_purpose::STANDARD
                    .decode(KEY)
                    .unwrap()
            );
            no_secret_in_debug(&account);
        }
    }

    #[test]
    fn development_storage_proxy() {
        let account =
            parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://myproxy").unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "http://myproxy:10001/devstoreaccount1"
        );
    }

    #[test]
    fn development_storage_conflicts() {
        assert_eq!(
            err("UseDevelopmentStorage=true;AccountName=x"),
            ConnectionError::DevelopmentStorageConflict { key: "AccountName" }
        );
        assert_eq!(
            err("UseDevelopmentStorage=maybe"),
            ConnectionError::InvalidValue {
                key: "UseDevelopmentStorage",
                expected: "`true` or `false`"
            }
        );
        assert!(matches!(
            err("DevelopmentStorageProxyUri=http://p;AccountName=a"),
            ConnectionError::InvalidValue {
                key: "DevelopmentStorageProxyUri",
                ..
            }
        ));
        // `false` is as if absent.
        assert!(
            parse(&format!(
                "UseDevelopmentStorage=false;AccountName=a;AccountKey={KEY}"
            ))
            .is_ok()
        );
    }

    #[test]
    fn malformed_account_key_is_named_without_its_value() {
        let error = err("AccountName=acct;AccountKey=hunter2!!notbase64");
        assert_eq!(error, ConnectionError::InvalidAccountKey);
        assert!(error.to_string().contains("`AccountKey`"));
    }

    #[test]
    fn account_key_without_account_name() {
        let error = err(&format!(
            "QueueEndpoint=https://acct.queue.core.windows.net;AccountKey={KEY}"
        ));
        assert_eq!(error, ConnectionError::MissingAccountName);
        assert!(error.to_string().contains("AccountName"));
    }

    #[test]
    fn no_endpoint() {
        assert_eq!(
            err(&format!("AccountKey={KEY}")),
            ConnectionError::MissingEndpoint
        );
        assert_eq!(
            err(&format!("SharedAccessSignature={SIG}")),
            ConnectionError::MissingEndpoint
        );
    }

    #[test]
    fn unknown_keys_are_named_with_the_valid_ones() {
        let error = err("AccountName=a;Acountkey=hunter2");
        assert_eq!(
            error,
            ConnectionError::UnknownKey {
                key: Some("Acountkey".to_owned())
            }
        );
        let message = error.to_string();
        assert!(message.contains("`Acountkey`"), "{message}");
        assert!(
            message.contains("AccountKey, SharedAccessSignature"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_key_that_may_be_a_secret_is_not_shown() {
        // A key pasted without its name: the text before its first `=` is not a key name.
        let error = err(&format!("AccountName=a;{KEY}"));
        assert_eq!(error, ConnectionError::UnknownKey { key: None });
    }

    #[test]
    fn parts_without_equals() {
        assert_eq!(
            err("AccountName=a;hunter2"),
            ConnectionError::MalformedPart { position: 2 }
        );
        assert_eq!(
            err("=hunter2"),
            ConnectionError::MalformedPart { position: 1 }
        );
    }

    #[test]
    fn empty_and_duplicate() {
        assert_eq!(err(""), ConnectionError::Empty);
        assert_eq!(err(" ; ;"), ConnectionError::Empty);
        assert_eq!(
            err("AccountName=a;AccountKey="),
            ConnectionError::EmptyValue { key: "AccountKey" }
        );
        assert_eq!(
            err("AccountName=a;accountname=b"),
            ConnectionError::DuplicateKey { key: "AccountName" }
        );
        assert_eq!(
            err("AccountName=a;SharedAccessSignature=?"),
            ConnectionError::EmptyValue {
                key: "SharedAccessSignature"
            }
        );
    }

    #[test]
    fn bad_values() {
        assert!(matches!(
            err("DefaultEndpointsProtocol=ftp;AccountName=a"),
            ConnectionError::InvalidValue {
                key: "DefaultEndpointsProtocol",
                ..
            }
        ));
        assert!(matches!(
            err("AccountName=a;EndpointSuffix=https://core.windows.net"),
            ConnectionError::InvalidValue {
                key: "EndpointSuffix",
                ..
            }
        ));
        assert!(matches!(
            err("AccountName=a b"),
            ConnectionError::InvalidValue {
                key: "AccountName",
                ..
            }
        ));
    }

    #[test]
    fn urls_that_do_not_parse_or_fit() {
        for (text, reason) in [
            ("QueueEndpoint=not a url", "relative URL"),
            ("QueueEndpoint=ftp://host/x", "scheme"),
            ("QueueEndpoint=https://host/x?sig=hunter2", "query"),
            (
                "QueueEndpoint=https://user:hunter2@host/x",
                "user information",
            ),
        ] {
            let error = err(text);
            let ConnectionError::InvalidUrl { key, reason: why } = &error else {
                panic!("{text}: {error:?}");
            };
            assert_eq!(*key, "QueueEndpoint");
            assert!(why.contains(reason), "{text}: {why}");
        }
    }

    #[test]
    fn from_connection_dispatches() {
        let account = StorageAccount::from_connection(&Connection::String(
            "UseDevelopmentStorage=true".into(),
        ))
        .unwrap();
        assert_eq!(account.account_name.as_deref(), Some(DEV_ACCOUNT));
        let account = StorageAccount::from_connection(&Connection::Section(section(&[(
            "accountName",
            "acct",
        )])))
        .unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "https://acct.queue.core.windows.net/"
        );
    }

    fn token_kind(account: &StorageAccount) -> String {
        let Credential::Token(credential) = &account.credential else {
            panic!("expected a token credential, got {:?}", account.credential);
        };
        format!("{credential:?}")
    }

    #[test]
    fn section_endpoint_precedence() {
        let account = StorageAccount::from_section(&section(&[
            ("queueServiceUri", "https://one.queue.core.windows.net/"),
            ("serviceUri", "https://two.queue.core.windows.net"),
            ("accountName", "three"),
        ]))
        .unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "https://one.queue.core.windows.net/"
        );
        assert_eq!(account.account_name.as_deref(), Some("three"));

        let account = StorageAccount::from_section(&section(&[(
            "serviceUri",
            "https://two.queue.core.windows.net",
        )]))
        .unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "https://two.queue.core.windows.net/"
        );
        assert_eq!(account.account_name.as_deref(), Some("two"));

        let account = StorageAccount::from_section(&section(&[("accountName", "three")])).unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "https://three.queue.core.windows.net/"
        );
    }

    #[test]
    fn section_without_endpoint_names_the_keys_tried() {
        let error = StorageAccount::from_section(&section(&[("credential", "managedidentity")]))
            .unwrap_err();
        assert_eq!(error, ConnectionError::MissingServiceUri);
        let message = error.to_string();
        for key in ["queueServiceUri", "serviceUri", "accountName"] {
            assert!(message.contains(key), "{message}");
        }
    }

    #[test]
    fn section_needs_https() {
        let error = StorageAccount::from_section(&section(&[(
            "queueServiceUri",
            "http://127.0.0.1:10001/devstoreaccount1",
        )]))
        .unwrap_err();
        assert_eq!(
            error,
            ConnectionError::HttpsRequired {
                key: "queueServiceUri"
            }
        );
        let error = StorageAccount::from_section(&section(&[("serviceUri", "nope")])).unwrap_err();
        assert!(matches!(
            error,
            ConnectionError::InvalidUrl {
                key: "serviceUri",
                ..
            }
        ));
    }

    #[test]
    fn section_managed_identity() {
        let account = StorageAccount::from_section(&section(&[
            ("accountName", "acct"),
            ("credential", "ManagedIdentity"),
        ]))
        .unwrap();
        assert!(token_kind(&account).contains("ManagedIdentityCredential"));

        let account = StorageAccount::from_section(&section(&[
            ("accountName", "acct"),
            ("credential", "managedidentity"),
            ("clientId", "00000000-0000-0000-0000-000000000001"),
        ]))
        .unwrap();
        assert!(token_kind(&account).contains("ManagedIdentityCredential"));
    }

    #[test]
    fn section_client_secret() {
        let account = StorageAccount::from_section(&section(&[
            ("accountName", "acct"),
            ("tenantId", "00000000-0000-0000-0000-000000000002"),
            ("clientId", "00000000-0000-0000-0000-000000000001"),
            ("clientSecret", "hunter2"),
        ]))
        .unwrap();
        let kind = token_kind(&account);
        assert!(kind.contains("ClientSecretCredential"), "{kind}");
        no_secret_in_debug(&account);
    }

    #[test]
    fn section_incomplete_client_secret() {
        let error = StorageAccount::from_section(&section(&[
            ("accountName", "acct"),
            ("tenantId", "t"),
            ("clientSecret", "hunter2"),
        ]))
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`clientId`"), "{message}");
        assert!(!message.contains("hunter2"));

        let error =
            StorageAccount::from_section(&section(&[("accountName", "acct"), ("clientId", "c")]))
                .unwrap_err();
        assert!(matches!(
            error,
            ConnectionError::IncompleteClientSecret { .. }
        ));
    }

    #[test]
    fn section_default_is_developer_tools_or_hosted_managed_identity() {
        let keys = section(&[
            ("queueServiceUri", "https://acct.queue.core.windows.net"),
            ("blobServiceUri", "https://acct.blob.core.windows.net"),
        ]);
        let local = StorageAccount::from_section_in(&keys, false).unwrap();
        assert!(token_kind(&local).contains("DeveloperToolsCredential"));
        let hosted = StorageAccount::from_section_in(&keys, true).unwrap();
        assert!(token_kind(&hosted).contains("ManagedIdentityCredential"));
    }

    #[test]
    fn section_unknown_credential() {
        let error = StorageAccount::from_section(&section(&[
            ("accountName", "acct"),
            ("credential", "certificate"),
        ]))
        .unwrap_err();
        assert_eq!(
            error,
            ConnectionError::UnknownCredential {
                value: "certificate".to_owned()
            }
        );
        assert!(error.to_string().contains("managedidentity"));
    }
}
