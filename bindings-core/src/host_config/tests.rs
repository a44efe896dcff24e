use super::*;

fn invalid(json: &str) -> Vec<ConfigProblem> {
    match HostConfig::from_json_str(json) {
        Err(HostConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected invalid values, got {other:?}"),
    }
}

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let config = HostConfig::from_json_str(r#"{ "version": "2.0" }"#).unwrap();
    assert_eq!(config, HostConfig::default());
    let q = &config.queues;
    assert_eq!(q.batch_size, 16);
    assert_eq!(q.effective_new_batch_threshold(), 8);
    assert_eq!(
        q.effective_max_polling_interval(false),
        Duration::from_secs(60)
    );
    assert_eq!(
        q.effective_max_polling_interval(true),
        Duration::from_secs(2)
    );
    assert_eq!(q.visibility_timeout, Duration::ZERO);
    assert_eq!(q.max_dequeue_count, 5);
    assert_eq!(q.message_encoding, MessageEncoding::Base64);
    assert_eq!(q.receive_visibility_timeout, Duration::from_secs(600));
    assert_eq!(config.http.route_prefix, "api");
    assert_eq!(config.kafka, KafkaOptions::default());
}

#[test]
fn reads_every_queues_option() {
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": { "queues": {
            "maxPollingInterval": "00:00:02", "visibilityTimeout": "00:00:30", "batchSize": 32,
            "maxDequeueCount": 3, "newBatchThreshold": 0, "messageEncoding": "none",
            "receiveVisibilityTimeout": "00:01:00" } } }"#,
    )
    .unwrap();
    let q = config.queues;
    assert_eq!(q.max_polling_interval, Some(Duration::from_secs(2)));
    assert_eq!(
        q.effective_max_polling_interval(false),
        Duration::from_secs(2)
    );
    assert_eq!(q.visibility_timeout, Duration::from_secs(30));
    assert_eq!(q.batch_size, 32);
    assert_eq!(q.max_dequeue_count, 3);
    assert_eq!(q.effective_new_batch_threshold(), 0);
    assert_eq!(q.message_encoding, MessageEncoding::None);
    assert_eq!(q.receive_visibility_timeout, Duration::from_secs(60));
}

#[test]
fn keys_are_case_insensitive() {
    let config = HostConfig::from_json_str(
        r#"{ "Version": "2.0", "Extensions": { "Queues": { "BATCHSIZE": 4 } } }"#,
    )
    .unwrap();
    assert_eq!(config.queues.batch_size, 4);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn reads_kafka_and_http_sections() {
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "extensions": {
            "kafka": { "maxMessageBytes": 2000, "enableIdempotence": true, "compression": "Zstd", "acks": "all",
                       "protocol": "SASLSSL", "authenticationMode": "ScramSha512", "lingerMs": 10,
                       "password": "%KafkaPassword%", "partitioner": "murmur2_random" },
            "http": { "routePrefix": "/v1/", "maxConcurrentRequests": -1, "maxOutstandingRequests": 200,
                      "maxRequestBodySize": 1024, "customHeaders": { "X-Frame-Options": "DENY" } } } }"#,
    )
    .unwrap();
    let k = &config.kafka;
    assert_eq!(k.max_message_bytes, Some(2000));
    assert_eq!(k.enable_idempotence, Some(true));
    assert_eq!(k.compression, Some(Compression::Zstd));
    assert_eq!(k.acks, Some(Acks::All));
    assert_eq!(k.protocol, Some(Protocol::SaslSsl));
    assert_eq!(k.authentication_mode, Some(AuthenticationMode::ScramSha512));
    assert_eq!(k.linger_ms, Some(10));
    assert_eq!(k.password.as_deref(), Some("%KafkaPassword%"));
    assert_eq!(k.partitioner, Some(Partitioner::Murmur2Random));
    assert_eq!(k.batch_size, None);
    let h = &config.http;
    assert_eq!(h.route_prefix, "v1");
    assert_eq!(h.max_concurrent_requests, None);
    assert_eq!(h.max_outstanding_requests, Some(200));
    assert_eq!(h.max_request_body_size, 1024);
    assert_eq!(h.custom_headers["X-Frame-Options"], "DENY");
}

#[test]
fn gssapi_and_oauthbearer_in_host_json_are_refused_with_the_reason() {
    for (mode, reason) in [("Gssapi", "Cyrus SASL"), ("OAuthBearer", "libcurl")] {
        let problems = invalid(&format!(
            r#"{{ "version": "2.0", "extensions": {{ "kafka": {{ "authenticationMode": "{mode}" }} }} }}"#
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "$.extensions.kafka.authenticationMode");
        assert!(problems[0].message.contains(reason), "{problems:?}");
    }
}

#[test]
fn every_invalid_value_is_reported_at_once_with_its_path() {
    let problems = invalid(
        r#"{ "version": "2.0", "extensions": {
            "queues": { "batchSize": 64, "maxPollingInterval": "00:00:00.050", "visibilityTimeout": 30,
                        "maxDequeueCount": 0, "messageEncoding": "utf8", "receiveVisibilityTimeout": "10 minutes" },
            "kafka": { "protocol": "tls", "maxMessageBytes": 10, "enableIdempotence": "yes" },
            "http": { "maxConcurrentRequests": 0, "customHeaders": { "X": 1 } } } }"#,
    );
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let expect = [
        "$.extensions.queues.batchSize: 64 is out of range; must be 1 to 32",
        "$.extensions.queues.maxPollingInterval: \"00:00:00.050\" is too short; must be at least 00:00:00.1000000",
        "$.extensions.queues.visibilityTimeout: expected a TimeSpan string",
        "$.extensions.queues.maxDequeueCount: 0 is out of range; must be 1 to",
        "$.extensions.queues.messageEncoding: \"utf8\" is not a valid value; use one of: base64, none",
        "$.extensions.queues.receiveVisibilityTimeout: `10 minutes` is not a TimeSpan",
        "$.extensions.kafka.maxMessageBytes: 10 is out of range; must be 1000 to 1000000000",
        "$.extensions.kafka.enableIdempotence: expected true or false",
        "$.extensions.kafka.protocol: \"tls\" is not a valid value; use one of: plaintext, ssl, sasl_plaintext, sasl_ssl",
        "$.extensions.http.maxConcurrentRequests: expected -1 (unbounded) or a positive number, found 0",
        "$.extensions.http.customHeaders.X: header values must be strings",
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
        r#"{ "version": "1.0", "extensions": { "queues": { "batchSize": 0 } } }"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("host.json has 2 invalid value(s):"),
        "{err}"
    );
    assert!(err.contains("\n  - $.version: must be \"2.0\""), "{err}");
    assert!(
        err.contains("\n  - $.extensions.queues.batchSize: 0 is out of range"),
        "{err}"
    );
}

#[test]
fn wrong_shapes_and_bad_json_are_errors() {
    let problems = invalid(r#"{ "version": "2.0", "extensions": { "queues": [] } }"#);
    assert_eq!(
        problems[0].to_string(),
        "$.extensions.queues: expected an object, found an array"
    );
    assert_eq!(
        invalid("[]")[0].to_string(),
        "$: expected an object, found an array"
    );
    let err = HostConfig::from_json_str("{ \"version\": ").unwrap_err();
    assert!(matches!(err, HostConfigError::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn unknown_keys_are_warnings_with_suggestions() {
    let config = HostConfig::from_json_str(
        r#"{ "version": "2.0", "logging": {}, "extension": {},
             "extensions": { "queues": { "batchSzie": 4 }, "serviceBus": {}, "kafka": { "maxBatchSize": 4 } } }"#,
    )
    .unwrap();
    let w = config.warnings.join("\n");
    assert!(
        w.contains(
            "$.extensions.queues.batchSzie: unknown key, ignored; did you mean `batchSize`?"
        ),
        "{w}"
    );
    assert!(
        w.contains("$.extension: unknown key, ignored; did you mean `extensions`?"),
        "{w}"
    );
    assert!(
        w.contains("$.logging: a Functions host setting this library does not use; ignored"),
        "{w}"
    );
    assert!(
        w.contains("$.extensions.serviceBus: not a binding this library provides; ignored"),
        "{w}"
    );
    assert!(
        w.contains("$.extensions.kafka.maxBatchSize: a Kafka trigger option"),
        "{w}"
    );
    assert_eq!(config.queues.batch_size, 16);
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
        r#"{ "version": "2.0", "extensions": { "queues": { "batchSize": 2 } } }"#,
    )
    .unwrap();
    let config = HostConfig::from_file(&file).unwrap();
    assert_eq!(config.queues.batch_size, 2);
    // The app root is the directory holding host.json (relative SSL paths are read from there).
    assert_eq!(config.app_root(), dir);
    assert_eq!(HostConfig::from_json_str("{}").unwrap().directory, None);
    let missing = dir.join("nope.json");
    assert_eq!(
        HostConfig::from_file_or_default(&missing).unwrap(),
        HostConfig::default()
    );
    let err = HostConfig::from_file(&missing).unwrap_err().to_string();
    assert!(
        err.contains("cannot read") && err.contains("nope.json"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
