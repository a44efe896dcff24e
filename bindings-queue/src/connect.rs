//! Building a queue service from a connection's settings.

use std::sync::Arc;

use bindings_core::Connection;

use crate::QueueService;

/// The service a connection setting describes: a connection string, or an identity-based section.
pub(crate) fn service_for(connection: &Connection) -> Result<Arc<dyn QueueService>, String> {
    match connection {
        Connection::String(_) | Connection::Section(_) => Err(
            "Azure Queue storage connections are not available in this build yet; provide a queue service \
             for this connection in code (QueueServices)"
                .to_owned(),
        ),
    }
}
