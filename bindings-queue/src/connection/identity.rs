//! Identity-based connections: a settings section (`X__queueServiceUri`, `X__credential`, …) and
//! the Entra ID credential it asks for.

use std::collections::BTreeMap;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    ClientSecretCredential, DeveloperToolsCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};
use url::Url;

use super::{ConnectionError, Credential, DEFAULT_ENDPOINT_SUFFIX, StorageAccount, endpoint_url};

/// Set by App Service (and so Azure Functions) where a managed identity endpoint is available.
const HOSTED_IDENTITY_VAR: &str = "IDENTITY_ENDPOINT";
/// An identity-based section key: lower-cased (as [`Connection::Section`](bindings_core::Connection::Section) holds it), and its
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

impl StorageAccount {
    /// An identity-based connection from the keys of a settings section (lower-cased, as
    /// [`Connection::Section`](bindings_core::Connection::Section) holds them; `X__queueServiceUri` arrives as `queueserviceuri`).
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
    pub(super) fn from_section_in(
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
