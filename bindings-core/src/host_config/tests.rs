use std::time::Duration;

use bindings_spec::queue;

use super::*;

/// A section as a provider would declare one, using each typed reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Probe {
    count: Option<u32>,
    span: Option<Duration>,
    mode: Option<bool>,
    flag: Option<bool>,
    name: Option<String>,
    limit: Option<Option<u32>>,
    size: Option<u64>,
    headers: Option<BTreeMap<String, String>>,
}

impl Extension for Probe {
    const NAME: &'static str = "probe";

    fn read(section: &mut Section<'_>) -> Self {
        section.ignore(&["azureOnly"], "an Azure option this library does not use");
        Self {
            count: section.count(&queue::BATCH_SIZE),
            span: section.timespan(&queue::MAX_POLLING_INTERVAL),
            mode: section.choice("mode", &["on", "off"], |text| match text {
                "on" => Some(true),
                "off" => Some(false),
                _ => None,
            }),
            flag: section.bool("flag"),
            name: section.string("name"),
            limit: section.limit("limit"),
            size: section.positive("size"),
            headers: section.string_map("headers"),
        }
    }
}

crate::register_extension!(Probe);

fn invalid(json: &str) -> Vec<String> {
    HostConfig::from_json_str(json)
        .expect_err("invalid values are refused")
        .problems()
}

#[test]
fn a_registered_section_is_read_by_its_extension_with_keys_in_any_case() {
    let config = HostConfig::from_json_str(
        r#"{ "Version": "2.0", "Extensions": { "PROBE": {
            "BATCHSIZE": 4, "maxPollingInterval": "00:00:02", "mode": "on", "flag": true,
            "name": "x", "limit": -1, "size": 7, "headers": { "X-A": "b" } } } }"#,
    )
    .unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let probe = config.extension::<Probe>();
    assert_eq!(probe.count, Some(4));
    assert_eq!(probe.span, Some(Duration::from_secs(2)));
    assert_eq!(probe.mode, Some(true));
    assert_eq!(probe.flag, Some(true));
    assert_eq!(probe.name.as_deref(), Some("x"));
    assert_eq!(probe.limit, Some(None));
    assert_eq!(probe.size, Some(7));
    assert_eq!(probe.headers.unwrap()["X-A"], "b");
}

#[test]
fn an_absent_section_gives_the_default_and_code_can_set_one() {
    let config = HostConfig::from_json_str(r#"{ "version": "2.0" }"#).unwrap();
    assert_eq!(config.extension::<Probe>(), Probe::default());
    let set = Probe {
        count: Some(3),
        ..Probe::default()
    };
    let config = config.with_extension(set.clone());
    assert_eq!(config.extension::<Probe>(), set);
    assert!(
        format!("{config:?}").contains("count: Some(3)"),
        "{config:?}"
    );
}

#[test]
fn every_invalid_value_is_reported_at_once_with_its_path() {
    let text = invalid(
        r#"{ "version": "2.0", "extensions": { "probe": {
            "batchSize": 64, "maxPollingInterval": "00:00:00.050", "mode": "maybe", "flag": "yes",
            "name": 1, "limit": 0, "size": -2, "headers": { "X": 1 } } } }"#,
    );
    let expect = [
        "$.extensions.probe.batchSize: 64 is out of range; must be 1 to 32",
        "$.extensions.probe.maxPollingInterval: \"00:00:00.050\" is too short; must be at least 00:00:00.1000000",
        "$.extensions.probe.mode: \"maybe\" is not a valid value; use one of: on, off",
        "$.extensions.probe.flag: expected true or false, found \"yes\"",
        "$.extensions.probe.name: expected a string, found a number",
        "$.extensions.probe.limit: expected -1 (unbounded) or a positive number, found 0",
        "$.extensions.probe.size: expected a positive whole number, found -2",
        "$.extensions.probe.headers.X: expected a string, found a number",
    ];
    assert_eq!(text.len(), expect.len(), "{text:#?}");
    for e in expect {
        assert!(
            text.iter().any(|t| t.starts_with(e)),
            "missing {e:?} in {text:#?}"
        );
    }
}

#[test]
fn the_error_lists_every_problem_with_the_file_name() {
    let err = HostConfig::from_json_str(
        r#"{ "version": "1.0", "extensions": { "probe": { "batchSize": 0 } } }"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("host.json has 2 invalid value(s):"),
        "{err}"
    );
    assert!(err.contains("\n  - $.version: must be \"2.0\""), "{err}");
    assert!(
        err.contains("\n  - $.extensions.probe.batchSize: 0 is out of range"),
        "{err}"
    );
}

#[test]
fn wrong_shapes_and_bad_json_are_errors() {
    assert_eq!(
        invalid(r#"{ "version": "2.0", "extensions": { "probe": [] } }"#),
        ["$.extensions.probe: expected an object, found an array"]
    );
    assert_eq!(
        invalid(r#"{ "version": "2.0", "extensions": 3 }"#),
        ["$.extensions: expected an object, found a number"]
    );
    assert_eq!(invalid("[]"), ["$: expected an object, found an array"]);
    let err = HostConfig::from_json_str("{ \"version\": ").unwrap_err();
    assert!(matches!(err, HostConfigError::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn unknown_and_ignored_keys_are_warnings_with_suggestions() {
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "logging": {}, "extension": {},
             "extensions": { "probe": { "batchSzie": 4, "azureOnly": 1, "zzz": 0 }, "serviceBus": {}, "prob": {} } }"#,
    )
    .unwrap();
    let w = config.warnings.join("\n");
    for expected in [
        "$.extensions.probe.batchSzie: unknown key, ignored; did you mean `batchSize`?",
        "$.extensions.probe.azureOnly: an Azure option this library does not use; ignored",
        "$.extensions.probe.zzz: unknown key, ignored (known keys: batchSize, maxPollingInterval",
        "$.extension: unknown key, ignored; did you mean `extensions`?",
        "$.logging: a Functions host setting this library does not use; ignored",
        "$.extensions.serviceBus: not a binding this library provides; ignored",
        "$.extensions.prob: unknown key, ignored; did you mean `probe`?",
    ] {
        assert!(w.contains(expected), "missing {expected:?} in\n{w}");
    }
    assert_eq!(config.warnings.len(), 7, "{w}");
    assert_eq!(config.extension::<Probe>().count, None);
}

#[test]
fn a_missing_version_is_a_warning() {
    let config = HostConfig::from_json_str("{}").unwrap();
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("$.version: missing")),
        "{:?}",
        config.warnings
    );
}

#[test]
fn files_are_read_from_disk_and_a_missing_optional_file_gives_defaults() {
    let dir = std::env::temp_dir().join(format!("bindings-hostjson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("host.json");
    std::fs::write(
        &file,
        r#"{ "version": "2.0", "extensions": { "probe": { "batchSize": 2 } } }"#,
    )
    .unwrap();
    let config = HostConfig::from_file(&file).unwrap();
    assert_eq!(config.extension::<Probe>().count, Some(2));
    // The app root is the directory holding host.json (relative SSL paths are read from there).
    assert_eq!(config.app_root(), dir);
    assert_eq!(HostConfig::from_json_str("{}").unwrap().directory, None);
    let missing = dir.join("nope.json");
    let defaults = HostConfig::from_file_or_default(&missing).unwrap();
    assert_eq!(defaults.extension::<Probe>(), Probe::default());
    assert!(defaults.warnings.is_empty() && defaults.directory.is_none());
    let err = HostConfig::from_file(&missing).unwrap_err().to_string();
    assert!(
        err.contains("cannot read") && err.contains("nope.json"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
