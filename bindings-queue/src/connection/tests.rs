//! The connection parsers' tests: strings, sections, and that no secret is ever shown.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::string::{DEV_ACCOUNT, DEV_ACCOUNT_KEY};
use super::*;

const KEY: &str = DEV_ACCOUNT_KEY;
const SIG: &str =
    "sv=2022-11-02&ss=q&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&sig=SeCrEtSiGnAtUrE%3D";

fn parse(text: &str) -> Result<StorageAccount, ConnectionError> {
    StorageAccount::from_connection_string(text)
}

fn err(text: &str) -> ConnectionError {
    let error = parse(text).expect_err("should be an error");
    let message = error.to_string();
    for secret in [KEY, "SeCrEtSiGnAtUrE", "Eby8vdM02", "hunter2"] {
        assert!(!message.contains(secret), "secret in {message}");
        assert!(
            !format!("{error:?}").contains(secret),
            "secret in {error:?}"
        );
    }
    error
}

fn section(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect()
}

fn no_secret_in_debug(account: &StorageAccount) {
    let debug = format!("{account:?}");
    for secret in [KEY, "SeCrEtSiGnAtUrE", "hunter2"] {
        assert!(!debug.contains(secret), "secret in {debug}");
    }
    assert!(
        debug.contains("***")
            || matches!(
                account.credential,
                Credential::Anonymous | Credential::Token(_)
            )
    );
}

#[test]
fn account_key_gives_shared_key_and_default_endpoint() {
    let account = parse(&format!(
        "DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={KEY};EndpointSuffix=core.windows.net"
    ))
    .unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "https://myacct.queue.core.windows.net/"
    );
    assert_eq!(account.account_name.as_deref(), Some("myacct"));
    let Credential::SharedKey { account: name, key } = &account.credential else {
        panic!("expected shared key, got {:?}", account.credential);
    };
    assert_eq!(name, "myacct");
    assert_eq!(key.len(), 64);
    no_secret_in_debug(&account);
    assert!(format!("{:?}", account.credential).contains("key: ***"));
}

#[test]
fn keys_are_case_insensitive_and_spaces_trimmed() {
    let account = parse(&format!(
        " defaultendpointsprotocol = http ; ACCOUNTNAME=acct ; accountkey={KEY} ; endpointSUFFIX=core.chinacloudapi.cn ;"
    ))
    .unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "http://acct.queue.core.chinacloudapi.cn/"
    );
}

#[test]
fn protocol_defaults_to_https() {
    let account = parse(&format!("AccountName=acct;AccountKey={KEY}")).unwrap();
    assert_eq!(account.queue_endpoint.scheme(), "https");
}

#[test]
fn queue_endpoint_wins_and_loses_its_trailing_slash() {
    let account = parse(&format!(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};\
         QueueEndpoint=http://127.0.0.1:12345/devstoreaccount1/;\
         QueueSecondaryEndpoint=http://127.0.0.1:12345/devstoreaccount1-secondary;\
         BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://x;FileEndpoint=http://y"
    ))
    .unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "http://127.0.0.1:12345/devstoreaccount1"
    );
    assert_eq!(
        account.queue_url("orders").as_str(),
        "http://127.0.0.1:12345/devstoreaccount1/orders"
    );
}

#[test]
fn queue_url_on_a_host_endpoint() {
    let account = parse(&format!("AccountName=acct;AccountKey={KEY}")).unwrap();
    assert_eq!(
        account.queue_url("orders").as_str(),
        "https://acct.queue.core.windows.net/orders"
    );
}

#[test]
fn sas_wins_over_account_key() {
    let account = parse(&format!(
        "AccountName=acct;AccountKey={KEY};SharedAccessSignature=?{SIG}"
    ))
    .unwrap();
    let Credential::Sas(token) = &account.credential else {
        panic!("expected SAS, got {:?}", account.credential);
    };
    assert_eq!(token, SIG);
    no_secret_in_debug(&account);
    assert_eq!(format!("{:?}", account.credential), "Sas(***)");
}

#[test]
fn sas_alone_with_an_endpoint() {
    let account = parse(&format!(
        "QueueEndpoint=https://acct.queue.core.windows.net;SharedAccessSignature={SIG}"
    ))
    .unwrap();
    assert!(matches!(account.credential, Credential::Sas(_)));
    assert_eq!(account.account_name, None);
}

#[test]
fn neither_key_nor_sas_is_anonymous() {
    let account = parse("QueueEndpoint=https://acct.queue.core.windows.net").unwrap();
    assert!(matches!(account.credential, Credential::Anonymous));
}

#[test]
fn development_storage() {
    for text in ["UseDevelopmentStorage=true", "usedevelopmentstorage=TRUE;"] {
        let account = parse(text).unwrap();
        assert_eq!(
            account.queue_endpoint.as_str(),
            "http://127.0.0.1:10001/devstoreaccount1"
        );
        assert_eq!(account.account_name.as_deref(), Some(DEV_ACCOUNT));
        let Credential::SharedKey { account: name, key } = &account.credential else {
            panic!("expected shared key");
        };
        assert_eq!(name, DEV_ACCOUNT);
        assert_eq!(
            *key,
            base64::engine::general_purpose::STANDARD
                .decode(KEY)
                .unwrap()
        );
        no_secret_in_debug(&account);
    }
}

#[test]
fn development_storage_proxy() {
    let account =
        parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://myproxy").unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "http://myproxy:10001/devstoreaccount1"
    );
}

#[test]
fn development_storage_conflicts() {
    assert_eq!(
        err("UseDevelopmentStorage=true;AccountName=x"),
        ConnectionError::DevelopmentStorageConflict { key: "AccountName" }
    );
    assert_eq!(
        err("UseDevelopmentStorage=maybe"),
        ConnectionError::InvalidValue {
            key: "UseDevelopmentStorage",
            expected: "`true` or `false`"
        }
    );
    assert!(matches!(
        err("DevelopmentStorageProxyUri=http://p;AccountName=a"),
        ConnectionError::InvalidValue {
            key: "DevelopmentStorageProxyUri",
            ..
        }
    ));
    // `false` is as if absent.
    assert!(
        parse(&format!(
            "UseDevelopmentStorage=false;AccountName=a;AccountKey={KEY}"
        ))
        .is_ok()
    );
}

#[test]
fn malformed_account_key_is_named_without_its_value() {
    let error = err("AccountName=acct;AccountKey=hunter2!!notbase64");
    assert_eq!(error, ConnectionError::InvalidAccountKey);
    assert!(error.to_string().contains("`AccountKey`"));
}

#[test]
fn account_key_without_account_name() {
    let error = err(&format!(
        "QueueEndpoint=https://acct.queue.core.windows.net;AccountKey={KEY}"
    ));
    assert_eq!(error, ConnectionError::MissingAccountName);
    assert!(error.to_string().contains("AccountName"));
}

#[test]
fn no_endpoint() {
    assert_eq!(
        err(&format!("AccountKey={KEY}")),
        ConnectionError::MissingEndpoint
    );
    assert_eq!(
        err(&format!("SharedAccessSignature={SIG}")),
        ConnectionError::MissingEndpoint
    );
}

#[test]
fn unknown_keys_are_named_with_the_valid_ones() {
    let error = err("AccountName=a;Acountkey=hunter2");
    assert_eq!(
        error,
        ConnectionError::UnknownKey {
            key: Some("Acountkey".to_owned())
        }
    );
    let message = error.to_string();
    assert!(message.contains("`Acountkey`"), "{message}");
    assert!(
        message.contains("AccountKey, SharedAccessSignature"),
        "{message}"
    );
}

#[test]
fn an_unknown_key_that_may_be_a_secret_is_not_shown() {
    // A key pasted without its name: the text before its first `=` is not a key name.
    let error = err(&format!("AccountName=a;{KEY}"));
    assert_eq!(error, ConnectionError::UnknownKey { key: None });
}

#[test]
fn parts_without_equals() {
    assert_eq!(
        err("AccountName=a;hunter2"),
        ConnectionError::MalformedPart { position: 2 }
    );
    assert_eq!(
        err("=hunter2"),
        ConnectionError::MalformedPart { position: 1 }
    );
}

#[test]
fn empty_and_duplicate() {
    assert_eq!(err(""), ConnectionError::Empty);
    assert_eq!(err(" ; ;"), ConnectionError::Empty);
    assert_eq!(
        err("AccountName=a;AccountKey="),
        ConnectionError::EmptyValue { key: "AccountKey" }
    );
    assert_eq!(
        err("AccountName=a;accountname=b"),
        ConnectionError::DuplicateKey { key: "AccountName" }
    );
    assert_eq!(
        err("AccountName=a;SharedAccessSignature=?"),
        ConnectionError::EmptyValue {
            key: "SharedAccessSignature"
        }
    );
}

#[test]
fn bad_values() {
    assert!(matches!(
        err("DefaultEndpointsProtocol=ftp;AccountName=a"),
        ConnectionError::InvalidValue {
            key: "DefaultEndpointsProtocol",
            ..
        }
    ));
    assert!(matches!(
        err("AccountName=a;EndpointSuffix=https://core.windows.net"),
        ConnectionError::InvalidValue {
            key: "EndpointSuffix",
            ..
        }
    ));
    assert!(matches!(
        err("AccountName=a b"),
        ConnectionError::InvalidValue {
            key: "AccountName",
            ..
        }
    ));
}

#[test]
fn urls_that_do_not_parse_or_fit() {
    for (text, reason) in [
        ("QueueEndpoint=not a url", "relative URL"),
        ("QueueEndpoint=ftp://host/x", "scheme"),
        ("QueueEndpoint=https://host/x?sig=hunter2", "query"),
        (
            "QueueEndpoint=https://user:hunter2@host/x",
            "user information",
        ),
    ] {
        let error = err(text);
        let ConnectionError::InvalidUrl { key, reason: why } = &error else {
            panic!("{text}: {error:?}");
        };
        assert_eq!(*key, "QueueEndpoint");
        assert!(why.contains(reason), "{text}: {why}");
    }
}

#[test]
fn from_connection_dispatches() {
    let account =
        StorageAccount::from_connection(&Connection::String("UseDevelopmentStorage=true".into()))
            .unwrap();
    assert_eq!(account.account_name.as_deref(), Some(DEV_ACCOUNT));
    let account =
        StorageAccount::from_connection(&Connection::Section(section(&[("accountName", "acct")])))
            .unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "https://acct.queue.core.windows.net/"
    );
}

fn token_kind(account: &StorageAccount) -> String {
    let Credential::Token(credential) = &account.credential else {
        panic!("expected a token credential, got {:?}", account.credential);
    };
    format!("{credential:?}")
}

#[test]
fn section_endpoint_precedence() {
    let account = StorageAccount::from_section(&section(&[
        ("queueServiceUri", "https://one.queue.core.windows.net/"),
        ("serviceUri", "https://two.queue.core.windows.net"),
        ("accountName", "three"),
    ]))
    .unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "https://one.queue.core.windows.net/"
    );
    assert_eq!(account.account_name.as_deref(), Some("three"));

    let account = StorageAccount::from_section(&section(&[(
        "serviceUri",
        "https://two.queue.core.windows.net",
    )]))
    .unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "https://two.queue.core.windows.net/"
    );
    assert_eq!(account.account_name.as_deref(), Some("two"));

    let account = StorageAccount::from_section(&section(&[("accountName", "three")])).unwrap();
    assert_eq!(
        account.queue_endpoint.as_str(),
        "https://three.queue.core.windows.net/"
    );
}

#[test]
fn section_without_endpoint_names_the_keys_tried() {
    let error =
        StorageAccount::from_section(&section(&[("credential", "managedidentity")])).unwrap_err();
    assert_eq!(error, ConnectionError::MissingServiceUri);
    let message = error.to_string();
    for key in ["queueServiceUri", "serviceUri", "accountName"] {
        assert!(message.contains(key), "{message}");
    }
}

#[test]
fn section_needs_https() {
    let error = StorageAccount::from_section(&section(&[(
        "queueServiceUri",
        "http://127.0.0.1:10001/devstoreaccount1",
    )]))
    .unwrap_err();
    assert_eq!(
        error,
        ConnectionError::HttpsRequired {
            key: "queueServiceUri"
        }
    );
    let error = StorageAccount::from_section(&section(&[("serviceUri", "nope")])).unwrap_err();
    assert!(matches!(
        error,
        ConnectionError::InvalidUrl {
            key: "serviceUri",
            ..
        }
    ));
}

#[test]
fn section_managed_identity() {
    let account = StorageAccount::from_section(&section(&[
        ("accountName", "acct"),
        ("credential", "ManagedIdentity"),
    ]))
    .unwrap();
    assert!(token_kind(&account).contains("ManagedIdentityCredential"));

    let account = StorageAccount::from_section(&section(&[
        ("accountName", "acct"),
        ("credential", "managedidentity"),
        ("clientId", "00000000-0000-0000-0000-000000000001"),
    ]))
    .unwrap();
    assert!(token_kind(&account).contains("ManagedIdentityCredential"));
}

#[test]
fn section_client_secret() {
    let account = StorageAccount::from_section(&section(&[
        ("accountName", "acct"),
        ("tenantId", "00000000-0000-0000-0000-000000000002"),
        ("clientId", "00000000-0000-0000-0000-000000000001"),
        ("clientSecret", "hunter2"),
    ]))
    .unwrap();
    let kind = token_kind(&account);
    assert!(kind.contains("ClientSecretCredential"), "{kind}");
    no_secret_in_debug(&account);
}

#[test]
fn section_incomplete_client_secret() {
    let error = StorageAccount::from_section(&section(&[
        ("accountName", "acct"),
        ("tenantId", "t"),
        ("clientSecret", "hunter2"),
    ]))
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("`clientId`"), "{message}");
    assert!(!message.contains("hunter2"));

    let error =
        StorageAccount::from_section(&section(&[("accountName", "acct"), ("clientId", "c")]))
            .unwrap_err();
    assert!(matches!(
        error,
        ConnectionError::IncompleteClientSecret { .. }
    ));
}

#[test]
fn section_default_is_developer_tools_or_hosted_managed_identity() {
    let keys = section(&[
        ("queueServiceUri", "https://acct.queue.core.windows.net"),
        ("blobServiceUri", "https://acct.blob.core.windows.net"),
    ]);
    let local = StorageAccount::from_section_in(&keys, false).unwrap();
    assert!(token_kind(&local).contains("DeveloperToolsCredential"));
    let hosted = StorageAccount::from_section_in(&keys, true).unwrap();
    assert!(token_kind(&hosted).contains("ManagedIdentityCredential"));
}

#[test]
fn section_unknown_credential() {
    let error = StorageAccount::from_section(&section(&[
        ("accountName", "acct"),
        ("credential", "certificate"),
    ]))
    .unwrap_err();
    assert_eq!(
        error,
        ConnectionError::UnknownCredential {
            value: "certificate".to_owned()
        }
    );
    assert!(error.to_string().contains("managedidentity"));
}
