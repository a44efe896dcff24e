//! A Confluent-compatible schema registry: the output's Avro schema is registered under
//! `<topic>-value` on first use, and the id it gets goes into every record's wire format; the
//! trigger reads the writer schema of each id it meets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use apache_avro::Schema;
use serde::Deserialize;

use crate::Error;

/// How long one request to the registry may take, connecting included (Confluent's clients' default).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to register schemas, and how to authenticate.
pub(crate) struct Registry {
    url: String,
    /// `url` without its user information (which may hold a password), for messages.
    shown: String,
    username: Option<String>,
    password: Option<String>,
    client: reqwest::Client,
    /// Schema ids by subject.
    ids: Mutex<HashMap<String, u32>>,
    /// Schemas by id.
    schemas: Mutex<HashMap<u32, Arc<Schema>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("url", &self.shown)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Registered {
    id: u32,
}

#[derive(Deserialize)]
struct Fetched {
    schema: String,
}

impl Registry {
    /// A client for the registry at `url`; `ca` (PEM) is trusted besides the built-in roots. Fails
    /// with a message naming the option when `ca` holds no certificate.
    pub(crate) fn new(
        url: &str,
        username: Option<String>,
        password: Option<String>,
        ca: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let url = url.trim_end_matches('/');
        let mut client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT);
        if let Some(pem) = ca {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .ok()
                .filter(|certificates| !certificates.is_empty())
                .ok_or(Error::RegistryCa)?;
            for certificate in certificates {
                client = client.add_root_certificate(certificate);
            }
        }
        let client = client.build().map_err(|e| Error::RegistryClient {
            source: e.without_url(),
        })?;
        Ok(Self {
            url: url.to_owned(),
            shown: without_user_info(url),
            username,
            password,
            client,
            ids: Mutex::default(),
            schemas: Mutex::default(),
        })
    }

    /// The id of `schema` under `subject`, registering it the first time (registering an existing
    /// schema returns its id).
    pub(crate) async fn id(&self, subject: &str, schema: &str) -> Result<u32, Error> {
        if let Some(id) = self
            .ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(subject)
        {
            return Ok(*id);
        }
        let request = self
            .client
            .post(format!("{}/subjects/{subject}/versions", self.url))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .body(serde_json::json!({ "schema": schema }).to_string());
        let body = self.answer(request, subject).await?;
        let registered: Registered =
            serde_json::from_str(&body).map_err(|source| Error::RegistryAnswer {
                registry: self.shown.clone(),
                subject: subject.to_owned(),
                source,
            })?;
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(subject.to_owned(), registered.id);
        Ok(registered.id)
    }

    /// The schema registered with `id`, asked of the registry the first time.
    pub(crate) async fn schema(&self, id: u32) -> Result<Arc<Schema>, Error> {
        if let Some(schema) = self.cached(id) {
            return Ok(schema);
        }
        let what = format!("schema id {id}");
        let request = self.client.get(format!("{}/schemas/ids/{id}", self.url));
        let body = self.answer(request, &what).await?;
        let fetched: Fetched =
            serde_json::from_str(&body).map_err(|source| Error::RegistryAnswer {
                registry: self.shown.clone(),
                subject: what.clone(),
                source,
            })?;
        let schema =
            Schema::parse_str(&fetched.schema).map_err(|source| Error::RegistrySchema {
                registry: self.shown.clone(),
                id,
                source,
            })?;
        let schema = Arc::new(schema);
        self.schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&schema));
        Ok(schema)
    }

    /// The schema of `id`, if [`schema`](Self::schema) has read it.
    pub(crate) fn cached(&self, id: u32) -> Option<Arc<Schema>> {
        self.schemas
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// Sends `request` (with the registry's credentials) and returns the body of a successful
    /// answer; `what` names the subject or id asked about, for errors.
    async fn answer(
        &self,
        mut request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<String, Error> {
        if let Some(user) = &self.username {
            request = request.basic_auth(user, self.password.as_deref());
        }
        // reqwest's errors name the URL, user information included: leave it out. Their causes
        // (refused connection, unknown certificate issuer) follow the message.
        let unreachable = |e: reqwest::Error| {
            let (registry, source) = (self.shown.clone(), e.without_url());
            if source.is_timeout() {
                Error::RegistryTimeout {
                    registry,
                    timeout: REQUEST_TIMEOUT,
                    source,
                }
            } else {
                Error::RegistryUnreachable { registry, source }
            }
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            let detail: String = body.chars().take(200).collect();
            return Err(Error::RegistryRefused {
                registry: self.shown.clone(),
                subject: what.to_owned(),
                status,
                detail,
            });
        }
        Ok(body)
    }
}

/// `url` with its user information (`user:password@`) shown as `***@`.
fn without_user_info(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Both only fail for URLs that cannot have user information, which this one has.
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("***");
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_the_url_without_user_information() {
        assert_eq!(
            without_user_info("https://user:pa55@registry:8081/base"),
            "https://***@registry:8081/base"
        );
        assert_eq!(
            without_user_info("http://registry:8081"),
            "http://registry:8081"
        );
        assert_eq!(without_user_info("registry:8081"), "registry:8081");
        assert_eq!(
            without_user_info("https://:pa55@registry/"),
            "https://***@registry/"
        );
        let registry =
            Registry::new("http://u:pa55@r:1/", None, Some("pa55".into()), None).unwrap();
        assert!(!format!("{registry:?}").contains("pa55"));
    }

    #[test]
    fn a_ca_without_a_certificate_is_refused() {
        let err = Registry::new("https://r:1", None, None, Some(b"not pem"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`https_ca_location`/`https_ca_pem`"), "{err}");
    }

    /// A registry that accepts the connection and never answers: the request ends at the bound, and
    /// the error names it (the clock is paused, so the test does not wait 30 s).
    #[tokio::test(start_paused = true)]
    async fn a_registry_that_never_answers_fails_at_the_request_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let mut connections = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                connections.push(socket); // keep it open, say nothing
            }
        });
        let registry = Registry::new(&url, None, None, None).unwrap();
        let started = tokio::time::Instant::now();
        let err = tokio::time::timeout(REQUEST_TIMEOUT * 2, registry.id("t-value", "\"string\""))
            .await
            .expect("the registry request is bounded")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no answer within 30 s (the registry request timeout)"),
            "{err}"
        );
        assert!(
            started.elapsed() >= REQUEST_TIMEOUT,
            "{:?}",
            started.elapsed()
        );
        held.abort();
    }
}
