//! The Azure Queue storage trigger for `bindings`: listener loop, back-off, concurrency, visibility
//! renewal and poison handling over a `QueueService` (Azure or in-memory).
//!
//! This crate is being built; until it lands, the `queue` feature of the facade adds nothing.
