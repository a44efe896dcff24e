//! The option tables of `bindings`' bindings, and the small rules both the macros and the runtime
//! apply, so that a value refused at compile time is refused alike at start-up.
//!
//! Each option is declared once, as an [`OptionSpec`]: its Rust and host.json names, its kind with
//! range or choices and default, its doc line, its librdkafka property and whether it names a
//! secret. The macros parse and check attribute options from these declarations, the runtime reads
//! host.json and checks the merged values at `build()` with them, and README.md's option tables are
//! made from them (a test keeps them equal). [`value`] holds an option's value whatever its kind,
//! and the structs whose fields are options ([`option_fields!`]), so that the runtime's readers,
//! layering and checks loop over a table instead of naming each option.
//!
//! This crate has no dependencies: the proc-macro crate and the runtime crates both build on it.

pub mod kafka;
mod option;
pub mod queue;
mod queue_name;
mod setting_name;
mod suggest;
mod timespan;
pub mod value;

pub use kafka::{
    Acks, AuthenticationMode, AutoOffsetReset, Compression, Ordering, Partitioner, Protocol,
    RetryStrategy,
};
pub use option::{DefaultValue, Kind, OptionSpec, Refusal, Shape, count, find, markdown_table};
pub use queue_name::{
    POISON_SUFFIX, check_queue_name, output_queue_name, poison_queue_name, trigger_queue_name,
};
pub use setting_name::named_setting;
pub use suggest::did_you_mean;
pub use timespan::{TimeSpanError, format_timespan, parse_timespan};

#[cfg(test)]
mod readme {
    use crate::{kafka, markdown_table, queue};

    const README: &str = include_str!("../../README.md");

    #[test]
    fn the_readme_shows_the_queue_options_as_declared() {
        let table = markdown_table("queues", queue::OPTIONS);
        assert!(
            README.contains(&table),
            "README.md's `extensions.queues` table differs from bindings-spec's declarations; \
             replace it with:\n{table}"
        );
    }

    #[test]
    fn the_readme_shows_the_kafka_trigger_options_as_declared() {
        let table = markdown_table("kafka", kafka::TRIGGER_OWN);
        assert!(
            README.contains(&table),
            "README.md's Kafka trigger table differs from bindings_spec::kafka's declarations; \
             replace it with:\n{table}"
        );
    }

    #[test]
    fn every_kafka_option_is_declared_once() {
        let mut names: Vec<&str> = kafka::OPTIONS
            .iter()
            .chain(kafka::TRIGGER_OWN)
            .map(|option| option.rust)
            .collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "an option name is declared twice");
    }

    #[test]
    fn the_readme_shows_the_kafka_options_as_declared() {
        let table = markdown_table("kafka", kafka::OPTIONS);
        assert!(
            README.contains(&table),
            "README.md's Kafka option table differs from bindings_spec::kafka's declarations; \
             replace it with:\n{table}"
        );
    }
}
