//! The Azure Queue storage trigger for `bindings`: listener loop, back-off, concurrency, visibility
//! renewal and poison handling over a [`QueueService`] (Azure or in-memory).

mod azure;
mod connection;
mod sas;
mod service;
mod shared_key;

pub use azure::AzureQueueService;
pub use connection::{ConnectionError, Credential, StorageAccount};
pub use service::{
    MAX_MESSAGE_SIZE, MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY, QueueService, Receipt,
    ReceivedMessage, ServiceError, ServiceErrorKind,
};
