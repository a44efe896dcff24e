//! `Host::run_until_shutdown` in a real process: SIGTERM cancels the shutdown token that functions see,
//! the running invocation finishes, and the process exits 0.
//!
//! The test runs this same executable again as the host process (`BINDINGS_SIGTERM_CHILD=1`) and
//! signals it with `kill -TERM`, so it needs its own harness.

use std::process::Command;
use std::time::Duration;

use bindings::BindingData;
use bindings::extend::{
    BindContext, BoxError, Function, Invocation, Invoker, Listener, Manual, ManualEvent,
    TriggerAttribute, TriggerEvent,
};
use bindings::prelude::*;
use support::process::Running;

mod support;

const CHILD: &str = "BINDINGS_SIGTERM_CHILD";

fn main() {
    if std::env::var_os(CHILD).is_some() {
        child();
    } else {
        parent();
        println!("sigterm: 1 passed, 0 failed");
    }
}

/// Fires one event as soon as the host starts.
struct OnStart;

impl TriggerAttribute for OnStart {
    type Trigger = Manual;
    const NAME: &'static str = "on_start";
    fn bind(self, _: &mut BindContext<'_>) -> Option<Box<dyn Listener<Manual>>> {
        Some(Box::new(OnStart))
    }
}

impl Listener<Manual> for OnStart {
    fn run(
        self: Box<Self>,
        invoker: Invoker<Manual>,
    ) -> futures_util::future::BoxFuture<'static, Result<(), BoxError>> {
        Box::pin(async move {
            let run = invoker.invoke(TriggerEvent::new(
                ManualEvent {
                    payload: "job".into(),
                },
                BindingData::new(),
            ));
            invoker.spawn(async move {
                let outcome = run.await;
                println!("invocation finished: ok={}", outcome.is_ok());
            });
            invoker.shutdown_token().cancelled().await;
            Ok(())
        })
    }
}

/// The function: says it started, then works until the host asks it to stop.
async fn long_job(token: CancellationToken) -> Result<(), FunctionError> {
    println!("job started");
    token.cancelled().await;
    println!("job saw shutdown");
    Ok(())
}

fn child() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(std::io::stdout)
            .init();
        let function = Function::builder("long_job", OnStart).handler(
            |mut invocation: Invocation<Manual>| async move {
                let token = <CancellationToken as bindings::extend::FromInvocation<
                            Manual,
                        >>::from_invocation(&mut invocation)?;
                let value = long_job(token).await;
                invocation.finish::<Result<(), FunctionError>>(&(), value)
            },
        );
        Host::builder()
            .settings(Settings::new())
            .add_function(function)
            .build()
            .await?
            .run_until_shutdown()
            .await
    });
    match result {
        Ok(()) => println!("host exited cleanly"),
        Err(err) => {
            println!("host failed: {err}");
            std::process::exit(1);
        }
    }
}

fn parent() {
    let exe = std::env::current_exe().expect("the test's own path");
    let mut host = Running::spawn(Command::new(exe).env(CHILD, "1"));
    host.line_where(Duration::from_secs(30), "the job to start", |line| {
        line.contains("job started")
    });
    let (status, stdout) = host.terminate(Duration::from_secs(30));
    let output: Vec<&str> = stdout.lines().collect();
    let position = |needle: &str| {
        output
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {output:#?}"))
    };
    assert!(
        status.success(),
        "the host exited with {status}; output: {output:#?}"
    );
    let order = [
        position("job started"),
        position("SIGTERM received"),
        position("job saw shutdown"),
        position("invocation finished: ok=true"),
        position("host stopped"),
        position("host exited cleanly"),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "events out of order {order:?}: {output:#?}"
    );
}
