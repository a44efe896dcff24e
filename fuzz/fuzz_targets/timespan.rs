//! .NET `TimeSpan` strings: parsing never panics, and what parses formats back to the same
//! duration.
#![no_main]

use bindings_core::{format_timespan, parse_timespan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_timespan(text) {
        Ok(duration) => {
            let formatted = format_timespan(duration);
            assert_eq!(
                parse_timespan(&formatted),
                Ok(duration),
                "{text:?} parsed to {duration:?}, formatted as {formatted:?}"
            );
        }
        Err(err) => {
            let message = err.to_string();
            assert!(message.contains("hh:mm:ss"), "{text:?}: {message}");
        }
    }
});
