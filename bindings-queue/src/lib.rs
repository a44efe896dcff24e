//! The Azure Queue storage trigger for `bindings`: listener loop, back-off, concurrency, visibility
//! renewal and poison handling over a [`QueueService`] (Azure or in-memory).

mod memory;
mod service;

pub use memory::{DEFAULT_TIME_TO_LIVE, MemoryQueueService};
pub use service::{
    MAX_MESSAGE_SIZE, MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY, QueueService, Receipt,
    ReceivedMessage, ServiceError, ServiceErrorKind,
};
