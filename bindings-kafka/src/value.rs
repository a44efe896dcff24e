//! The Kafka options' values: `bindings_spec::value` (`Raw`, `Slot`, `Fields`, `option_fields!`)
//! over the table `bindings_spec::kafka`, so that the host.json reader, the layering and the
//! librdkafka mapping loop over the table instead of naming each option.

pub(crate) use bindings_spec::value::{Fields, Raw, Set};

/// Defines a struct whose fields are Kafka options (see `bindings_spec::option_fields!`).
macro_rules! option_fields {
    ($($body:tt)*) => {
        ::bindings_spec::option_fields! { lookup = ::bindings_spec::kafka::option; $($body)* }
    };
}
pub(crate) use option_fields;

/// Builder methods for Kafka options (see `bindings_spec::option_setters!`).
macro_rules! setters {
    ($($body:tt)*) => {
        ::bindings_spec::option_setters! {
            lookup = ::bindings_spec::kafka::option; into = options; $($body)*
        }
    };
}
pub(crate) use setters;

#[cfg(test)]
mod tests {
    use bindings_spec::kafka;
    use bindings_spec::value::{Plain, Slot};

    use crate::{Acks, Partitioner, Protocol};

    #[test]
    fn kafka_choices_round_trip_through_raw() {
        assert_eq!(
            Partitioner::from_raw(&Partitioner::Murmur2Random.to_raw()),
            Some(Partitioner::Murmur2Random)
        );
        let acks = kafka::option("acks");
        assert_eq!(Acks::None.to_raw().property(acks), "0");
    }

    #[test]
    fn required_fields_start_at_the_declared_default() {
        assert_eq!(<u32 as Slot>::initial(kafka::option("linger_ms")), 5);
        assert_eq!(
            <Protocol as Slot>::initial(kafka::option("protocol")),
            Protocol::Plaintext
        );
        assert_eq!(
            <Option<u32> as Slot>::initial(kafka::option("linger_ms")),
            None
        );
    }
}
