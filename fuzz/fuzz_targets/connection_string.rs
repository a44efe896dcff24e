//! Storage connection strings: parsing never panics, a parsed account is usable, and neither an
//! error nor a `Debug` output echoes the `AccountKey` or `SharedAccessSignature` given.
#![no_main]

use bindings_fuzz::{assert_not_echoed, redacted};
use bindings_queue::{Credential, StorageAccount};
use libfuzzer_sys::fuzz_target;

/// The keys whose values are secrets.
const SECRET_KEYS: &[&str] = &["AccountKey", "SharedAccessSignature"];

/// Everything the parser lets a person see for `text`.
fn shown(text: &str) -> String {
    match StorageAccount::from_connection_string(text) {
        Ok(account) => {
            let endpoint = &account.queue_endpoint;
            assert!(
                matches!(endpoint.scheme(), "http" | "https"),
                "{text:?}: endpoint {endpoint}"
            );
            assert!(endpoint.query().is_none(), "{text:?}: endpoint has a query");
            if matches!(account.credential, Credential::SharedKey { .. }) {
                assert!(
                    account.account_name.is_some(),
                    "{text:?}: shared key, no account name"
                );
            }
            format!("{account:?}")
        }
        Err(err) => format!("{err}\n{err:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let shown_text = shown(text);
    let parts: Vec<&str> = text.split(';').collect();
    for (index, part) in parts.iter().enumerate() {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let secret = value.trim();
        if !SECRET_KEYS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key.trim()))
        {
            continue;
        }
        // A value that also stands elsewhere in the input (say, as the account name) may be shown
        // there.
        let elsewhere = parts
            .iter()
            .enumerate()
            .any(|(i, other)| i != index && other.contains(secret))
            || key.contains(secret);
        if elsewhere {
            continue;
        }
        let mut redacted_parts = parts.clone();
        let redacted_part = format!("{key}={}", value.replace(secret, &redacted(secret)));
        redacted_parts[index] = &redacted_part;
        let shown_redacted = shown(&redacted_parts.join(";"));
        assert_not_echoed(
            "the connection string parser",
            secret,
            &shown_text,
            &shown_redacted,
        );
    }
});
