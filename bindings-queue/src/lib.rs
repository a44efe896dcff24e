//! The Azure Queue storage trigger and output binding for `bindings`: the trigger's listener loop,
//! back-off, concurrency, visibility renewal and poison handling, and the awaited `#[queue_output]`,
//! over a [`QueueService`] (Azure Queue storage, or the in-memory queue).

mod azure;
mod backoff;
mod batch;
mod connect;
mod connection;
mod envelope;
mod kind;
mod listener;
mod memory;
mod message;
mod options;
mod output;
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
pub use memory::MemoryQueueService;
pub use message::{QueueEvent, QueueMessage, QueueMetadata};
pub use options::{MessageEncoding, QueuesOptions};
pub use output::{
    MAX_CONCURRENT_SENDS, QueueItem, QueueMessageOut, QueueOutput, QueueOutputAttribute,
};
pub use service::{
    DEFAULT_TIME_TO_LIVE, MAX_MESSAGE_SIZE, MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY, QueueService,
    Receipt, ReceivedMessage, SendOptions, ServiceError, ServiceErrorKind, TimeToLive,
};
pub use services::QueueServices;
pub use status::{
    MAX_SCALE_OUT_STEP, MESSAGING_SYSTEM, QueueCounts, QueueFunction, QueueFunctions, ScaleHint,
    target_instances,
};
pub use trigger::{DEFAULT_CONNECTION, QueueTriggerAttribute};
