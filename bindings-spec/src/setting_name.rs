//! What can be the name of an app setting: a value the macros refuse at compile time is refused alike
//! at start-up (host.json).

/// Whether `text` can name an app setting: ASCII letters, digits, `_`, `-`, `.` and `:` (`__` and
/// `:` separate a section's keys). Azure's own app setting names are a subset of these, so a value
/// with whitespace, `;`, `=`, `%` or any other character is not a setting's name.
fn is_setting_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// The setting a credential option names: `Name` (as the seed's C# samples write it) or `%Name%`
/// (as its function.json samples do); `None` if `text` is neither.
///
/// ```
/// use bindings_spec::named_setting;
///
/// assert_eq!(named_setting("%KafkaPassword%"), Some("KafkaPassword"));
/// assert_eq!(named_setting("hunter 2"), None);
/// ```
pub fn named_setting(text: &str) -> Option<&str> {
    let name = text
        .strip_prefix('%')
        .and_then(|rest| rest.strip_suffix('%'))
        .unwrap_or(text);
    is_setting_name(name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_and_whole_references_name_a_setting() {
        assert_eq!(
            named_setting("ConfluentCloudPassword"),
            Some("ConfluentCloudPassword")
        );
        assert_eq!(
            named_setting("%ConfluentCloudUsername%"),
            Some("ConfluentCloudUsername")
        );
        assert_eq!(named_setting("Kafka__Password"), Some("Kafka__Password"));
        assert_eq!(
            named_setting("my-app.kafka:user"),
            Some("my-app.kafka:user")
        );
        for text in [
            "",
            "%%",
            "%",
            "hunter 2",
            "a;b",
            "k=v",
            "pre%Name%",
            "%a%b%",
            "%Name",
            "Name%",
            "pässword",
            "tab\there",
            "$ConnectionString",
        ] {
            assert_eq!(named_setting(text), None, "{text:?}");
        }
    }
}
