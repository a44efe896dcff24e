//! A Confluent-compatible schema registry: the output's Avro schema is registered under
//! `<topic>-value` on first use, and the id it gets goes into every record's wire format.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;

/// Where to register schemas, and how to authenticate.
pub(crate) struct Registry {
    url: String,
    username: Option<String>,
    password: Option<String>,
    client: reqwest::Client,
    /// Schema ids by subject.
    ids: Mutex<HashMap<String, u32>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("url", &self.url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Registered {
    id: u32,
}

impl Registry {
    pub(crate) fn new(url: &str, username: Option<String>, password: Option<String>) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            username,
            password,
            client: reqwest::Client::new(),
            ids: Mutex::default(),
        }
    }

    /// The id of `schema` under `subject`, registering it the first time (registering an existing
    /// schema returns its id).
    pub(crate) async fn id(&self, subject: &str, schema: &str) -> Result<u32, String> {
        if let Some(id) = self
            .ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(subject)
        {
            return Ok(*id);
        }
        let url = format!("{}/subjects/{subject}/versions", self.url);
        let mut request = self
            .client
            .post(&url)
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .body(serde_json::json!({ "schema": schema }).to_string());
        if let Some(user) = &self.username {
            request = request.basic_auth(user, self.password.as_deref());
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("schema registry {}: {e}", self.url))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("schema registry {}: {e}", self.url))?;
        if !status.is_success() {
            let detail: String = body.chars().take(200).collect();
            return Err(format!(
                "schema registry {} refused subject `{subject}`: {status}: {detail}",
                self.url
            ));
        }
        let registered: Registered = serde_json::from_str(&body).map_err(|e| {
            format!(
                "schema registry {}: unexpected answer for subject `{subject}`: {e}",
                self.url
            )
        })?;
        self.ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(subject.to_owned(), registered.id);
        Ok(registered.id)
    }
}
