//! `AzureQueueService` against Azurite: every `QueueService` operation, the error kinds the
//! listener relies on (`QueueNotFound`, `PopReceiptMismatch`, `MessageNotFound`,
//! `Unauthorized`), Shared Key and SAS authorization.
//!
//! Needs Azurite: `cargo xtask services up` (or `cargo xtask test`).

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bindings::queue::{
    AzureQueueService, Credential, MAX_MESSAGES_PER_RECEIVE, QueueService, ServiceErrorKind,
    StorageAccount,
};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use time::OffsetDateTime;
use time::macros::format_description;

/// Azurite's account and its well-known key.
const ACCOUNT: &str = "devstoreaccount1";
const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// A valid base64 key that is not the account's.
const WRONG_KEY: &str = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk=";

const VISIBILITY: Duration = Duration::from_secs(30);

/// The Azurite connection string from `cargo xtask services up`, or `None` (skip).
fn connection() -> Option<String> {
    support::require("BINDINGS_AZURITE_CONNECTION_STRING")
}

/// The queue endpoint of `connection` (`http://127.0.0.1:<port>/devstoreaccount1`).
fn endpoint(connection: &str) -> String {
    connection
        .split(';')
        .find_map(|part| part.strip_prefix("QueueEndpoint="))
        .expect("the test connection string names its QueueEndpoint")
        .trim_end_matches('/')
        .to_owned()
}

fn service(connection: &str) -> AzureQueueService {
    let account = StorageAccount::from_connection_string(connection).expect("connection string");
    assert!(matches!(account.credential, Credential::SharedKey { .. }));
    AzureQueueService::new(account)
}

/// A fresh queue on a Shared Key service.
async fn fresh_queue(connection: &str) -> (AzureQueueService, String) {
    let service = service(connection);
    let queue = support::unique("az");
    service.create_queue(&queue).await.expect("create queue");
    (service, queue)
}

/// An account SAS (queue service; service, container and object resource types; all
/// permissions), signed locally with the well-known key. String to sign for `sv` 2020-12-06 and
/// later: `account\nsp\nss\nsrt\nst\nse\nsip\nspr\nsv\nses\n`.
fn account_sas(key: &str) -> String {
    let expiry = (OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("format the expiry");
    let (permissions, services, resource_types, version) = ("rwdlacup", "q", "sco", "2021-12-02");
    let to_sign = format!(
        "{ACCOUNT}\n{permissions}\n{services}\n{resource_types}\n\n{expiry}\n\n\n{version}\n\n"
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&BASE64.decode(key).expect("base64 key")).expect("hmac");
    mac.update(to_sign.as_bytes());
    let signature = BASE64.encode(mac.finalize().into_bytes());
    let signature = signature
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    format!(
        "sv={version}&ss={services}&srt={resource_types}&sp={permissions}&se={}&sig={signature}",
        expiry.replace(':', "%3A")
    )
}

#[tokio::test]
async fn create_queue_is_idempotent() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    service.create_queue(&queue).await.expect("create again");
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 0);
    assert!(!service.has_visible(&queue).await.unwrap());
    assert_eq!(
        service.describe(),
        format!("account {ACCOUNT} at {}", endpoint(&conn))
    );
    assert!(!service.describe().contains(ACCOUNT_KEY));
}

#[tokio::test]
async fn send_then_receive_gives_every_field_and_hides_the_message() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    // Sent as is: XML specials and non-ASCII survive, nothing is base64-encoded.
    let text = "<order id=\"1\">&'ü€</order>";
    let before = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    service.send(&queue, text).await.expect("send");

    let messages = service.receive(&queue, 32, VISIBILITY).await.unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message.text, text);
    assert_eq!(message.dequeue_count, 1);
    assert!(!message.id.is_empty());
    assert!(!message.pop_receipt.is_empty());
    assert!(message.insertion_time >= before, "{message:?}");
    assert!(message.expiration_time > message.insertion_time + time::Duration::days(6));
    let visible_in = message.next_visible_time - OffsetDateTime::now_utc();
    assert!(
        visible_in > time::Duration::seconds(20) && visible_in <= time::Duration::seconds(31),
        "next visible in {visible_in}"
    );

    // Invisible now: another receive gets nothing, a peek sees nothing, the count still has it.
    assert!(
        service
            .receive(&queue, 32, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!service.has_visible(&queue).await.unwrap());
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 1);
}

#[tokio::test]
async fn update_visibility_returns_a_new_receipt_and_retires_the_old_one() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    service.send(&queue, "renew me").await.unwrap();
    let message = service
        .receive(&queue, 1, VISIBILITY)
        .await
        .unwrap()
        .pop()
        .unwrap();

    let renewed = service
        .update_visibility(
            &queue,
            &message.id,
            &message.pop_receipt,
            Duration::from_secs(120),
        )
        .await
        .expect("update visibility");
    assert_ne!(renewed.pop_receipt, message.pop_receipt);
    let visible_in = renewed.next_visible_time - OffsetDateTime::now_utc();
    assert!(
        visible_in > time::Duration::seconds(100) && visible_in <= time::Duration::seconds(121),
        "next visible in {visible_in}"
    );

    // The old receipt no longer works.
    let stale = service
        .update_visibility(&queue, &message.id, &message.pop_receipt, VISIBILITY)
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ServiceErrorKind::PopReceiptMismatch, "{stale}");
    assert_eq!(stale.status, Some(400), "{stale}");
    assert_eq!(stale.code.as_deref(), Some("PopReceiptMismatch"));

    // Visibility 0: receivable again at once, counted a second time.
    let released = service
        .update_visibility(&queue, &message.id, &renewed.pop_receipt, Duration::ZERO)
        .await
        .expect("release");
    assert!(released.next_visible_time <= OffsetDateTime::now_utc() + time::Duration::seconds(1));
    assert!(service.has_visible(&queue).await.unwrap());
    let again = service.receive(&queue, 32, VISIBILITY).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, message.id);
    assert_eq!(again[0].dequeue_count, 2);
    assert_eq!(again[0].text, "renew me");
}

#[tokio::test]
async fn delete_removes_the_message() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    service.send(&queue, "done").await.unwrap();
    let message = service
        .receive(&queue, 1, VISIBILITY)
        .await
        .unwrap()
        .pop()
        .unwrap();
    service
        .delete(&queue, &message.id, &message.pop_receipt)
        .await
        .expect("delete");
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 0);

    // Deleting it again: the message is gone.
    let gone = service
        .delete(&queue, &message.id, &message.pop_receipt)
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ServiceErrorKind::MessageNotFound, "{gone}");
    assert_eq!(gone.status, Some(404), "{gone}");
}

#[tokio::test]
async fn delete_with_a_stale_receipt_is_a_mismatch() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    service.send(&queue, "held elsewhere").await.unwrap();
    let message = service
        .receive(&queue, 1, VISIBILITY)
        .await
        .unwrap()
        .pop()
        .unwrap();
    // Another holder: the visibility update hands out a new receipt.
    let renewed = service
        .update_visibility(&queue, &message.id, &message.pop_receipt, VISIBILITY)
        .await
        .unwrap();

    let stale = service
        .delete(&queue, &message.id, &message.pop_receipt)
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ServiceErrorKind::PopReceiptMismatch, "{stale}");
    assert_eq!(stale.status, Some(400), "{stale}");
    // The message is still there, and the current receipt deletes it.
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 1);
    service
        .delete(&queue, &message.id, &renewed.pop_receipt)
        .await
        .expect("delete with the current receipt");
}

#[tokio::test]
async fn a_missing_queue_is_queue_not_found() {
    let Some(conn) = connection() else { return };
    let service = service(&conn);
    let queue = support::unique("missing");

    let err = service.receive(&queue, 1, VISIBILITY).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::QueueNotFound, "{err}");
    assert_eq!(err.status, Some(404));
    assert_eq!(err.code.as_deref(), Some("QueueNotFound"));
    assert!(err.to_string().contains(&queue), "{err}");

    let err = service.send(&queue, "x").await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::QueueNotFound, "{err}");
    let err = service.approximate_count(&queue).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::QueueNotFound, "{err}");
    let err = service.has_visible(&queue).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::QueueNotFound, "{err}");
}

#[tokio::test]
async fn a_wrong_account_key_is_unauthorized() {
    let Some(conn) = connection() else { return };
    let wrong = format!(
        "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={WRONG_KEY};QueueEndpoint={}",
        endpoint(&conn)
    );
    let service = service(&wrong);
    let err = service
        .create_queue(&support::unique("denied"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Unauthorized, "{err}");
    assert_eq!(err.status, Some(403), "{err}");
    eprintln!("wrong key: {err} (code {:?})", err.code);
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(WRONG_KEY) && !shown.contains(ACCOUNT_KEY),
        "{shown}"
    );
    assert!(!shown.contains("SharedKey "), "{shown}");
}

#[tokio::test]
async fn a_sas_connection_string_works() {
    let Some(conn) = connection() else { return };
    let sas = account_sas(ACCOUNT_KEY);
    let sas_conn = format!(
        "QueueEndpoint={};SharedAccessSignature=?{sas}",
        endpoint(&conn)
    );
    let account = StorageAccount::from_connection_string(&sas_conn).unwrap();
    assert!(matches!(account.credential, Credential::Sas(_)));
    assert!(!format!("{account:?}").contains("sig="));
    let service = AzureQueueService::new(account);

    let queue = support::unique("sas");
    service.create_queue(&queue).await.expect("create with SAS");
    service.send(&queue, "by sas").await.expect("send with SAS");
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 1);
    let message = service
        .receive(&queue, 1, VISIBILITY)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(message.text, "by sas");
    let renewed = service
        .update_visibility(&queue, &message.id, &message.pop_receipt, VISIBILITY)
        .await
        .expect("update with SAS");
    service
        .delete(&queue, &message.id, &renewed.pop_receipt)
        .await
        .expect("delete with SAS");

    // A SAS signed with another key is refused, and its signature is not shown.
    let bad_sas = account_sas(WRONG_KEY);
    let bad_sig = bad_sas.split("sig=").nth(1).unwrap().to_owned();
    let bad = AzureQueueService::new(
        StorageAccount::from_connection_string(&format!(
            "QueueEndpoint={};SharedAccessSignature={bad_sas}",
            endpoint(&conn)
        ))
        .unwrap(),
    );
    let err = bad.send(&queue, "nope").await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Unauthorized, "{err}");
    eprintln!("bad SAS: {err} (code {:?})", err.code);
    assert!(!err.to_string().contains(&bad_sig), "{err}");
}

#[tokio::test]
async fn counts_and_peeks_follow_the_queue() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    for n in 0..3 {
        service.send(&queue, &format!("m{n}")).await.unwrap();
    }
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 3);
    assert!(service.has_visible(&queue).await.unwrap());
    // A peek changes nothing: all three are still receivable.
    let messages = service.receive(&queue, 32, VISIBILITY).await.unwrap();
    assert_eq!(messages.len(), 3);
    assert!(messages.iter().all(|m| m.dequeue_count == 1));
    assert!(!service.has_visible(&queue).await.unwrap());
    assert_eq!(service.approximate_count(&queue).await.unwrap(), 3);
}

#[tokio::test]
async fn one_receive_returns_at_most_32() {
    let Some(conn) = connection() else { return };
    let (service, queue) = fresh_queue(&conn).await;
    for n in 0..35 {
        service.send(&queue, &format!("m{n}")).await.unwrap();
    }
    let first = service
        .receive(&queue, MAX_MESSAGES_PER_RECEIVE, VISIBILITY)
        .await
        .unwrap();
    assert_eq!(first.len(), 32);
    let rest = service
        .receive(&queue, MAX_MESSAGES_PER_RECEIVE, VISIBILITY)
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    let mut ids: Vec<_> = first.iter().chain(&rest).map(|m| m.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 35);
    // Asking for more than the service's limit fails before any request.
    let err = service.receive(&queue, 33, VISIBILITY).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::InvalidRequest);
}
