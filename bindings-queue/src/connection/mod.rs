//! Storage accounts from connection strings ([`string`]) and from identity-based settings
//! sections ([`identity`]); their errors ([`error`]).
//!
//! Nothing here ever puts a key, a signature or a client secret into an error or a `Debug` output.

mod error;
mod identity;
mod string;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use bindings_core::Connection;
use url::Url;

pub use error::ConnectionError;
#[cfg(test)]
pub(crate) use string::DEV_ACCOUNT_KEY;

/// The default `EndpointSuffix` (Azure's public cloud).
const DEFAULT_ENDPOINT_SUFFIX: &str = "core.windows.net";

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
