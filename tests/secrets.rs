//! No secret ever shows: every error path that holds one (broken connection strings, refused
//! storage credentials, a wrong SASL password, a wrong TLS key password, wrong HTTP keys, build
//! errors) and every `Debug` output of what holds one, with known secret values, checked against
//! every log line (all levels, all crates), error message and `Debug` output.
//!
//! That TLS verification is on by default (an unknown CA fails clearly) is tested in
//! `kafka_output.rs` (`on_tansu_mutual_tls_with_an_encrypted_key_works_and_an_unknown_ca_fails_clearly`).

use std::time::Duration;

use bindings::HostHandle;
use bindings::Protocol;
use bindings::kafka::{KafkaOutputAttribute, ProducerOptions, client_config};
use bindings::prelude::*;
use bindings::queue::StorageAccount;
use tracing_subscriber::filter::LevelFilter;

mod support;

/// A storage account key (base64, as Azure gives them).
const ACCOUNT_KEY: &str =
    "U2VjcmV0QWNjb3VudEtleTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg==";
/// A shared access signature's signature (URL-encoded base64).
const SAS_SIGNATURE: &str = "S3cr3tSASs1gnatureXYZ%2Bq%2Fw%3D";
/// A SASL username (Confluent Cloud's is its API key).
const SASL_USERNAME: &str = "sasl-User-2b7c4e";
/// A SASL password.
const SASL_PASSWORD: &str = "sasl-Pa55word-7f3e1d";
/// A TLS client key's password.
const KEY_PASSWORD: &str = "key-Pa55word-91c2ab";
/// A schema registry password.
const REGISTRY_PASSWORD: &str = "registry-Pa55word-55aa0f";
/// An Entra ID client secret.
const CLIENT_SECRET: &str = "client-S3cret-0d9e8f";
/// An HTTP function key.
const FUNCTION_KEY: &str = "fn-key-0a1b2c3d4e";
/// An HTTP host key.
const HOST_KEY: &str = "host-key-4e5f6a7b8c";
/// The HTTP master key.
const MASTER_KEY: &str = "master-key-8c9d0e1f2a";
/// A key someone presents that is not one of the keys.
const WRONG_KEY: &str = "wrong-key-3b4c5d6e7f";

/// A SAS token whose signature is [`SAS_SIGNATURE`].
fn sas_token() -> String {
    format!(
        "sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2099-01-01T00:00:00Z&st=2020-01-01T00:00:00Z\
         &spr=https,http&sig={SAS_SIGNATURE}"
    )
}

/// Every secret value, with what it is (for the failure message).
fn secrets() -> Vec<(&'static str, String)> {
    vec![
        ("account key", ACCOUNT_KEY.to_owned()),
        // The key without its padding, as a parser splitting at `=` would see it.
        ("account key", ACCOUNT_KEY.trim_end_matches('=').to_owned()),
        ("SAS signature", SAS_SIGNATURE.to_owned()),
        ("SAS token", sas_token()),
        ("SASL username", SASL_USERNAME.to_owned()),
        ("SASL password", SASL_PASSWORD.to_owned()),
        ("key password", KEY_PASSWORD.to_owned()),
        ("schema registry password", REGISTRY_PASSWORD.to_owned()),
        ("client secret", CLIENT_SECRET.to_owned()),
        ("function key", FUNCTION_KEY.to_owned()),
        ("host key", HOST_KEY.to_owned()),
        ("master key", MASTER_KEY.to_owned()),
        ("presented wrong key", WRONG_KEY.to_owned()),
    ]
}

/// Fails if `text` (what `what` printed) holds any secret.
#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for (kind, secret) in secrets() {
        assert!(
            !text.contains(&secret),
            "{what} shows the {kind} `{secret}`:\n{text}"
        );
    }
}

/// Fails if anything logged so far (every level) holds a secret.
#[track_caller]
fn assert_no_secret_logged() {
    assert_no_secret("the log", &support::log_text());
}

/// Starts capturing every level of every crate's log (the first call in this binary).
fn capture_logs() {
    support::logs_up_to(LevelFilter::TRACE);
}

/// Settings holding every secret, the way an app's settings would.
fn secret_settings() -> Settings {
    Settings::new()
        .with(
            "AzureWebJobsStorage",
            format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={ACCOUNT_KEY}"),
        )
        .with(
            "SasStorage",
            format!(
                "QueueEndpoint=https://acct.queue.core.windows.net;SharedAccessSignature={}",
                sas_token()
            ),
        )
        .with(
            "Identity__queueServiceUri",
            "https://acct.queue.core.windows.net",
        )
        .with("Identity__tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47")
        .with("Identity__clientId", "00000000-0000-0000-0000-000000000001")
        .with("Identity__clientSecret", CLIENT_SECRET)
        .with("KafkaUser", SASL_USERNAME)
        .with("KafkaPassword", SASL_PASSWORD)
        .with("KeyPassword", KEY_PASSWORD)
        .with("RegistryPassword", REGISTRY_PASSWORD)
        .with("HttpFunctionKeys__keyed", FUNCTION_KEY)
        .with("HttpHostKeys", HOST_KEY)
        .with("HttpMasterKey", MASTER_KEY)
}

#[test]
fn debug_of_settings_connections_accounts_and_producer_options_hides_every_secret() {
    let settings = secret_settings();
    assert_no_secret("Settings' Debug", &format!("{settings:?}"));
    for name in ["Storage", "SasStorage", "Identity"] {
        let connection = settings.connection("connection", name).unwrap();
        assert_no_secret("Connection's Debug", &format!("{connection:?}"));
        let account = StorageAccount::from_connection(&connection)
            .unwrap_or_else(|err| panic!("connection {name}: {err}"));
        assert_no_secret("StorageAccount's Debug", &format!("{account:?}"));
        assert_no_secret("Credential's Debug", &format!("{:?}", account.credential));
    }

    let mut options = ProducerOptions::new("127.0.0.1:9092");
    options.protocol = Protocol::SaslSsl;
    options.username = Some(SASL_USERNAME.to_owned());
    options.password = Some(SASL_PASSWORD.to_owned());
    options.ssl_key_password = Some(KEY_PASSWORD.to_owned());
    options.ssl_key_pem = Some(format!(
        "-----BEGIN PRIVATE KEY-----\n{CLIENT_SECRET}\n-----END PRIVATE KEY-----"
    ));
    let options_debug = format!("{options:?}");
    assert!(options_debug.contains("127.0.0.1:9092"), "{options_debug}");
    assert_no_secret("ProducerOptions' Debug", &options_debug);

    // host.json's extensions.kafka: the credentials as written there are not shown either.
    let host = HostConfig::from_json_str(&format!(
        r#"{{ "version": "2.0", "extensions": {{ "kafka": {{
              "username": "{SASL_USERNAME}", "password": "{SASL_PASSWORD}", "sslKeyPassword": "{KEY_PASSWORD}" }} }} }}"#
    ))
    .unwrap();
    assert_no_secret(
        "KafkaOptions' Debug",
        &format!("{:?}", host.extension::<bindings::KafkaOptions>()),
    );
    assert_no_secret("HostConfig's Debug", &format!("{host:?}"));

    // The attribute: its credential options (setting names, or whatever someone wrote) are not shown.
    let attribute = KafkaOutputAttribute::new("orders", "BrokerList")
        .username(SASL_USERNAME)
        .password(SASL_PASSWORD)
        .ssl_key_password(KEY_PASSWORD)
        .ssl_key_pem(CLIENT_SECRET)
        .ssl_certificate_and_key_pem(CLIENT_SECRET)
        .schema_registry_password(REGISTRY_PASSWORD);
    let attribute_debug = format!("{attribute:?}");
    assert!(
        attribute_debug.contains("\"orders\"") && attribute_debug.contains("\"password\""),
        "it says which credentials are set: {attribute_debug}"
    );
    assert_no_secret("KafkaOutputAttribute's Debug", &attribute_debug);
    // rdkafka's own `Debug` of a `ClientConfig` hides the passwords only: it shows `sasl.username`
    // and `ssl.key.pem`. This library never formats one; its passwords are checked here.
    let config = client_config(&options);
    assert_eq!(config.get("sasl.password"), Some(SASL_PASSWORD));
    let config_debug = format!("{config:?}");
    for secret in [SASL_PASSWORD, KEY_PASSWORD] {
        assert!(!config_debug.contains(secret), "{config_debug}");
    }
}

#[test]
fn broken_connection_strings_never_echo_the_key_or_the_signature() {
    let sas = sas_token();
    let cases = [
        format!("AccountKey={ACCOUNT_KEY}"),
        format!("AccountName=acct;AccountKey={ACCOUNT_KEY};Bogus=1"),
        format!("AccountName=acct;AccountKey={ACCOUNT_KEY}!"),
        format!("AccountName=acct;AccountKey={ACCOUNT_KEY};accountkey={ACCOUNT_KEY}"),
        format!("UseDevelopmentStorage=true;AccountKey={ACCOUNT_KEY}"),
        format!("DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey={ACCOUNT_KEY}"),
        format!("AccountName=acct;{ACCOUNT_KEY}"),
        format!("AccountName=a c;AccountKey={ACCOUNT_KEY}"),
        format!("QueueEndpoint=https://acct.queue.core.windows.net?{sas}"),
        format!("QueueEndpoint=https://u:{SAS_SIGNATURE}@acct.queue.core.windows.net"),
        format!(
            "QueueEndpoint=https://acct.queue.core.windows.net;SharedAccessSignature={sas};\
             SharedAccessSignature={sas}"
        ),
        format!("AccountName=acct;SharedAccessSignature={sas};Extra"),
        format!("QueueEndpoint=not a url;SharedAccessSignature={sas}"),
        sas.clone(),
    ];
    for text in &cases {
        let err = StorageAccount::from_connection_string(text)
            .expect_err("a broken connection string is refused");
        let shown = format!("{err}\n{err:?}");
        assert!(
            shown.contains("connection string") || shown.contains('`'),
            "the error says what is wrong: {shown}"
        );
        assert_no_secret("a connection string error", &shown);
    }
}

#[queue_trigger("%Queue%", max_polling_interval = "00:00:01")]
async fn guarded(body: String) -> Result<(), FunctionError> {
    Err(FunctionError::retry(format!("never runs: {}", body.len())))
}

#[tokio::test]
async fn a_build_error_lists_its_problems_without_the_secrets_beside_them() {
    capture_logs();
    let sas = sas_token();
    for storage in [
        format!("AccountName=acct;AccountKey={ACCOUNT_KEY};Bogus=1"),
        format!("QueueEndpoint=https://acct.queue.core.windows.net?{sas}"),
    ] {
        let err = Host::builder()
            .settings(secret_settings().with("AzureWebJobsStorage", storage))
            .function::<guarded>()
            .function::<secured>()
            .build()
            .await
            .expect_err("a broken connection string and a missing setting fail the build");
        let shown = format!("{err}\n{err:?}");
        assert!(shown.contains("function `guarded`"), "{shown}");
        assert!(
            shown.contains("`queue_name` refers to app setting `Queue`, which is not set"),
            "{shown}"
        );
        assert!(shown.contains("function `secured`"), "{shown}");
        assert_no_secret("a build error", &shown);
    }
    assert_no_secret_logged();
}

/// A host running `guarded` on a fresh queue of Azurite's account, with `storage` as its
/// connection; returns the error the stopped trigger reports.
async fn refused_by_azurite(storage: String) -> String {
    let queue = support::unique("secret");
    let handle = Host::builder()
        .settings(
            Settings::new()
                .with("Queue", queue)
                .with("AzureWebJobsStorage", storage),
        )
        .function::<guarded>()
        .build()
        .await
        .expect("the settings are well-formed")
        .start();
    tokio::time::timeout(Duration::from_secs(30), handle.failed())
        .await
        .expect("the trigger reports the refused credentials");
    let err = handle
        .shutdown(Duration::from_secs(10))
        .await
        .expect_err("the trigger stopped");
    format!("{err}\n{err:?}")
}

#[tokio::test]
async fn on_azurite_a_refused_account_key_or_signature_leaks_nothing() {
    let Some(connection) = support::require("BINDINGS_AZURITE_CONNECTION_STRING") else {
        return;
    };
    let Some(endpoint) = support::require("BINDINGS_AZURITE_QUEUE_ENDPOINT") else {
        return;
    };
    capture_logs();
    let err = refused_by_azurite(support::with_account_key(&connection, ACCOUNT_KEY)).await;
    assert!(err.contains("refused the credentials"), "{err}");
    assert_no_secret("a refused account key's error", &err);

    let wrong_sas = format!(
        "QueueEndpoint={endpoint};SharedAccessSignature={}",
        sas_token()
    );
    let err = refused_by_azurite(wrong_sas).await;
    assert!(err.contains("refused the credentials"), "{err}");
    assert_no_secret("a refused signature's error", &err);
    let log = support::log_text();
    assert!(
        log.lines()
            .any(|line| line.contains(" DEBUG ") || line.contains(" TRACE ")),
        "the capture holds the debug levels too"
    );
    assert_no_secret_logged();
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "SaslPlaintext",
    authentication_mode = "ScramSha512",
    username = "%KafkaUser%",
    password = "%KafkaPassword%",
    message_timeout_ms = 3000
)]
async fn secured(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    protocol = "Ssl",
    ssl_ca_location = "%CaFile%",
    ssl_certificate_location = "%CertFile%",
    ssl_key_location = "%KeyFile%",
    ssl_key_password = "%KeyPassword%",
    message_timeout_ms = 3000
)]
async fn key_protected(text: String) -> String {
    text
}

/// Calls `function` once on a started host and returns the failure (build or call), shown;
/// checks the `Debug` of the builder, the host and its handle on the way.
async fn failure_of(builder: bindings::HostBuilder, function: &str) -> String {
    assert_no_secret("the host builder's Debug", &format!("{builder:?}"));
    let handle: HostHandle = match builder.build().await {
        Ok(host) => {
            assert_no_secret("the built host's Debug", &format!("{host:?}"));
            host.start()
        }
        Err(err) => return format!("{err}\n{err:?}"),
    };
    assert_no_secret("the host's Debug", &format!("{handle:?}"));
    let result = handle.call(function, "secret-test").await;
    let _ = handle.shutdown(Duration::from_secs(10)).await;
    match result {
        Ok(()) => panic!("{function} succeeded with a wrong secret"),
        Err(err) => format!("{err}\n{err:?}"),
    }
}

#[tokio::test]
async fn on_tansu_a_wrong_sasl_password_leaks_nothing() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_SCRAM_BROKERS") else {
        return;
    };
    let Some(user) = support::require("BINDINGS_KAFKA_SCRAM512_USER") else {
        return;
    };
    capture_logs();
    let builder = Host::builder()
        .settings(
            secret_settings()
                .with("Brokers", brokers)
                .with("Topic", support::unique("t"))
                .with("KafkaUser", user),
        )
        .function::<secured>();
    let err = failure_of(builder, "secured").await;
    assert!(err.contains("were not delivered"), "{err}");
    assert_no_secret("a refused SASL password's error", &err);
    let log = support::log_text();
    assert!(
        log.contains("SASL SCRAM authentication failed"),
        "the log names the cause"
    );
    assert_no_secret_logged();
}

#[tokio::test]
async fn on_tansu_a_wrong_tls_key_password_leaks_nothing() {
    let Some(brokers) = support::require("BINDINGS_KAFKA_TLS_BROKERS") else {
        return;
    };
    let (Some(ca), Some(cert), Some(key)) = (
        support::require("BINDINGS_KAFKA_TLS_CA"),
        support::require("BINDINGS_KAFKA_TLS_CLIENT_CERT"),
        support::require("BINDINGS_KAFKA_TLS_CLIENT_KEY"),
    ) else {
        return;
    };
    capture_logs();
    let builder = Host::builder()
        .settings(
            secret_settings()
                .with("Brokers", brokers)
                .with("Topic", support::unique("t"))
                .with("CaFile", ca)
                .with("CertFile", cert)
                .with("KeyFile", key),
        )
        .function::<key_protected>();
    let err = failure_of(builder, "key_protected").await;
    assert!(
        err.contains("function `key_protected`") && err.contains("check `ssl_key_location`"),
        "the error names the function and what to check: {err}"
    );
    assert_no_secret("a wrong key password's error", &err);
    assert_no_secret_logged();
}

#[derive(serde::Serialize)]
struct Order {
    id: String,
}

#[manual_trigger]
#[kafka_output(
    topic = "%Topic%",
    broker_list = "Brokers",
    avro_schema = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}"#,
    schema_registry_url = "%RegistryUrl%",
    schema_registry_username = "registry-user",
    schema_registry_password = "%RegistryPassword%"
)]
async fn registered(id: String) -> Avro<Order> {
    Avro(Order { id })
}

#[tokio::test]
async fn an_unreachable_schema_registry_leaks_nothing() {
    capture_logs();
    let topic = support::unique("t");
    let cluster = rdkafka::mocking::MockCluster::new(1).expect("a mock cluster");
    cluster.create_topic(&topic, 1, 1).expect("a topic");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    // The password given as the username's, and in the URL's user information, too.
    for url in [
        format!("http://{closed}"),
        format!("http://registry-user:{REGISTRY_PASSWORD}@{closed}"),
    ] {
        let builder = Host::builder()
            .settings(
                secret_settings()
                    .with("Brokers", cluster.bootstrap_servers())
                    .with("Topic", topic.clone())
                    .with("RegistryUrl", url),
            )
            .function::<registered>();
        let err = failure_of(builder, "registered").await;
        assert!(
            err.contains("schema registry") && err.contains("check `schema_registry_url`"),
            "the error names the registry and what to check: {err}"
        );
        assert_no_secret("an unreachable registry's error", &err);
    }
    assert_no_secret_logged();
}

#[http_trigger(methods = ["get"], auth_level = "function")]
async fn keyed() -> &'static str {
    "opened"
}

#[tokio::test]
async fn http_keys_right_or_wrong_never_show_in_responses_or_logs() {
    capture_logs();
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let handle = Host::builder()
        .settings(secret_settings().with("HttpListenAddress", address.clone()))
        .function::<keyed>()
        .build()
        .await
        .expect("the host builds")
        .start();
    let client = reqwest::Client::new();
    let url = format!("http://{address}/api/keyed");
    let get = |query: Option<&str>, header: Option<&str>| {
        let mut request = client.get(&url);
        if let Some(code) = query {
            request = request.query(&[("code", code)]);
        }
        if let Some(key) = header {
            request = request.header("x-functions-key", key);
        }
        request.send()
    };
    // The listener may take a moment to bind: wait for its first answer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let first = loop {
        match get(Some(WRONG_KEY), None).await {
            Ok(response) => break response,
            Err(err) => {
                assert!(tokio::time::Instant::now() < deadline, "{url}: {err}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    assert_eq!(first.status(), 401);
    assert_no_secret("a 401 response", &first.text().await.unwrap());
    let response = get(None, Some(WRONG_KEY)).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_no_secret("a 401 response", &response.text().await.unwrap());
    for key in [FUNCTION_KEY, HOST_KEY, MASTER_KEY] {
        for (query, header) in [(Some(key), None), (None, Some(key))] {
            let response = get(query, header).await.unwrap();
            assert_eq!(response.status(), 200, "{key} opens the function");
            assert_eq!(response.text().await.unwrap(), "opened");
        }
    }
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    assert_no_secret_logged();
}
