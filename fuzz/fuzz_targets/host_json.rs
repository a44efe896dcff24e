//! host.json: loading never panics; every problem is reported at a JSON path, with a message.
#![no_main]

// Linked so that their `extensions.queues` and `extensions.kafka` readers are registered and fuzzed.
extern crate bindings_kafka as _;
extern crate bindings_queue as _;

use bindings_core::{HostConfig, HostConfigError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match HostConfig::from_json_str(text) {
        Ok(config) => {
            for warning in &config.warnings {
                assert!(
                    warning.starts_with("$"),
                    "warning without a path: {warning}"
                );
            }
            // Debug must not panic either (durations, enums).
            let _ = format!("{config:?}");
        }
        Err(HostConfigError::Invalid { problems, .. }) => {
            assert!(!problems.is_empty(), "{text:?}: Invalid with no problem");
            for problem in &problems {
                assert!(problem.path.starts_with('$'), "{text:?}: {problem}");
                assert!(!problem.message.is_empty(), "{text:?}: {problem}");
            }
        }
        Err(err) => assert!(err.to_string().starts_with("host.json"), "{text:?}: {err}"),
    }
});
