//! The Kafka output binding for `bindings`: options to librdkafka configuration, a producer cache,
//! message shapes and serializers, and awaited delivery.
//!
//! This crate is being built; until it lands, the `kafka` feature of the facade adds nothing.
