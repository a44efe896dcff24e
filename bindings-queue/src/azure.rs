//! [`QueueService`] over Azure Queue storage (or Azurite), with the official SDK's `QueueClient`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::error::ErrorKind;
use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::policies::Policy;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions};
use azure_storage_queue::models::{
    QueueClientGetPropertiesResultHeaders as _, QueueClientPeekMessagesOptions,
    QueueClientReceiveMessagesOptions, QueueClientSendMessageOptions, QueueMessage,
};
use azure_storage_queue::{QueueClient, QueueClientOptions};

use crate::connection::{Credential, StorageAccount};
use crate::sas;
use crate::service::{
    MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY, QueueService, Receipt, ReceivedMessage, SendOptions,
    ServiceError, ServiceErrorKind, TimeToLive,
};
use crate::shared_key::SharedKeyPolicy;

/// The new pop receipt in an Update Message answer.
const POP_RECEIPT: HeaderName = HeaderName::from_static("x-ms-popreceipt");
/// When the updated message becomes visible, in an Update Message answer.
const TIME_NEXT_VISIBLE: HeaderName = HeaderName::from_static("x-ms-time-next-visible");
/// The service's error code.
const ERROR_CODE: HeaderName = HeaderName::from_static("x-ms-error-code");

/// Retries inside one call (5xx, throttling, connection failures): few and short, since the
/// listener backs off on its own.
const RETRIES: u32 = 3;
/// The longest one call spends retrying.
const RETRY_BUDGET: Duration = Duration::from_secs(20);

/// Azure Queue storage (or the Azurite emulator) as a [`QueueService`].
///
/// One SDK `QueueClient` per queue name, created on first use and kept. Requests are
/// authorized as the [`StorageAccount`]'s [`Credential`] says: Shared Key signing (re-signed on
/// every retry), a SAS appended to every URL, or an Entra ID token.
///
/// ```
/// use bindings_queue::{AzureQueueService, QueueService, StorageAccount};
///
/// let account = StorageAccount::from_connection_string("UseDevelopmentStorage=true").unwrap();
/// let service = AzureQueueService::new(account);
/// assert_eq!(
///     service.describe(),
///     "account devstoreaccount1 at http://127.0.0.1:10001/devstoreaccount1"
/// );
/// ```
pub struct AzureQueueService {
    account: StorageAccount,
    options: QueueClientOptions,
    clients: Mutex<HashMap<String, Arc<QueueClient>>>,
}

impl fmt::Debug for AzureQueueService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureQueueService")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl AzureQueueService {
    /// A service for `account`. Nothing is contacted until the first operation.
    pub fn new(account: StorageAccount) -> Self {
        let mut per_try_policies: Vec<Arc<dyn Policy>> = Vec::new();
        if let Credential::SharedKey { account, key } = &account.credential {
            per_try_policies.push(Arc::new(SharedKeyPolicy::new(account.clone(), key.clone())));
        }
        let retry = RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: RETRIES,
            max_total_elapsed: azure_core::time::Duration::try_from(RETRY_BUDGET)
                .unwrap_or(azure_core::time::Duration::seconds(20)),
            ..ExponentialRetryOptions::default()
        });
        let options = QueueClientOptions {
            client_options: ClientOptions {
                per_try_policies,
                retry,
                ..ClientOptions::default()
            },
            ..QueueClientOptions::default()
        };
        Self {
            account,
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The account this service talks to.
    pub fn account(&self) -> &StorageAccount {
        &self.account
    }

    /// The SDK client for `queue`, made on first use.
    fn client(&self, op: &str, queue: &str) -> Result<Arc<QueueClient>, ServiceError> {
        check_queue_name(op, queue)?;
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(queue) {
            return Ok(Arc::clone(client));
        }
        let mut url = self.account.queue_url(queue);
        let token = match &self.account.credential {
            Credential::Sas(token) => {
                sas::append(&mut url, token);
                None
            }
            Credential::Token(credential) => Some(Arc::clone(credential)),
            Credential::SharedKey { .. } | Credential::Anonymous => None,
        };
        let client = QueueClient::new(url, token, Some(self.options.clone()))
            .map(Arc::new)
            .map_err(|err| {
                ServiceError::new(
                    ServiceErrorKind::Other,
                    format!(
                        "{op} on queue `{queue}`: cannot set up the client for {}: {}",
                        self.describe(),
                        redact(&err.to_string())
                    ),
                )
            })?;
        clients.insert(queue.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    /// A [`ServiceError`] for a failed SDK call.
    fn error(&self, op: &str, queue: &str, err: &azure_core::Error) -> ServiceError {
        let context = format!("{op} on queue `{queue}` ({})", self.describe());
        match err.kind() {
            ErrorKind::HttpResponse {
                status,
                error_code,
                raw_response,
            } => {
                let status = u16::from(*status);
                let body = raw_response
                    .as_ref()
                    .map(|raw| String::from_utf8_lossy(raw.body()).into_owned())
                    .unwrap_or_default();
                let code = raw_response
                    .as_ref()
                    .and_then(|raw| header(raw.headers(), &ERROR_CODE))
                    .or_else(|| xml_element(&body, "Code"))
                    .or_else(|| {
                        error_code
                            .clone()
                            .filter(|code| code.bytes().all(|b| b.is_ascii_alphanumeric()))
                    });
                let detail = xml_element(&body, "Message")
                    .and_then(|message| message.lines().next().map(str::to_owned))
                    .map(|line| format!(": {}", redact(line.trim())))
                    .unwrap_or_default();
                let message = format!(
                    "{context}: HTTP {status} {}{detail}",
                    code.as_deref().unwrap_or("(no error code)")
                );
                ServiceError::from_status(status, code, message)
            }
            ErrorKind::Connection | ErrorKind::Io => ServiceError::new(
                ServiceErrorKind::Transport,
                format!("{context}: cannot reach the service: {}", chain(err)),
            ),
            ErrorKind::Credential => ServiceError::new(
                ServiceErrorKind::Unauthorized,
                format!("{context}: cannot get a token: {}", chain(err)),
            ),
            _ => ServiceError::new(
                ServiceErrorKind::Other,
                format!("{context}: {}", chain(err)),
            ),
        }
    }
}

#[async_trait::async_trait]
impl QueueService for AzureQueueService {
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, ServiceError> {
        const OP: &str = "receive";
        if !(1..=MAX_MESSAGES_PER_RECEIVE).contains(&max) {
            return Err(invalid(
                OP,
                queue,
                &format!(
                    "asks for {max} messages; one receive takes 1 to {MAX_MESSAGES_PER_RECEIVE}"
                ),
            ));
        }
        let seconds = visibility_seconds(OP, queue, visibility)?.max(1);
        let client = self.client(OP, queue)?;
        let options = QueueClientReceiveMessagesOptions {
            number_of_messages: Some(i32::try_from(max).unwrap_or(32)),
            visibility_timeout: Some(seconds),
            ..Default::default()
        };
        let response = client
            .receive_messages(Some(options))
            .await
            .map_err(|err| self.error(OP, queue, &err))?;
        let list = response
            .into_model()
            .map_err(|err| self.error(OP, queue, &err))?;
        list.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let missing = |field: &str| {
                    ServiceError::new(
                        ServiceErrorKind::Other,
                        format!(
                            "{OP} on queue `{queue}` ({}): the service's answer has a message without `{field}`",
                            self.describe()
                        ),
                    )
                };
                let dequeue_count = item.dequeue_count.ok_or_else(|| missing("DequeueCount"))?;
                Ok(ReceivedMessage {
                    id: item.message_id.ok_or_else(|| missing("MessageId"))?,
                    pop_receipt: item.pop_receipt.ok_or_else(|| missing("PopReceipt"))?,
                    dequeue_count: u32::try_from(dequeue_count)
                        .map_err(|_| missing("DequeueCount (in range)"))?,
                    insertion_time: item.insertion_time.ok_or_else(|| missing("InsertionTime"))?,
                    expiration_time: item
                        .expiration_time
                        .ok_or_else(|| missing("ExpirationTime"))?,
                    next_visible_time: item
                        .time_next_visible
                        .ok_or_else(|| missing("TimeNextVisible"))?,
                    text: item.message_text.unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn update_visibility(
        &self,
        queue: &str,
        id: &str,
        pop_receipt: &str,
        visibility: Duration,
    ) -> Result<Receipt, ServiceError> {
        const OP: &str = "update visibility";
        let seconds = visibility_seconds(OP, queue, visibility)?;
        let client = self.client(OP, queue)?;
        let response = client
            .update_message(id, pop_receipt, seconds, None)
            .await
            .map_err(|err| self.error(OP, queue, &err))?;
        let missing = |what: &str| {
            ServiceError::new(
                ServiceErrorKind::Other,
                format!(
                    "{OP} on queue `{queue}` ({}): the service's answer has no valid `{what}` header",
                    self.describe()
                ),
            )
        };
        let headers = response.headers();
        let pop_receipt =
            header(headers, &POP_RECEIPT).ok_or_else(|| missing("x-ms-popreceipt"))?;
        let next_visible_time = header(headers, &TIME_NEXT_VISIBLE)
            .and_then(|text| azure_core::time::parse_rfc7231(&text).ok())
            .ok_or_else(|| missing("x-ms-time-next-visible"))?;
        Ok(Receipt {
            pop_receipt,
            next_visible_time,
        })
    }

    async fn delete(&self, queue: &str, id: &str, pop_receipt: &str) -> Result<(), ServiceError> {
        const OP: &str = "delete message";
        let client = self.client(OP, queue)?;
        client
            .delete_message(id, pop_receipt, None)
            .await
            .map_err(|err| self.error(OP, queue, &err))?;
        Ok(())
    }

    async fn send_with(
        &self,
        queue: &str,
        text: &str,
        options: SendOptions,
    ) -> Result<(), ServiceError> {
        const OP: &str = "send";
        options.check(queue, text)?;
        let client = self.client(OP, queue)?;
        let message = QueueMessage {
            message_text: Some(text.to_owned()),
        };
        let content = message
            .try_into()
            .map_err(|err| self.error(OP, queue, &err))?;
        let send_options = if options == SendOptions::default() {
            None
        } else {
            Some(QueueClientSendMessageOptions {
                visibility_timeout: Some(visibility_seconds(OP, queue, options.visibility_delay)?),
                message_time_to_live: Some(match options.time_to_live {
                    TimeToLive::After(ttl) => whole_seconds(ttl),
                    TimeToLive::Never => -1,
                }),
                ..Default::default()
            })
        };
        client
            .send_message(content, send_options)
            .await
            .map_err(|err| self.error(OP, queue, &err))?;
        Ok(())
    }

    async fn create_queue(&self, queue: &str) -> Result<(), ServiceError> {
        const OP: &str = "create queue";
        let client = self.client(OP, queue)?;
        match client.create(None).await {
            Ok(_) => Ok(()),
            Err(err) => {
                let error = self.error(OP, queue, &err);
                // 409: it exists with other metadata; it exists all the same.
                if error.code.as_deref() == Some("QueueAlreadyExists") {
                    Ok(())
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn approximate_count(&self, queue: &str) -> Result<u64, ServiceError> {
        const OP: &str = "count messages";
        let client = self.client(OP, queue)?;
        let response = client
            .get_properties(None)
            .await
            .map_err(|err| self.error(OP, queue, &err))?;
        let count = response
            .approximate_messages_count()
            .map_err(|err| self.error(OP, queue, &err))?;
        count
            .and_then(|count| u64::try_from(count).ok())
            .ok_or_else(|| {
                ServiceError::new(
                    ServiceErrorKind::Other,
                    format!(
                        "{OP} on queue `{queue}` ({}): the service's answer has no valid \
                         `x-ms-approximate-messages-count` header",
                        self.describe()
                    ),
                )
            })
    }

    async fn has_visible(&self, queue: &str) -> Result<bool, ServiceError> {
        const OP: &str = "peek";
        let client = self.client(OP, queue)?;
        let options = QueueClientPeekMessagesOptions {
            number_of_messages: Some(1),
            ..Default::default()
        };
        let response = client
            .peek_messages(Some(options))
            .await
            .map_err(|err| self.error(OP, queue, &err))?;
        let list = response
            .into_model()
            .map_err(|err| self.error(OP, queue, &err))?;
        Ok(list.items.is_some_and(|items| !items.is_empty()))
    }

    fn describe(&self) -> String {
        let endpoint = self.account.queue_endpoint.as_str().trim_end_matches('/');
        match &self.account.account_name {
            Some(name) => format!("account {name} at {endpoint}"),
            None => format!("queue service at {endpoint}"),
        }
    }
}

/// An `InvalidRequest` error found before sending anything.
fn invalid(op: &str, queue: &str, what: &str) -> ServiceError {
    ServiceError::new(
        ServiceErrorKind::InvalidRequest,
        format!("{op} on queue `{queue}`: {what}"),
    )
}

/// Checks the queue name before it goes into a URL, so that a name can never reshape the request.
fn check_queue_name(op: &str, queue: &str) -> Result<(), ServiceError> {
    crate::check_queue_name(queue)
        .map_err(|why| invalid(op, queue, &format!("not a valid queue name: it {why}")))
}

/// A visibility timeout in whole seconds (rounded up), at most 7 days.
fn visibility_seconds(op: &str, queue: &str, visibility: Duration) -> Result<i32, ServiceError> {
    if visibility > MAX_VISIBILITY {
        return Err(invalid(
            op,
            queue,
            &format!(
                "a visibility timeout of {visibility:?} is longer than the service's limit of 7 days"
            ),
        ));
    }
    Ok(whole_seconds(visibility))
}

/// A duration in whole seconds, rounded up (the service's unit), at most `i32::MAX`.
fn whole_seconds(duration: Duration) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

/// A header's value as a string, if present.
fn header(headers: &Headers, name: &HeaderName) -> Option<String> {
    headers.get_optional_str(name).map(str::to_owned)
}

/// The text of the first `<name>…</name>` in an XML error body, unescaped.
fn xml_element(body: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(body);
    loop {
        match reader.read_event().ok()? {
            quick_xml::events::Event::Start(start) if start.name().as_ref() == name.as_bytes() => {
                let end = start.to_end().into_owned();
                let text = reader.read_text(end.name()).ok()?;
                let raw = text.decode().ok()?;
                return quick_xml::escape::unescape(&raw)
                    .ok()
                    .map(std::borrow::Cow::into_owned);
            }
            quick_xml::events::Event::Eof => return None,
            _ => {}
        }
    }
}

/// An error and its causes, `: `-joined, with any SAS signature redacted (transport errors name
/// the request URL, which carries the SAS).
fn chain(err: &azure_core::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact(&text)
}

/// `text` with the value of every `sig=` (a SAS signature) replaced by `***`.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.to_ascii_lowercase().find("sig=") {
        let value_start = at + "sig=".len();
        out.push_str(&rest[..value_start]);
        out.push_str("***");
        let value_len = rest[value_start..]
            .find(|c: char| {
                matches!(c, '&' | ')' | '(' | '"' | '\'' | '>' | '<' | ',' | ';')
                    || c.is_whitespace()
            })
            .unwrap_or(rest.len() - value_start);
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_MESSAGE_SIZE;

    #[test]
    fn redacts_signatures() {
        assert_eq!(
            redact("error sending request for url (http://h/q?sv=1&SIG=abc%2B=&se=2)"),
            "error sending request for url (http://h/q?sv=1&SIG=***&se=2)"
        );
        assert_eq!(redact("sig=x sig=y"), "sig=*** sig=***");
        assert_eq!(redact("nothing"), "nothing");
    }

    #[test]
    fn xml_elements() {
        let body = "<?xml version=\"1.0\"?><Error><Code>QueueNotFound</Code><Message>The specified \
                    queue does not exist &amp; never did.\nRequestId:1</Message></Error>";
        assert_eq!(xml_element(body, "Code").as_deref(), Some("QueueNotFound"));
        assert_eq!(
            xml_element(body, "Message").unwrap().lines().next(),
            Some("The specified queue does not exist & never did.")
        );
        assert_eq!(xml_element(body, "Nope"), None);
    }

    #[test]
    fn queue_names() {
        for good in ["abc", "a-b-c", "q12", &"a".repeat(63)] {
            assert!(check_queue_name("x", good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "ABC",
            "a--b",
            "-ab",
            "ab-",
            "a/b",
            "a?b",
            &"a".repeat(64),
        ] {
            let err = check_queue_name("x", bad).unwrap_err();
            assert_eq!(err.kind, ServiceErrorKind::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn visibility_rounds_up_and_is_bounded() {
        assert_eq!(visibility_seconds("x", "q", Duration::ZERO).unwrap(), 0);
        assert_eq!(
            visibility_seconds("x", "q", Duration::from_millis(1500)).unwrap(),
            2
        );
        assert_eq!(
            visibility_seconds("x", "q", MAX_VISIBILITY).unwrap(),
            604_800
        );
        assert!(visibility_seconds("x", "q", MAX_VISIBILITY + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn describe_and_debug_hide_secrets() {
        let account = StorageAccount::from_connection_string(
            "QueueEndpoint=https://acct.queue.core.windows.net/;SharedAccessSignature=sv=1&sig=SeCrEt",
        )
        .unwrap();
        let service = AzureQueueService::new(account);
        assert_eq!(
            service.describe(),
            "queue service at https://acct.queue.core.windows.net"
        );
        assert!(!format!("{service:?}").contains("SeCrEt"));
    }

    #[tokio::test]
    async fn bad_arguments_fail_before_any_request() {
        // The emulator's default address: nothing needs to listen there, these fail before
        // connecting.
        let account = StorageAccount::from_connection_string(
            "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1",
        )
        .unwrap();
        let service = AzureQueueService::new(account);
        let err = service
            .receive("q-1", 33, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::InvalidRequest);
        let err = service
            .receive("q-1", 0, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::InvalidRequest);
        let err = service
            .send("q-1", &"x".repeat(MAX_MESSAGE_SIZE + 1))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::MessageTooLarge);
        let err = service.create_queue("Q").await.unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::InvalidRequest);
    }

    #[tokio::test]
    async fn unreachable_is_transport_and_hides_the_sas() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let account = StorageAccount::from_connection_string(&format!(
            "QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;SharedAccessSignature=sv=1&sig=SeCrEt"
        ))
        .unwrap();
        let service = AzureQueueService::new(account);
        let err = service.has_visible("q-1").await.unwrap_err();
        assert_eq!(err.kind, ServiceErrorKind::Transport, "{err}");
        assert!(!err.to_string().contains("SeCrEt"), "{err}");
        assert!(err.to_string().contains("peek on queue `q-1`"), "{err}");
    }
}
