//! What an option's value must be when it names no app setting (the literal checks given to
//! `Settings::resolve_or_literal`), and the PEM and path handling of the TLS options.

use std::path::Path;

/// librdkafka's value for "find the system's CA certificates" (`ssl.ca.location`, `https.ca.location`).
const PROBE: &str = "probe";

/// `host:port[,host:port…]`; each item may carry a `scheme://` (`SASL_SSL://host:9093`) and the host
/// may be an IPv6 address in brackets.
pub(crate) fn broker_list(text: &str) -> Result<(), String> {
    let valid = text.split(',').all(|item| {
        let item = item.trim();
        let item = item.split_once("://").map_or(item, |(_, rest)| rest);
        let Some((host, port)) = item.rsplit_once(':') else {
            return false;
        };
        let host_ok = match host.strip_prefix('[') {
            Some(ipv6) => ipv6.strip_suffix(']').is_some_and(|a| {
                !a.is_empty() && a.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
            }),
            None => {
                !host.is_empty()
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            }
        };
        host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    if valid {
        Ok(())
    } else {
        Err("a host:port[,host:port…] list".to_owned())
    }
}

/// A Kafka topic name: 1 to 249 of `a-z A-Z 0-9 . _ -`, not `.` or `..` (Kafka's rule).
pub(crate) fn topic_name(text: &str) -> Result<(), String> {
    let valid = !text.is_empty()
        && text.len() <= 249
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "\"{text}\" is not a valid Kafka topic name: use 1 to 249 letters, digits, `.`, `_` and `-`"
        ))
    }
}

/// A file (or, for a CA, a directory, or `probe`) that exists, relative paths read from `root`.
pub(crate) fn existing_path(root: &Path, text: &str, ca: bool) -> Result<(), String> {
    if ca && text == PROBE {
        return Ok(());
    }
    let path = root.join(text);
    let found = if ca { path.exists() } else { path.is_file() };
    if found {
        Ok(())
    } else if ca {
        Err(format!(
            "the path of an existing file or directory (nothing at {}; relative paths are read from the \
             app root), or \"probe\"",
            path.display()
        ))
    } else {
        Err(format!(
            "the path of an existing file (nothing at {}; relative paths are read from the app root)",
            path.display()
        ))
    }
}

/// `path` as librdkafka should get it: relative paths are read from the app root, as the Functions
/// host does (librdkafka itself would read them from the process's current directory).
pub(crate) fn from_app_root(root: &Path, path: &str, ca: bool) -> String {
    if ca && path == PROBE {
        return path.to_owned();
    }
    root.join(path).to_string_lossy().into_owned()
}

/// PEM text: at least one `-----BEGIN …-----` block.
pub(crate) fn pem(text: &str) -> Result<(), String> {
    if blocks(text).next().is_some() {
        Ok(())
    } else {
        Err("PEM text (-----BEGIN CERTIFICATE----- …)".to_owned())
    }
}

/// An `http://` or `https://` URL.
pub(crate) fn http_url(text: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    if rest.is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace)) {
        Ok(())
    } else {
        Err("an http:// or https:// URL".to_owned())
    }
}

/// A JSON document (an Avro schema written inline).
pub(crate) fn json(text: &str) -> Result<(), String> {
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        Ok(())
    } else {
        Err("JSON (an Avro schema)".to_owned())
    }
}

/// The PEM blocks of `text`, each from its `-----BEGIN <label>-----` line through its `-----END`
/// line, with the label.
fn blocks(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + "-----BEGIN ".len()..];
        let label = &after[..after.find("-----")?];
        let end_marker = format!("-----END {label}-----");
        let end = start + rest[start..].find(&end_marker)? + end_marker.len();
        let block = (label, &rest[start..end]);
        rest = &rest[end..];
        Some(block)
    })
}

/// `ssl_certificate_and_key_pem` split as the extension does: every certificate (the chain, in
/// order) and the one private key. Errors name what is missing, never the content.
pub(crate) fn certificate_and_key(text: &str) -> Result<(String, String), &'static str> {
    let mut certificates = Vec::new();
    let mut keys = Vec::new();
    for (label, block) in blocks(text) {
        if label.ends_with("PRIVATE KEY") {
            keys.push(block);
        } else if label == "CERTIFICATE" {
            certificates.push(block);
        }
    }
    match (certificates.is_empty(), keys.len()) {
        (false, 1) => Ok((certificates.join("\n"), keys[0].to_owned())),
        (true, _) => Err("holds no -----BEGIN CERTIFICATE----- block"),
        (false, 0) => Err("holds no -----BEGIN … PRIVATE KEY----- block"),
        (false, _) => Err("holds more than one private key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_lists_are_host_port_items() {
        for ok in [
            "localhost:9092",
            "a:9092, b.example.com:9093",
            "SASL_SSL://kafka-1:9093",
            "[::1]:9092",
            "127.0.0.1:1",
        ] {
            assert_eq!(broker_list(ok), Ok(()), "{ok}");
        }
        for bad in [
            "BrokerLsit",
            "host",
            "host:",
            ":9092",
            "host:port",
            "host:0",
            "host:70000",
            "a:9092,",
            "two words:9092",
            "[]:9092",
        ] {
            assert!(broker_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_read_from_the_app_root() {
        let root = std::env::temp_dir().join(format!("bindings-literals-{}", std::process::id()));
        std::fs::create_dir_all(root.join("certs")).unwrap();
        std::fs::write(root.join("certs/ca.pem"), "x").unwrap();
        assert_eq!(existing_path(&root, "certs/ca.pem", false), Ok(()));
        assert_eq!(existing_path(&root, "certs", true), Ok(()));
        assert_eq!(existing_path(&root, "probe", true), Ok(()));
        let err = existing_path(&root, "certs", false).unwrap_err();
        assert!(err.contains("an existing file"), "{err}");
        let err = existing_path(&root, "CaFiel", true).unwrap_err();
        assert!(
            err.contains(&root.join("CaFiel").display().to_string()),
            "{err}"
        );
        assert!(existing_path(&root, "probe", false).is_err());
        assert_eq!(
            from_app_root(&root, "certs/ca.pem", false),
            root.join("certs/ca.pem").display().to_string()
        );
        assert_eq!(from_app_root(&root, "/etc/ca.pem", false), "/etc/ca.pem");
        assert_eq!(from_app_root(&root, "probe", true), "probe");
        std::fs::remove_dir_all(&root).unwrap();
    }

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const CHAIN_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----";
    const KEY: &str =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----";

    #[test]
    fn a_certificate_and_key_pem_splits_into_the_chain_and_the_key() {
        let both = format!("{KEY}\n{CERT}\nignored text\n{CHAIN_CA}\n");
        let (certificates, key) = certificate_and_key(&both).unwrap();
        assert_eq!(certificates, format!("{CERT}\n{CHAIN_CA}"));
        assert_eq!(key, KEY);
        assert_eq!(
            certificate_and_key(CERT),
            Err("holds no -----BEGIN … PRIVATE KEY----- block")
        );
        assert_eq!(
            certificate_and_key(KEY),
            Err("holds no -----BEGIN CERTIFICATE----- block")
        );
        assert!(certificate_and_key(&format!("{CERT}{KEY}{KEY}")).is_err());
        assert!(certificate_and_key("-----BEGIN CERTIFICATE-----\nunterminated").is_err());
    }

    #[test]
    fn other_literals() {
        assert_eq!(pem(CERT), Ok(()));
        assert!(pem("CaPem").is_err());
        assert_eq!(http_url("https://login.example/token"), Ok(()));
        assert_eq!(http_url("http://127.0.0.1:8081"), Ok(()));
        assert!(http_url("RegistryUrl").is_err());
        assert!(http_url("https://").is_err());
        assert_eq!(json(r#"{"type":"string"}"#), Ok(()));
        assert_eq!(json(r#""string""#), Ok(()));
        assert!(json("OrderSchema").is_err());
    }
}
