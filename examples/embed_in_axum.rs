//! The bindings inside an existing axum service: the host runs in the app's tokio runtime, its HTTP
//! functions and its admin routes (`/metrics`, `/healthz`, `/readyz`, `/scale`) are merged into the
//! app's router, and the app decides when to stop.
//!
//! ```sh
//! cargo run --example embed_in_axum      # serves on a free port, calls itself, stops
//! ```

use std::time::Duration;

use bindings::prelude::*;

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn greet(request: HttpRequest) -> String {
    format!("hello, {}", request.query("name").unwrap_or("axum"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    // The app serves the routes itself, so the host must not open its own listener.
    let host = Host::builder()
        .settings(Settings::from_env_and_local_file()?.with("HttpListenAddress", "off"))
        .function::<greet>()
        .build()
        .await?
        .start();
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "up" }))
        .merge(bindings::http::router(host.resources()))
        .merge(bindings::telemetry::router(host.resources()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let stop = CancellationToken::new();
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.clone().cancelled_owned())
            .into_future(),
    );

    let client = reqwest::Client::new();
    for path in ["/health", "/api/greet?name=embedded", "/readyz"] {
        let body = client
            .get(format!("http://{address}{path}"))
            .send()
            .await?
            .text()
            .await?;
        println!("GET {path} -> {body}");
    }
    stop.cancel();
    server.await??;
    host.shutdown(Duration::from_secs(5)).await?;
    println!("stopped cleanly");
    Ok(())
}
