//! Which [`QueueService`] a connection name means: one provided in code (e.g. the in-memory queue),
//! or one built from the connection's settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bindings_core::BindContext;

use crate::{DEFAULT_CONNECTION, QueueService};

/// Queue services by connection name, shared by every queue-triggered function of a host.
///
/// Provide one to run functions on queues of your own — the in-memory queue for an embedded
/// default or tests — instead of the connection's settings:
///
/// ```
/// use std::sync::Arc;
/// use bindings_queue::{MemoryQueueService, QueueServices};
///
/// let memory = MemoryQueueService::new();
/// let services = QueueServices::new().with("Storage", memory.clone()); // AzureWebJobsStorage
/// // Host::builder().resource(Arc::new(services))...
/// ```
///
/// Names are compared without case and without an `AzureWebJobs` prefix, so `"Storage"` and
/// `"AzureWebJobsStorage"` are the same connection.
#[derive(Default)]
pub struct QueueServices {
    entries: Mutex<HashMap<String, Arc<dyn QueueService>>>,
}

impl std::fmt::Debug for QueueServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_map()
            .entries(
                entries
                    .iter()
                    .map(|(name, service)| (name, service.describe())),
            )
            .finish()
    }
}

/// A connection name as [`QueueServices`] compares it: lower-cased, without an `AzureWebJobs` prefix.
pub(crate) fn key(connection: &str) -> String {
    let lower = connection.to_ascii_lowercase();
    lower
        .strip_prefix("azurewebjobs")
        .filter(|rest| !rest.is_empty())
        .unwrap_or(&lower)
        .to_owned()
}

impl QueueServices {
    /// No services provided: every connection comes from settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `service` for connection `connection`.
    #[must_use]
    pub fn with(self, connection: &str, service: impl QueueService) -> Self {
        self.insert(connection, Arc::new(service));
        self
    }

    /// Uses `service` for connection `connection`.
    pub fn insert(&self, connection: &str, service: Arc<dyn QueueService>) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key(connection), service);
    }

    /// The service for `connection`, if one was provided or already built.
    pub fn get(&self, connection: &str) -> Option<Arc<dyn QueueService>> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key(connection))
            .cloned()
    }

    /// The service for `connection`: a provided one, or one built from settings (and kept for the other
    /// functions using the same connection). Problems go into `cx`.
    pub(crate) fn resolve(
        &self,
        cx: &mut BindContext<'_>,
        connection: &str,
        chosen_by: &str,
    ) -> Option<Arc<dyn QueueService>> {
        if let Some(service) = self.get(connection) {
            return Some(service);
        }
        let settings = cx.connection(chosen_by, connection)?;
        let service = crate::connect::service_for(&settings)
            .map_err(|why| cx.problem(format!("connection `{connection}`: {why}")))
            .ok()?;
        self.insert(connection, Arc::clone(&service));
        Some(service)
    }
}

/// The builder methods that choose a queue binding's storage account, for an attribute with an
/// `account: AccountChoice` field (the trigger's and the output's).
macro_rules! account_setters {
    () => {
        /// The connection setting (`X`: looked up as `AzureWebJobsX`, then `X`). Wins over
        /// `storage_account`. An empty name is the same as none, as in Azure: with no
        /// `storage_account`, that is `AzureWebJobsStorage`.
        pub fn connection(mut self, name: impl Into<String>) -> Self {
            self.account.connection = Some(name.into());
            self
        }

        /// The function's `#[storage_account("X")]`.
        pub fn storage_account(mut self, name: impl Into<String>) -> Self {
            self.account.storage_account = Some(name.into());
            self
        }

        /// A `#[storage_account("X")]` on the enclosing module or impl block.
        pub fn enclosing_storage_account(mut self, name: impl Into<String>) -> Self {
            self.account.enclosing_storage_account = Some(name.into());
            self
        }
    };
}
pub(crate) use account_setters;

/// Which connection a queue binding (trigger or output) uses, as written: its own `connection`, the
/// function's `#[storage_account]`, the enclosing module's, or [`DEFAULT_CONNECTION`].
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountChoice {
    pub(crate) connection: Option<String>,
    pub(crate) storage_account: Option<String>,
    pub(crate) enclosing_storage_account: Option<String>,
}

impl AccountChoice {
    /// The connection setting's name and which option chose it, in the documented order. An empty
    /// `connection` is the same as none, as in Azure.
    pub(crate) fn name(&self) -> (&str, &'static str) {
        if let Some(name) = self.connection.as_deref().filter(|name| !name.is_empty()) {
            (name, "connection")
        } else if let Some(name) = &self.storage_account {
            (name, "storage_account")
        } else if let Some(name) = &self.enclosing_storage_account {
            (name, "storage_account (on the enclosing module)")
        } else {
            (DEFAULT_CONNECTION, "the default connection")
        }
    }

    /// The service it names (see [`QueueServices::resolve`]), with its connection name; problems go
    /// into `cx`.
    pub(crate) fn service(
        &self,
        cx: &mut BindContext<'_>,
    ) -> Option<(String, Arc<dyn QueueService>)> {
        let (connection, chosen_by) = self.name();
        let service = cx
            .resource::<QueueServices>()
            .resolve(cx, connection, chosen_by)?;
        Some((connection.to_owned(), service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryQueueService;

    #[test]
    fn names_match_without_case_or_the_azurewebjobs_prefix() {
        let services = QueueServices::new().with("Storage", MemoryQueueService::new());
        assert!(services.get("AzureWebJobsStorage").is_some());
        assert!(services.get("storage").is_some());
        assert!(services.get("Other").is_none());
        let services = QueueServices::new().with("AzureWebJobsMine", MemoryQueueService::new());
        assert!(services.get("Mine").is_some());
        assert_eq!(key("AzureWebJobs"), "azurewebjobs");
    }
}
