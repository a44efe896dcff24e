//! Storage connection strings: `DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…`, and the
//! emulator's `UseDevelopmentStorage=true`.

use std::collections::BTreeMap;

use base64::Engine as _;
use url::Url;

use super::{ConnectionError, Credential, DEFAULT_ENDPOINT_SUFFIX, StorageAccount, endpoint_url};
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
/// The keys a storage connection string may hold, as documented (matched case-insensitively).
pub(super) const VALID_KEYS: &[&str] = &[
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
