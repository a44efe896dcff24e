//! Building a queue service from a connection's settings.

use std::sync::Arc;

use bindings_core::Connection;

use crate::{AzureQueueService, QueueService, StorageAccount};

/// The Azure Queue storage service a connection setting describes: a connection string, or an
/// identity-based section.
pub(crate) fn service_for(connection: &Connection) -> Result<Arc<dyn QueueService>, String> {
    let account = StorageAccount::from_connection(connection).map_err(|e| e.to_string())?;
    Ok(Arc::new(AzureQueueService::new(account)))
}
