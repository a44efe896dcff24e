//! `{name}` binding expressions: parsing and rendering never panic; a template displays as its
//! source, a static template renders to it, and every name it uses is in its source.
//!
//! Input: the template, then (after the first newline) the binding data as a JSON object.
#![no_main]

use bindings_core::{BindingData, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (source, json) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(template) = Template::parse(source) else {
        return;
    };
    assert_eq!(template.to_string(), source);
    for name in template.names() {
        assert!(
            !name.is_empty() && source.contains(name),
            "{source:?}: {name:?}"
        );
    }
    let mut binding_data = BindingData::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
        binding_data.extend_from_json(&value);
    }
    let rendered = template.render(&binding_data);
    if template.is_static() {
        assert_eq!(rendered.as_deref(), Ok(source));
    }
});
