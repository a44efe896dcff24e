// Every core parameter type binds, async and sync functions both register, and the function stays
// callable with plain arguments.
use bindings::prelude::*;

#[derive(serde::Deserialize)]
struct Order {
    id: String,
}

#[manual_trigger]
async fn text(payload: String, log: Logger) {
    log.info(payload);
}

#[manual_trigger(name = "raw-bytes")]
fn bytes(payload: Vec<u8>, also: Bytes, context: FunctionContext, token: CancellationToken) -> Result<(), FunctionError> {
    let _ = (payload, also, context.invocation_id(), token.is_cancelled());
    Ok(())
}

#[manual_trigger]
async fn typed(Json(order): Json<Order>) -> Result<(), std::io::Error> {
    let _ = order.id;
    Ok(())
}

mod jobs {
    use bindings::prelude::*;

    #[manual_trigger]
    pub async fn nightly(_context: FunctionContext) -> Result<(), FunctionError> {
        Err(FunctionError::poison("nothing to do"))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    text("direct".to_owned(), Logger::detached()).await;
    let handle = Host::builder()
        .settings(Settings::new())
        .function::<text>()
        .function::<bytes>()
        .function::<typed>()
        .function::<jobs::nightly>()
        .build()
        .await
        .unwrap()
        .start();
    handle.call("text", "hi").await.unwrap();
    handle.call("raw-bytes", vec![0xff]).await.unwrap();
    handle.call("typed", r#"{"id":"o-1"}"#).await.unwrap();
    assert!(handle.call("nightly", "").await.is_err());
    handle.shutdown(std::time::Duration::from_secs(5)).await.unwrap();
}
