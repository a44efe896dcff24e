//! What the host logs through `tracing`: a span per invocation (`function`, `invocation_id`,
//! `trigger`) that the function's `Logger` writes inside, and the invocation's outcome with its
//! duration.

use std::time::Duration;

use bindings::prelude::*;

mod support;

#[manual_trigger]
async fn logger_probe(text: String, log: Logger) {
    log.info(format!("got {text}"));
}

#[tokio::test]
async fn the_logger_writes_inside_the_invocation_span() {
    support::logs();
    let handle = Host::builder()
        .settings(Settings::new())
        .function::<logger_probe>()
        .build()
        .await
        .expect("the host builds")
        .start();
    handle.call("logger_probe", "hi").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let text = support::log_text();
    let mine: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("function=logger_probe"))
        .collect();
    let line = mine
        .iter()
        .find(|l| l.contains("got hi"))
        .unwrap_or_else(|| panic!("no log line in {mine:#?}"));
    assert!(
        line.contains("invocation{function=logger_probe invocation_id="),
        "{line}"
    );
    assert!(line.contains("trigger=\"manual trigger\""), "{line}");
    let outcome = mine
        .iter()
        .find(|l| l.contains("succeeded"))
        .unwrap_or_else(|| panic!("no outcome in {mine:#?}"));
    assert!(outcome.contains("elapsed_ms="), "{outcome}");
}
