//! What a queue-triggered function receives: the message, its metadata, and the binding data it
//! offers other bindings.

use std::sync::Arc;

use bindings_core::{BindingData, Bytes, FunctionError, Payload};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A queue message with everything the service says about it. Bind it as a parameter to get the
/// body and the metadata together.
#[derive(Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// The decoded body.
    pub body: Bytes,
    /// The metadata.
    pub metadata: QueueMetadata,
}

impl std::fmt::Debug for QueueMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueMessage")
            .field("body_len", &self.body.len())
            .field("metadata", &self.metadata)
            .finish()
    }
}

impl QueueMessage {
    /// The body as UTF-8 text, if it is.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// A queue message's metadata. Bind it as a parameter of type `QueueMetadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMetadata {
    /// The queue it came from.
    pub queue: Arc<str>,
    /// The message id.
    pub id: String,
    /// How many times it has been received, this time included.
    pub dequeue_count: u32,
    /// When it was added.
    pub insertion_time: OffsetDateTime,
    /// When it expires.
    pub expiration_time: OffsetDateTime,
    /// When it becomes visible again if not completed (receipt time + the receive visibility).
    pub next_visible_time: OffsetDateTime,
    /// The pop receipt it was received with.
    pub pop_receipt: String,
}

/// The queue trigger's event: one received, decoded message, or (for a function that takes
/// `Vec<QueueMessage>`) every message of a poll.
#[derive(Debug, Clone)]
pub struct QueueEvent {
    pub(crate) messages: Vec<QueueMessage>,
    batch: bool,
}

impl QueueEvent {
    /// One message.
    pub fn single(message: QueueMessage) -> Self {
        Self {
            messages: vec![message],
            batch: false,
        }
    }

    /// A batch.
    pub fn batch(messages: Vec<QueueMessage>) -> Self {
        Self {
            messages,
            batch: true,
        }
    }

    /// The message of a single-message event.
    pub fn message(&self) -> Result<&QueueMessage, FunctionError> {
        match self.messages.as_slice() {
            [message] if !self.batch => Ok(message),
            _ => Err(FunctionError::retry(
                "this function receives a batch; bind `Vec<QueueMessage>` and read each message from it",
            )),
        }
    }
}

impl Payload for QueueEvent {
    fn payload(&self) -> Result<&Bytes, FunctionError> {
        self.message().map(|m| &m.body)
    }
}

/// The binding data of a message: `QueueTrigger` (the text, if UTF-8), `DequeueCount`, `ExpirationTime`,
/// `Id`, `InsertionTime`, `NextVisibleTime`, `PopReceipt`; with `json_payload` (the function binds
/// `Json<T>`, Azure's POCO case) also the top-level properties of a JSON object body, which win on a
/// name clash, so `{id}` is an order's own id. Otherwise `{id}` is the message id, as in Azure.
pub(crate) fn binding_data(message: &QueueMessage, json_payload: bool) -> BindingData {
    let m = &message.metadata;
    let mut data = BindingData::new();
    if let Some(text) = message.text() {
        data.insert("QueueTrigger", text);
    }
    data.insert("DequeueCount", m.dequeue_count);
    data.insert("ExpirationTime", rfc3339(m.expiration_time));
    data.insert("Id", m.id.clone());
    data.insert("InsertionTime", rfc3339(m.insertion_time));
    data.insert("NextVisibleTime", rfc3339(m.next_visible_time));
    data.insert("PopReceipt", m.pop_receipt.clone());
    if json_payload
        && message.body.first() == Some(&b'{')
        && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&message.body)
    {
        data.extend_from_json(&json);
    }
    data
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(body: &[u8]) -> QueueMessage {
        QueueMessage {
            body: Bytes::copy_from_slice(body),
            metadata: QueueMetadata {
                queue: "orders".into(),
                id: "m-1".into(),
                dequeue_count: 2,
                insertion_time: OffsetDateTime::UNIX_EPOCH,
                expiration_time: OffsetDateTime::UNIX_EPOCH,
                next_visible_time: OffsetDateTime::UNIX_EPOCH,
                pop_receipt: "r-1".into(),
            },
        }
    }

    #[test]
    fn offers_the_message_metadata_under_azure_s_names() {
        let data = binding_data(&message(b"hello"), false);
        assert_eq!(data.get("queuetrigger"), Some(&json!("hello")));
        assert_eq!(data.get("DequeueCount"), Some(&json!(2)));
        assert_eq!(data.get("id"), Some(&json!("m-1")));
        assert_eq!(data.get("PopReceipt"), Some(&json!("r-1")));
        assert_eq!(
            data.get("InsertionTime"),
            Some(&json!("1970-01-01T00:00:00Z"))
        );
        assert!(data.get("ExpirationTime").is_some() && data.get("NextVisibleTime").is_some());
    }

    #[test]
    fn json_properties_join_and_win_for_a_json_payload_only() {
        let body = br#"{"id":"o-7","region":"eu"}"#;
        let data = binding_data(&message(body), true);
        assert_eq!(data.get("id"), Some(&json!("o-7")));
        assert_eq!(data.get("region"), Some(&json!("eu")));
        let data = binding_data(&message(body), false);
        assert_eq!(data.get("id"), Some(&json!("m-1")), "the message id");
        assert_eq!(data.get("region"), None);
        assert_eq!(
            data.get("QueueTrigger"),
            Some(&json!(r#"{"id":"o-7","region":"eu"}"#))
        );
    }

    #[test]
    fn binary_bodies_have_no_text() {
        let data = binding_data(&message(&[0xff, 0x00]), true);
        assert_eq!(data.get("QueueTrigger"), None);
        assert_eq!(data.get("id"), Some(&json!("m-1")));
    }
}
