//! The Azure extension's JSON-string Kafka event form: parsing never panics, what it reads never
//! pins a partition or a timestamp, and its errors name a field without echoing the event's content.
#![no_main]

use bindings_kafka::parse_event_json;
use libfuzzer_sys::fuzz_target;

/// Longer than any message naming a field (`Headers[123456]`) with what it expects.
const MAX_MESSAGE_LEN: usize = 200;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_event_json(text) {
        Ok(None) => {}
        Ok(Some(record)) => {
            assert!(
                record.partition.is_none() && record.timestamp.is_none(),
                "{text:?}: the form never sets the partition or the timestamp"
            );
        }
        Err(err) => {
            let message = err.to_string();
            assert!(
                err.is_poison(),
                "{text:?}: a malformed event is not worth retrying"
            );
            assert!(
                message.contains("JSON-string Kafka event") && message.len() < MAX_MESSAGE_LEN,
                "{text:?}: {message}"
            );
        }
    }
});
