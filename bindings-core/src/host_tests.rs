//! Host lifecycle and pipeline tests, with the manual trigger and a recording output written by hand
//! (the same calls the macros generate).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use crate::*;

/// Everything the recording output delivered, and the order of events around it.
#[derive(Default)]
struct Sink {
    delivered: Mutex<Vec<(String, String)>>,
    events: Mutex<Vec<String>>,
}

impl Sink {
    fn delivered(&self) -> Vec<(String, String)> {
        self.delivered.lock().unwrap().clone()
    }
    fn event(&self, e: impl Into<String>) {
        self.events.lock().unwrap().push(e.into());
    }
    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
}

/// `#[record_output(topic = "...")]`: delivers strings to the host's [`Sink`] under a rendered topic.
struct RecordOutput {
    topic: &'static str,
}

struct Recorder {
    topic: Template,
    sink: Arc<Sink>,
}

impl OutputAttribute for RecordOutput {
    type Output = Recorder;
    const NAME: &'static str = "record_output";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<Recorder> {
        let topic = cx.expand("topic", self.topic)?;
        let topic = Template::parse(&topic)
            .map_err(|e| cx.problem(e.to_string()))
            .ok()?;
        let sink = cx.resource::<Sink>();
        let at_shutdown = Arc::clone(&sink);
        cx.on_shutdown(
            "record_output flush",
            Box::new(move |_left| {
                Box::pin(async move {
                    at_shutdown.event("flushed");
                    Ok(())
                })
            }),
        );
        Some(Recorder { topic, sink })
    }
}

impl Output for Recorder {
    type Item = String;

    fn deliver<'a>(
        &'a self,
        items: Vec<String>,
        data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>> {
        Box::pin(async move {
            let topic = self.topic.render(data).map_err(FunctionError::retry)?;
            for item in items {
                if item == "UNDELIVERABLE" {
                    return Err(FunctionError::retry(format!(
                        "topic `{topic}`: broker refused the message"
                    )));
                }
                self.sink.event(format!("delivered {item}"));
                self.sink
                    .delivered
                    .lock()
                    .unwrap()
                    .push((topic.clone(), item));
            }
            Ok(())
        })
    }
}

impl IntoItems<Recorder> for String {
    fn into_items(self, items: &mut Vec<String>) -> Result<(), FunctionError> {
        items.push(self);
        Ok(())
    }
}

/// The user's function: upper-cases the payload; "fail", "poison" and "panic" misbehave; "wait"
/// blocks until `release` is notified.
async fn shout(text: String, log: Logger, gate: Arc<Gate>) -> Result<Vec<String>, FunctionError> {
    log.info(format!("got {text}"));
    match text.as_str() {
        "fail" => Err(FunctionError::retry("asked to fail")),
        "poison" => Err(FunctionError::poison("asked to poison")),
        "panic" => panic!("asked to panic"),
        "wait" => {
            gate.entered.notify_one();
            gate.release.notified().await;
            Ok(vec!["waited".to_owned()])
        }
        "forever" => {
            gate.entered.notify_one();
            std::future::pending().await
        }
        _ => Ok(vec![text.to_uppercase(), format!("{text}!")]),
    }
}

#[derive(Default)]
struct Gate {
    entered: Notify,
    release: Notify,
}

/// What `#[manual_trigger] #[record_output(topic = ...)]` on `shout` expands to, by hand.
fn shout_function(name: &str, topic: &'static str, gate: Arc<Gate>) -> Function {
    let mut f = Function::builder(name, ManualTrigger::new());
    let slot = f.outputs().declare(RecordOutput { topic });
    let plan = f.plan::<()>();
    f.handler(move |mut invocation: Invocation<Manual>| {
        let (plan, gate) = (Arc::clone(&plan), Arc::clone(&gate));
        async move {
            let text = <String as FromInvocation<Manual>>::from_invocation(&mut invocation)?;
            let log = <Logger as FromInvocation<Manual>>::from_invocation(&mut invocation)?;
            let value = shout(text, log, gate).await;
            invocation.send(slot, value)?;
            invocation.finish::<()>(&plan, ())
        }
    })
}

async fn start(functions: Vec<Function>, settings: Settings) -> HostHandle {
    let mut builder = Host::builder().settings(settings);
    for f in functions {
        builder = builder.add_function(f);
    }
    builder.build().await.expect("host builds").start()
}

fn sink(handle: &HostHandle) -> Arc<Sink> {
    handle
        .resources()
        .get::<Sink>()
        .expect("the recording output created its sink")
}

fn region(value: &str) -> BindingData {
    let mut data = BindingData::new();
    data.insert("Region", value);
    data
}

#[tokio::test]
async fn an_invocation_binds_the_payload_calls_and_delivers_every_output_item() {
    let handle = start(
        vec![shout_function("shout", "{region}-out", Arc::default())],
        Settings::new(),
    )
    .await;
    handle.call_with("shout", "hi", region("eu")).await.unwrap();
    assert_eq!(
        sink(&handle).delivered(),
        [
            ("eu-out".to_owned(), "HI".to_owned()),
            ("eu-out".into(), "hi!".into())
        ]
    );
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn settings_are_resolved_in_output_options_at_build() {
    let settings = Settings::new().with("Prefix", "orders");
    let handle = start(
        vec![shout_function("shout", "%Prefix%-{region}", Arc::default())],
        settings,
    )
    .await;
    handle.call_with("shout", "x", region("us")).await.unwrap();
    assert_eq!(sink(&handle).delivered()[0].0, "orders-us");
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn failures_keep_their_disposition_and_nothing_is_delivered() {
    let handle = start(
        vec![shout_function("shout", "t", Arc::default())],
        Settings::new(),
    )
    .await;
    let failure = |r: Result<(), CallError>| match r {
        Err(CallError::Failed { error, .. }) => error,
        other => panic!("expected a failure, got {other:?}"),
    };
    let err = failure(handle.call("shout", "fail").await);
    assert_eq!(
        (err.disposition(), err.to_string().as_str()),
        (Disposition::Retry, "asked to fail")
    );
    assert!(failure(handle.call("shout", "poison").await).is_poison());
    let err = failure(handle.call("shout", "panic").await);
    assert_eq!(err.to_string(), "the function panicked: asked to panic");
    let err = failure(handle.call("shout", vec![0xff, 0xfe]).await);
    assert!(
        err.to_string()
            .starts_with("the manual trigger payload is not UTF-8 text; bind `Vec<u8>`"),
        "{err}"
    );
    assert!(sink(&handle).delivered().is_empty());
    // The host is still serving after a panic.
    handle.call("shout", "ok").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn an_output_that_cannot_deliver_fails_the_invocation_with_its_reason() {
    let handle = start(
        vec![shout_function("shout", "{region}", Arc::default())],
        Settings::new(),
    )
    .await;
    let result = handle
        .call_with("shout", "undeliverable", region("eu"))
        .await;
    let Err(CallError::Failed { error, .. }) = result else {
        panic!("expected a failure, got {result:?}")
    };
    assert_eq!(error.to_string(), "topic `eu`: broker refused the message");
    // A template naming data the trigger did not provide fails the invocation too.
    let result = handle.call("shout", "x").await;
    let Err(CallError::Failed { error, .. }) = result else {
        panic!("expected a failure, got {result:?}")
    };
    assert!(
        error
            .to_string()
            .contains("`region` is not in the trigger's binding data"),
        "{error}"
    );
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn calling_an_unknown_function_names_the_known_ones() {
    let handle = start(
        vec![shout_function("Shout", "t", Arc::default())],
        Settings::new(),
    )
    .await;
    let err = handle.call("shuot", "x").await.unwrap_err().to_string();
    assert_eq!(
        err,
        "no #[manual_trigger] function is named `shuot` (manual functions: Shout)"
    );
    handle.call("SHOUT", "x").await.unwrap();
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// Starts an invocation without awaiting its result, as a listener would, and returns the result's receiver.
async fn start_call(
    handle: &HostHandle,
    payload: &'static str,
) -> tokio::sync::oneshot::Receiver<Result<(), FunctionError>> {
    let registry = handle
        .resources()
        .get::<crate::manual::ManualFunctions>()
        .expect("manual functions exist");
    let (reply, result) = tokio::sync::oneshot::channel();
    let event = TriggerEvent::new(
        ManualEvent {
            payload: payload.into(),
        },
        BindingData::new(),
    );
    registry
        .get("shout")
        .expect("shout is registered")
        .send((event, reply))
        .await
        .expect("listener is running");
    result
}

#[tokio::test]
async fn shutdown_waits_for_a_running_invocation() {
    let gate = Arc::new(Gate::default());
    let handle = start(
        vec![shout_function("shout", "t", Arc::clone(&gate))],
        Settings::new(),
    )
    .await;
    let call = start_call(&handle, "wait").await;
    gate.entered.notified().await;
    let sink = sink(&handle);
    let stopping = tokio::spawn(handle.shutdown(Duration::from_secs(30)));
    tokio::task::yield_now().await;
    assert!(
        !stopping.is_finished(),
        "shutdown must wait for the running invocation"
    );
    assert!(sink.delivered().is_empty());
    gate.release.notify_one();
    stopping.await.unwrap().unwrap();
    assert!(call.await.unwrap().is_ok());
    assert_eq!(sink.delivered(), [("t".to_owned(), "waited".to_owned())]);
    // Drained (the invocation's output delivered) before the outputs were flushed.
    assert_eq!(sink.events(), ["delivered waited", "flushed"]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_reports_invocations_that_outlive_the_timeout() {
    let gate = Arc::new(Gate::default());
    let handle = start(
        vec![shout_function("shout", "t", Arc::clone(&gate))],
        Settings::new(),
    )
    .await;
    let _call = start_call(&handle, "forever").await;
    gate.entered.notified().await;
    let sink = sink(&handle);
    let err = handle.shutdown(Duration::from_secs(2)).await.unwrap_err();
    assert!(
        matches!(&err, Error::ShutdownTimeout { running: 1, triggers, .. } if triggers.is_empty()),
        "{err:?}"
    );
    assert!(err.to_string().contains("will be delivered again"), "{err}");
    // Outputs are flushed even so.
    assert_eq!(sink.events(), ["flushed"]);
}

#[tokio::test]
async fn build_reports_every_problem_at_once_without_secret_values() {
    let settings = Settings::new().with("Password", "hunter2");
    let err = Host::builder()
        .settings(settings)
        .add_function(shout_function("a", "%Missing%-x", Arc::default()))
        .add_function(shout_function("b", "{unclosed", Arc::default()))
        .add_function(shout_function("A", "fine", Arc::default()))
        .add_function(shout_function("c", "%Password", Arc::default()))
        .build()
        .await
        .unwrap_err();
    let Error::Build(build) = &err else {
        panic!("expected a build error, got {err:?}")
    };
    let text = err.to_string();
    assert_eq!(build.problems.len(), 4, "{text}");
    assert!(
        text.starts_with("the host cannot start: 4 problem(s):"),
        "{text}"
    );
    assert!(
        text.contains("- function `a`, #[record_output]: `topic` refers to app setting `Missing`"),
        "{text}"
    );
    assert!(
        text.contains("- function `b`, #[record_output]: binding expression \"{unclosed\""),
        "{text}"
    );
    assert!(text.contains("- function `A`: registered twice"), "{text}");
    assert!(
        text.contains("- function `c`, #[record_output]: `topic` has an unclosed `%`"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

/// A trigger whose listener runs `run` and nothing else.
#[derive(Clone, Copy)]
struct ScriptedTrigger {
    run: fn() -> BoxFuture<'static, Result<(), BoxError>>,
}

impl TriggerAttribute for ScriptedTrigger {
    type Trigger = Manual;
    const NAME: &'static str = "scripted_trigger";
    fn bind(self, _: &mut BindContext<'_>) -> Option<Box<dyn Listener<Manual>>> {
        Some(Box::new(self))
    }
}

impl Listener<Manual> for ScriptedTrigger {
    fn run(self: Box<Self>, _: Invoker<Manual>) -> BoxFuture<'static, Result<(), BoxError>> {
        (self.run)()
    }
}

/// A listener that fails at once, as a queue listener does on bad credentials.
const BROKEN: ScriptedTrigger = ScriptedTrigger {
    run: || Box::pin(async { Err("403 AuthenticationFailed: check the account key".into()) }),
};

/// A listener that panics, as a listener with a bug would.
const PANICKING: ScriptedTrigger = ScriptedTrigger {
    run: || Box::pin(async { panic!("index out of bounds") }),
};

/// A listener that never stops, as a queue listener waiting on a storage request that never
/// answers.
const STUCK: ScriptedTrigger = ScriptedTrigger {
    run: || Box::pin(std::future::pending()),
};

#[tokio::test]
async fn a_failing_listener_is_reported_and_ends_the_host() {
    let broken = Function::builder("reader", BROKEN)
        .handler(|invocation: Invocation<Manual>| async move { invocation.finish::<()>(&(), ()) });
    let handle = start(
        vec![broken, shout_function("shout", "t", Arc::default())],
        Settings::new(),
    )
    .await;
    handle.failed().await;
    let err = handle.shutdown(Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "function `reader`: its trigger stopped: 403 AuthenticationFailed: check the account key"
    );
}

#[tokio::test]
async fn a_panicking_listener_is_reported_and_ends_the_host() {
    let panicking = Function::builder("reader", PANICKING)
        .handler(|invocation: Invocation<Manual>| async move { invocation.finish::<()>(&(), ()) });
    let host = Host::builder()
        .settings(Settings::new())
        .add_function(panicking)
        .add_function(shout_function("shout", "t", Arc::default()))
        .build()
        .await
        .unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        host.run_until(std::future::pending()),
    )
    .await
    .expect("run_until must return when a listener panics")
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "function `reader`: its trigger stopped: its listener panicked: index out of bounds"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_names_the_triggers_that_did_not_stop_in_time() {
    let stuck = Function::builder("reader", STUCK)
        .handler(|invocation: Invocation<Manual>| async move { invocation.finish::<()>(&(), ()) });
    let handle = start(
        vec![stuck, shout_function("shout", "t", Arc::default())],
        Settings::new(),
    )
    .await;
    let sink = sink(&handle);
    let err = handle.shutdown(Duration::from_secs(2)).await.unwrap_err();
    assert!(
        matches!(&err, Error::ShutdownTimeout { running: 0, triggers, .. } if triggers == &["reader"]),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("0 invocation(s) still running and the trigger of `reader` not stopped"),
        "{err}"
    );
    // Outputs are flushed even so.
    assert_eq!(sink.events(), ["flushed"]);
}

#[tokio::test]
async fn calls_after_shutdown_began_are_refused() {
    let handle = start(
        vec![shout_function("shout", "t", Arc::default())],
        Settings::new(),
    )
    .await;
    handle.shutdown.cancel();
    let err = handle.call("shout", "x").await.unwrap_err();
    assert!(matches!(err, CallError::HostStopped { .. }), "{err:?}");
    assert!(sink(&handle).delivered().is_empty());
}

#[tokio::test]
async fn run_until_drains_before_returning_when_asked_to_stop() {
    let gate = Arc::new(Gate::default());
    let host = Host::builder()
        .settings(Settings::new())
        .add_function(shout_function("shout", "t", Arc::clone(&gate)))
        .build()
        .await
        .unwrap();
    let resources = Arc::clone(host.resources());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(host.run_until(async move {
        let _ = stopped.await;
    }));
    let registry = resources.get::<crate::manual::ManualFunctions>().unwrap();
    let (reply, result) = tokio::sync::oneshot::channel();
    let event = TriggerEvent::new(
        ManualEvent {
            payload: "wait".into(),
        },
        BindingData::new(),
    );
    registry
        .get("shout")
        .unwrap()
        .send((event, reply))
        .await
        .unwrap();
    gate.entered.notified().await;
    stop.send(()).unwrap();
    tokio::task::yield_now().await;
    assert!(
        !running.is_finished(),
        "run_until must wait for the running invocation"
    );
    gate.release.notify_one();
    running.await.unwrap().unwrap();
    assert!(result.await.unwrap().is_ok());
    let sink = resources.get::<Sink>().unwrap();
    assert_eq!(sink.events(), ["delivered waited", "flushed"]);
}

#[tokio::test]
async fn run_until_returns_the_error_of_a_failed_trigger() {
    let broken = Function::builder("reader", BROKEN)
        .handler(|invocation: Invocation<Manual>| async move { invocation.finish::<()>(&(), ()) });
    let host = Host::builder()
        .settings(Settings::new())
        .add_function(broken)
        .build()
        .await
        .unwrap();
    let err = host.run_until(std::future::pending()).await.unwrap_err();
    assert!(
        matches!(err, Error::Listener { ref function, .. } if function == "reader"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_call_error_converts_into_the_host_error() {
    let handle = start(
        vec![shout_function("shout", "t", Arc::default())],
        Settings::new(),
    )
    .await;
    let called = async {
        handle.call("nope", "x").await?;
        Ok::<(), Error>(())
    }
    .await;
    assert!(
        matches!(called, Err(Error::Call(CallError::UnknownFunction { ref name, .. })) if name == "nope"),
        "{called:?}"
    );
    handle.shutdown(Duration::from_secs(5)).await.unwrap();
}
