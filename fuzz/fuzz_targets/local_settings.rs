//! local.settings.json: loading never panics, and no error or `Debug` output echoes a setting's
//! value (values may be secrets), whether loading fails or a name is then resolved or looked up
//! as a connection.
#![no_main]

use bindings_core::Settings;
use bindings_fuzz::{assert_not_echoed, redacted};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The sections whose values are settings.
const SECTIONS: &[&str] = &["Values", "ConnectionStrings"];

/// Everything loading `text` and using each of `names` lets a person see.
fn shown(text: &str, names: &[String]) -> String {
    let settings = match Settings::from_local_json_for_fuzzing(text) {
        Ok(settings) => settings,
        Err(err) => return format!("{err}\n{err:?}"),
    };
    let mut shown = format!("{settings:?}");
    for name in names {
        for result in [
            settings.resolve("option", &format!("%{name}%")).map(drop),
            settings.expand("option", name).map(drop),
        ] {
            if let Err(err) = result {
                shown.push_str(&format!("\n{err}\n{err:?}"));
            }
        }
        match settings.connection("connection", name) {
            Ok(connection) => shown.push_str(&format!("\n{connection:?}")),
            Err(err) => shown.push_str(&format!("\n{err}\n{err:?}")),
        }
    }
    shown
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = serde_json::from_str::<Value>(text).ok();
    let mut names = Vec::new();
    let mut values = Vec::new();
    if let Some(Value::Object(root)) = &parsed {
        for section in SECTIONS {
            if let Some(Value::Object(entries)) = root.get(*section) {
                for (name, value) in entries {
                    names.push(name.clone());
                    if let Value::String(value) = value {
                        values.push(value.clone());
                    }
                }
            }
        }
    }
    let shown_text = shown(text, &names);
    let Some(Value::Object(root)) = parsed else {
        return;
    };
    for secret in &values {
        // A value that is also a name, or part of one, is shown as the name.
        if names.iter().any(|name| name.contains(secret.as_str())) {
            continue;
        }
        let mut redacted_root = root.clone();
        for section in SECTIONS {
            if let Some(Value::Object(entries)) = redacted_root.get_mut(*section) {
                for value in entries.values_mut() {
                    if let Value::String(value) = value {
                        *value = value.replace(secret.as_str(), &redacted(secret));
                    }
                }
            }
        }
        let redacted_text = Value::Object(redacted_root).to_string();
        let shown_redacted = shown(&redacted_text, &names);
        assert_not_echoed(
            "local.settings.json loading",
            secret,
            &shown_text,
            &shown_redacted,
        );
    }
});
