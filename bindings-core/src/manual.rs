//! The manual trigger: a function called from code (`handle.call("name", payload)`), like the `WebJobs`
//! SDK's `[NoAutomaticTrigger]` + `JobHost.CallAsync`. Useful for jobs started by the application,
//! for driving functions through the full pipeline in tests, and for benchmarks.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::bind::Registry;
use crate::telemetry::Outcome;
use crate::trigger::BoxError;
use crate::{
    BindContext, FunctionError, Invoker, Listener, Payload, Resources, Trigger, TriggerAttribute,
    TriggerEvent,
};

/// The manual trigger kind.
#[derive(Debug, Clone, Copy)]
pub struct Manual;

impl Trigger for Manual {
    const NAME: &'static str = "manual trigger";
    type Event = ManualEvent;
    type Reply = ();
}

/// What a manual call carries.
#[derive(Debug, Clone)]
pub struct ManualEvent {
    /// The payload given to [`HostHandle::call`](crate::HostHandle::call).
    pub payload: Bytes,
}

impl Payload for ManualEvent {
    fn payload(&self) -> Result<&Bytes, FunctionError> {
        Ok(&self.payload)
    }
}

/// `#[manual_trigger]`: the function runs when the application calls it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ManualTrigger {}

impl ManualTrigger {
    /// The attribute (it has no options).
    pub fn new() -> Self {
        Self {}
    }
}

pub(crate) type Call = (
    TriggerEvent<Manual>,
    oneshot::Sender<Result<(), FunctionError>>,
);

/// The host's manually triggered functions, by name.
pub(crate) type ManualFunctions = Registry<mpsc::Sender<Call>>;

impl TriggerAttribute for ManualTrigger {
    type Trigger = Manual;
    const NAME: &'static str = "manual_trigger";

    fn bind(self, cx: &mut BindContext<'_>) -> Option<Box<dyn Listener<Manual>>> {
        let (sender, calls) = mpsc::channel(1024);
        cx.resource::<ManualFunctions>()
            .insert(cx.function_name(), sender);
        Some(Box::new(ManualListener { calls }))
    }
}

struct ManualListener {
    calls: mpsc::Receiver<Call>,
}

impl Listener<Manual> for ManualListener {
    fn run(
        mut self: Box<Self>,
        invoker: Invoker<Manual>,
    ) -> BoxFuture<'static, Result<(), BoxError>> {
        Box::pin(async move {
            let shutdown = invoker.shutdown_token().clone();
            loop {
                let (event, reply) = tokio::select! {
                    biased;
                    () = shutdown.cancelled() => break,
                    call = self.calls.recv() => match call { Some(call) => call, None => break },
                };
                let run = invoker.invoke(event);
                let counted = invoker.clone();
                invoker.spawn(async move {
                    let result = run.await;
                    counted.completed(if result.is_ok() {
                        Outcome::Succeeded
                    } else {
                        Outcome::Failed
                    });
                    // The caller may have stopped waiting; the invocation still completes.
                    let _ = reply.send(result);
                });
            }
            Ok(())
        })
    }
}

/// Why a manual call did not run the function to success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No manually triggered function has that name.
    #[error("no #[manual_trigger] function is named `{name}` (manual functions: {available})")]
    UnknownFunction {
        /// The name called.
        name: String,
        /// The manual functions there are.
        available: String,
    },
    /// The host is shutting down or stopped.
    #[error("function `{name}` was not called: the host is shutting down")]
    HostStopped {
        /// The function.
        name: String,
    },
    /// The function ran and failed.
    #[error("function `{name}` failed: {error}")]
    Failed {
        /// The function.
        name: String,
        /// Its error.
        error: FunctionError,
    },
}

/// Runs manually triggered function `name` with `event` through the full pipeline and waits for
/// it: what [`HostHandle::call`](crate::HostHandle::call) does.
pub(crate) async fn call(
    resources: &Resources,
    name: &str,
    event: TriggerEvent<Manual>,
) -> Result<(), CallError> {
    let registry: Option<Arc<ManualFunctions>> = resources.get();
    let sender =
        registry
            .as_ref()
            .and_then(|r| r.get(name))
            .ok_or_else(|| CallError::UnknownFunction {
                name: name.to_owned(),
                available: registry.map_or_else(Vec::new, |r| r.names()).join(", "),
            })?;
    let stopped = || CallError::HostStopped {
        name: name.to_owned(),
    };
    let (reply, result) = oneshot::channel();
    sender.send((event, reply)).await.map_err(|_| stopped())?;
    result
        .await
        .map_err(|_| stopped())?
        .map_err(|error| CallError::Failed {
            name: name.to_owned(),
            error,
        })
}
