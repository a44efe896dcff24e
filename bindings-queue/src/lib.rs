//! The Azure Queue storage trigger for `bindings`: listener loop, back-off, concurrency, visibility
//! renewal and poison handling over a [`QueueService`] (Azure Queue storage, or the in-memory queue).

mod azure;
mod backoff;
mod batch;
mod connect;
mod connection;
mod kind;
mod listener;
mod memory;
mod message;
mod options;
mod poison;
mod sas;
mod service;
mod services;
mod shared_key;
mod status;
mod trigger;

/// The attribute to implement [`QueueService`] with: `#[bindings::queue::async_trait]` on the impl.
pub use async_trait::async_trait;
pub use azure::AzureQueueService;
pub use batch::BatchOutcome;
pub use bindings_spec::{POISON_SUFFIX, check_queue_name, poison_queue_name, trigger_queue_name};
pub use connection::{ConnectionError, Credential, StorageAccount};
pub use kind::QueueTrigger;
pub use memory::{DEFAULT_TIME_TO_LIVE, MemoryQueueService};
pub use message::{QueueEvent, QueueMessage, QueueMetadata};
pub use options::{MessageEncoding, QueuesOptions};
pub use service::{
    MAX_MESSAGE_SIZE, MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY, QueueService, Receipt,
    ReceivedMessage, ServiceError, ServiceErrorKind,
};
pub use services::QueueServices;
pub use status::{
    MAX_SCALE_OUT_STEP, QueueCounts, QueueFunction, QueueFunctions, ScaleHint, target_instances,
};
pub use trigger::{DEFAULT_CONNECTION, QueueTriggerAttribute};
