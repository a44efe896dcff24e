//! The HTTP trigger through a real HTTP client against the served router: methods, routes, auth
//! levels, body limit, responses; HTTP + Kafka from one invocation; embedding in an axum app.

use std::sync::Arc;
use std::time::Duration;

use bindings::HostHandle;
use bindings::extend::FunctionDef;
use bindings::http::http::StatusCode;
use bindings::prelude::*;
use rdkafka::mocking::MockCluster;

mod support;

#[http_trigger(methods = ["get", "post"], auth_level = "anonymous")]
async fn hello(request: HttpRequest) -> String {
    format!("hello {}", request.query("name").unwrap_or("you"))
}

#[http_trigger(methods = ["post"], route = "items/{id}")]
async fn item(
    request: HttpRequest,
    body: Json<serde_json::Value>,
    context: FunctionContext,
) -> Result<HttpResponse, FunctionError> {
    let id = request.param("id").unwrap_or_default().to_owned();
    let from_data = context.binding_data().get("id").cloned();
    HttpResponse::new(StatusCode::CREATED)
        .header("x-item", &id)
        .json(&serde_json::json!({ "id": id, "echo": body.0, "binding_data_id": from_data }))
}

#[http_trigger(auth_level = "admin")]
async fn admin_only() -> HttpResponse {
    HttpResponse::ok().body("admin")
}

#[http_trigger(auth_level = "anonymous")]
async fn nothing() {}

#[http_trigger(auth_level = "anonymous")]
async fn broken() -> Result<String, FunctionError> {
    Err(FunctionError::retry("internal detail that must not leak"))
}

struct Served {
    base: String,
    handle: HostHandle,
    client: reqwest::Client,
}

async fn serve(
    functions: Vec<fn(bindings::HostBuilder) -> bindings::HostBuilder>,
    host_json: &str,
    settings: Settings,
) -> Served {
    let address = support::free_address();
    let mut builder = Host::builder()
        .settings(settings.with("HttpListenAddress", address.clone()))
        .host_config(HostConfig::from_json_str(host_json).unwrap());
    for add in functions {
        builder = add(builder);
    }
    let handle = builder.build().await.expect("the host builds").start();
    support::listening(&address, "the host", Duration::from_secs(10)).await;
    Served {
        base: format!("http://{address}"),
        handle,
        client: reqwest::Client::new(),
    }
}

fn add<F: FunctionDef>(builder: bindings::HostBuilder) -> bindings::HostBuilder {
    builder.function::<F>()
}

fn keys() -> Settings {
    Settings::new()
        .with("HttpFunctionKeys__item", "item-key")
        .with("HttpMasterKey", "master-key")
}

#[tokio::test]
async fn methods_routes_auth_levels_and_responses() {
    let s = serve(
        vec![
            add::<hello>,
            add::<item>,
            add::<admin_only>,
            add::<nothing>,
            add::<broken>,
        ],
        r#"{"version": "2.0"}"#,
        keys(),
    )
    .await;
    let get = |path: &str| s.client.get(format!("{}{path}", s.base));
    let post = |path: &str| s.client.post(format!("{}{path}", s.base));

    let response = get("/api/hello?name=rust").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello rust");
    assert_eq!(
        s.client
            .put(format!("{}/api/hello", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(get("/api/nope").send().await.unwrap().status(), 404);
    assert_eq!(
        get("/hello").send().await.unwrap().status(),
        404,
        "routes live under the `api` prefix"
    );

    let body = r#"{"a": 1}"#;
    assert_eq!(
        post("/api/items/7")
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "no key"
    );
    assert_eq!(
        post("/api/items/7")
            .header("x-functions-key", "wrong")
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let response = post("/api/items/7")
        .header("x-functions-key", "item-key")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-item"], "7");
    assert_eq!(response.headers()["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "id": "7", "echo": { "a": 1 }, "binding_data_id": "7" }),
        "route parameters are binding data"
    );
    assert_eq!(
        post("/api/items/8?code=master-key")
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        201,
        "the master key opens everything"
    );

    assert_eq!(
        get("/api/admin_only")
            .header("x-functions-key", "item-key")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        get("/api/admin_only")
            .header("x-functions-key", "master-key")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    assert_eq!(get("/api/nothing").send().await.unwrap().status(), 204);
    let response = get("/api/broken").send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert!(
        !response.text().await.unwrap().contains("internal detail"),
        "errors do not leak to clients"
    );
    s.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let s = serve(
        vec![add::<hello>],
        r#"{"version": "2.0", "extensions": {"http": {"maxRequestBodySize": 1024, "routePrefix": "v1", "customHeaders": {"x-frame-options": "DENY"}}}}"#,
        Settings::new(),
    )
    .await;
    let url = format!("{}/v1/hello", s.base);
    let small = s
        .client
        .post(&url)
        .body(vec![b'x'; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    assert_eq!(small.headers()["x-frame-options"], "DENY");
    assert_eq!(
        s.client
            .post(&url)
            .body(vec![b'x'; 4096])
            .send()
            .await
            .unwrap()
            .status(),
        413
    );
    s.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_protected_function_without_keys_does_not_start() {
    let err = Host::builder()
        .settings(Settings::new())
        .function::<item>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "function `item`, #[http_trigger]: auth_level = \"function\" but no key is set"
        ),
        "{err}"
    );
}

#[derive(serde::Deserialize)]
struct Order {
    id: String,
    total: i64,
}

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
}

#[http_trigger(methods = ["post"], auth_level = "anonymous")]
async fn order(order: Json<Order>, page: Query<Page>, text: String) -> String {
    format!(
        "{} {} {} {}",
        order.id,
        order.total,
        page.0.page,
        text.len()
    )
}

#[tokio::test]
async fn input_that_does_not_bind_is_a_400_with_the_reason() {
    let s = serve(vec![add::<order>], r#"{"version": "2.0"}"#, Settings::new()).await;
    let post = |query: &str, body: &'static [u8]| {
        s.client
            .post(format!("{}/api/order{query}", s.base))
            .body(body)
            .send()
    };
    let ok = post("?page=2", br#"{"id":"o-1","total":5}"#).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "o-1 5 2 22");

    let cases: [(&str, &[u8], &str); 4] = [
        ("?page=2", b"{not json", "is not valid JSON"),
        ("?page=2", br#"{"id":"o-1"}"#, "missing field `total`"),
        (
            "?page=two",
            br#"{"id":"o-1","total":5}"#,
            "the query string does not fit",
        ),
        ("?page=2", b"\xff\xfe", "is not valid JSON"),
    ];
    for (query, body, reason) in cases {
        let response = post(query, body).await.unwrap();
        assert_eq!(response.status(), 400, "{query} {body:?}");
        let text = response.text().await.unwrap();
        assert!(text.starts_with("bad request: "), "{text}");
        assert!(text.contains(reason), "{query} {body:?}: {text}");
    }
    s.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn invalid_custom_headers_are_build_problems() {
    let err = Host::builder()
        .settings(Settings::new().with("HttpListenAddress", "off"))
        .host_config(
            HostConfig::from_json_str(
                r#"{"version": "2.0", "extensions": {"http": {"customHeaders": {"x frame": "DENY", "x-ok": "line\nbreak"}}}}"#,
            )
            .unwrap(),
        )
        .function::<hello>()
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`extensions.http.customHeaders`: \"x frame\" is not a valid header name"),
        "{err}"
    );
    assert!(
        err.contains("`extensions.http.customHeaders.x-ok`: the value is not a valid header value"),
        "{err}"
    );
}

#[tokio::test]
async fn a_method_the_router_cannot_answer_is_a_build_problem() {
    let function = bindings::extend::Function::builder(
        "propfind",
        bindings::http::HttpTriggerAttribute::new().methods(&["propfind"]),
    )
    .handler(
        |invocation: bindings::extend::Invocation<bindings::http::HttpTrigger>| async move {
            invocation.finish(&(), HttpResponse::ok())
        },
    );
    let err = Host::builder()
        .settings(Settings::new().with("HttpListenAddress", "off"))
        .add_function(function)
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"propfind\" is not an HTTP method the trigger can answer"),
        "{err}"
    );
}

// ---- HTTP response and Kafka messages from one invocation (the seed's MultipleOutputType). ----

#[derive(Outputs)]
struct MultipleOutput {
    #[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
    kevents: Vec<String>,
    http_response: HttpResponse,
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn output(request: HttpRequest) -> MultipleOutput {
    let message = request.query("message").unwrap_or("one").to_owned();
    MultipleOutput {
        kevents: vec![message, "two".to_owned()],
        http_response: HttpResponse::ok().body("Ok"),
    }
}

#[tokio::test]
async fn one_invocation_answers_http_and_sends_kafka_messages() {
    let topic = support::unique("t");
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(&topic, 1, 1).unwrap();
    let s = serve(
        vec![add::<output>],
        r#"{"version": "2.0"}"#,
        Settings::new()
            .with("Brokers", cluster.bootstrap_servers())
            .with("Topic", topic.clone()),
    )
    .await;
    let response = s
        .client
        .get(format!("{}/api/output?message=hi", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "Ok",
        "answered after the messages were delivered"
    );
    s.handle.shutdown(Duration::from_secs(5)).await.unwrap();
    let values: Vec<String> = support::kafka::consume(&cluster.bootstrap_servers(), &topic, 2)
        .await
        .into_iter()
        .map(|record| record.value)
        .collect();
    assert_eq!(values, ["hi", "two"]);
}

#[tokio::test]
async fn the_routes_merge_into_an_existing_axum_app() {
    let handle = Arc::new(
        Host::builder()
            .settings(Settings::new().with("HttpListenAddress", "off"))
            .function::<hello>()
            .build()
            .await
            .unwrap()
            .start(),
    );
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "up" }))
        .merge(bindings::http::router(handle.resources()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{address}/health"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hello = client
        .get(format!("http://{address}/api/hello?name=app"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!((health.as_str(), hello.as_str()), ("up", "hello app"));
    server.abort();
    Arc::into_inner(handle)
        .unwrap()
        .shutdown(Duration::from_secs(5))
        .await
        .unwrap();
}

/// Lets `slow` finish, one call at a time.
static GATE: tokio::sync::Notify = tokio::sync::Notify::const_new();
static ENTERED: tokio::sync::Notify = tokio::sync::Notify::const_new();

#[http_trigger(auth_level = "anonymous")]
async fn slow() -> &'static str {
    ENTERED.notify_one();
    GATE.notified().await;
    "done"
}

#[tokio::test]
async fn concurrency_and_outstanding_limits_hold_and_refuse() {
    let s = serve(
        vec![add::<slow>],
        r#"{"version": "2.0", "extensions": {"http": {"maxConcurrentRequests": 1, "maxOutstandingRequests": 2}}}"#,
        Settings::new(),
    )
    .await;
    let url = format!("{}/api/slow", s.base);
    let first = tokio::spawn(s.client.get(&url).send());
    ENTERED.notified().await;
    // Two more: one is held (outstanding = 2) waiting for the running slot, the other is refused.
    let mut waiting = vec![
        tokio::spawn(s.client.get(&url).send()),
        tokio::spawn(s.client.get(&url).send()),
    ];
    let index = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(i) = waiting
                .iter()
                .position(tokio::task::JoinHandle::is_finished)
            {
                break i;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("one of the two is refused at once");
    let refused = waiting.remove(index);
    assert_eq!(refused.await.unwrap().unwrap().status(), 429);
    let held = waiting.remove(0);
    assert!(
        !held.is_finished(),
        "the other waits for the one running slot"
    );
    GATE.notify_one();
    assert_eq!(first.await.unwrap().unwrap().text().await.unwrap(), "done");
    ENTERED.notified().await;
    GATE.notify_one();
    assert_eq!(held.await.unwrap().unwrap().text().await.unwrap(), "done");
    s.handle.shutdown(Duration::from_secs(5)).await.unwrap();
}
