//! One invocation, in the order it runs: the [`Invoker`] a listener holds starts it, the
//! function's runtime binds parameters by type ([`FromInvocation`]), calls the function, converts its
//! return value ([`FunctionReturn`], into a [`ReturnSink`]), and delivers every output before the
//! listener gets the result.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::output::OutputSet;
use crate::telemetry::{FunctionMetrics, Outcome};
use crate::trigger::TriggerEvent;
use crate::{
    BindingData, FunctionContext, FunctionError, IntoItems, Output, OutputDeclarations, OutputSlot,
    Trigger,
};

/// One invocation of a function, as parameter binding sees it.
pub struct Invocation<T: Trigger> {
    /// The trigger's event (taken by the parameter that binds it).
    pub event: T::Event,
    pub(crate) context: FunctionContext,
    pub(crate) outputs: OutputSet,
}

impl<T: Trigger> std::fmt::Debug for Invocation<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl<T: Trigger> Invocation<T> {
    /// The invocation's context (name, id, binding data, shutdown token).
    pub fn context(&self) -> &FunctionContext {
        &self.context
    }

    /// The trigger's binding data.
    pub fn binding_data(&self) -> &BindingData {
        &self.context.binding_data
    }

    /// Sends `value` to output `slot` when the invocation completes (used for a function-level output
    /// attribute, whose output is the return value).
    pub fn send<O: Output, V: IntoItems<O>>(
        &mut self,
        slot: OutputSlot<O>,
        value: V,
    ) -> Result<(), FunctionError> {
        self.outputs.push(slot, value)
    }

    /// Converts the function's return value, ending the function's part of the invocation.
    pub fn finish<R: FunctionReturn<T>>(
        self,
        plan: &R::Plan,
        value: R,
    ) -> Result<Finished<T>, FunctionError> {
        let mut sink = ReturnSink {
            outputs: self.outputs,
            reply: T::Reply::default(),
        };
        value.complete(plan, &mut sink)?;
        Ok(Finished {
            outputs: sink.outputs,
            reply: sink.reply,
            binding_data: self.context.binding_data,
        })
    }
}

/// What a function produced: output items to deliver and the trigger's reply.
pub struct Finished<T: Trigger> {
    pub(crate) outputs: OutputSet,
    pub(crate) reply: T::Reply,
    pub(crate) binding_data: Arc<BindingData>,
}

impl<T: Trigger> std::fmt::Debug for Finished<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finished").finish_non_exhaustive()
    }
}

/// Where a return value's parts go: output items and the trigger's reply.
pub struct ReturnSink<T: Trigger> {
    outputs: OutputSet,
    reply: T::Reply,
}

impl<T: Trigger> std::fmt::Debug for ReturnSink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReturnSink").finish_non_exhaustive()
    }
}

impl<T: Trigger> ReturnSink<T> {
    /// Sends `value` to output `slot`.
    pub fn send<O: Output, V: IntoItems<O>>(
        &mut self,
        slot: OutputSlot<O>,
        value: V,
    ) -> Result<(), FunctionError> {
        self.outputs.push(slot, value)
    }

    /// Sets the trigger's reply (an HTTP response).
    pub fn reply(&mut self, reply: T::Reply) {
        self.reply = reply;
    }
}

/// A parameter type a function can take when triggered by `T`: chosen by type, like axum's extractors.
///
/// Every trigger binds [`Logger`](crate::Logger), [`FunctionContext`] and
/// [`CancellationToken`](tokio_util::sync::CancellationToken); triggers with a payload bind `String`,
/// `Vec<u8>`, `Bytes` and [`Json<T>`](crate::Json).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a function triggered by `{T}`",
    label = "no binding for this parameter type",
    note = "parameters are bound by type: the payload (`String`, `Vec<u8>`, `Bytes`, `Json<T>`, or the trigger's \
            own message type), `Logger`, `FunctionContext`, `CancellationToken`"
)]
pub trait FromInvocation<T: Trigger>: Sized {
    /// Binds the parameter. An error fails the invocation (retried like any failure).
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError>;
}

impl<T: Trigger> FromInvocation<T> for FunctionContext {
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        Ok(invocation.context.clone())
    }
}

impl<T: Trigger> FromInvocation<T> for crate::Logger {
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        Ok(invocation.context.logger())
    }
}

impl<T: Trigger> FromInvocation<T> for tokio_util::sync::CancellationToken {
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        Ok(invocation.context.shutdown.clone())
    }
}

/// A type a function can return when triggered by `T`: `()`, `Result<R, E>`, a trigger's reply type,
/// or a `#[derive(Outputs)]` struct whose fields go to several outputs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a function triggered by `{T}`",
    label = "this return type cannot be converted",
    note = "return `()`, `Result<(), E>`, the trigger's reply type, or a `#[derive(Outputs)]` struct; \
            to send the return value somewhere, put an output attribute such as `#[kafka_output(...)]` on the function"
)]
pub trait FunctionReturn<T: Trigger>: Send + Sized {
    /// What the type needs at run time, prepared once when the function is described (e.g. the output
    /// slots of a struct's fields).
    type Plan: Send + Sync + 'static;

    /// Declares the outputs this type carries.
    fn plan(outputs: &mut OutputDeclarations) -> Self::Plan;

    /// Puts the value's parts into the sink: output items and the trigger's reply.
    fn complete(self, plan: &Self::Plan, sink: &mut ReturnSink<T>) -> Result<(), FunctionError>;
}

/// A part of a `#[derive(Outputs)]` struct that is not sent to an output but answers the trigger
/// (an HTTP response). Triggers with a reply implement it for their reply types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an output of this struct and cannot answer a function triggered by `{T}`",
    label = "give this field an output attribute such as `#[kafka_output(...)]`, or remove it",
    note = "fields without an output attribute must be the trigger's reply (an HTTP response)"
)]
pub trait ReplyPart<T: Trigger> {
    /// Sets this part of the trigger's reply.
    fn into_reply(self, sink: &mut ReturnSink<T>);
}

impl<T: Trigger> FunctionReturn<T> for () {
    type Plan = ();
    fn plan(_: &mut OutputDeclarations) {}
    fn complete(self, (): &(), _: &mut ReturnSink<T>) -> Result<(), FunctionError> {
        Ok(())
    }
}

impl<T: Trigger, R: FunctionReturn<T>, E: Into<FunctionError> + Send> FunctionReturn<T>
    for Result<R, E>
{
    type Plan = R::Plan;
    fn plan(outputs: &mut OutputDeclarations) -> Self::Plan {
        R::plan(outputs)
    }
    fn complete(self, plan: &Self::Plan, sink: &mut ReturnSink<T>) -> Result<(), FunctionError> {
        self.map_err(Into::into)?.complete(plan, sink)
    }
}

pub(crate) type Handler<T> = Arc<
    dyn Fn(Invocation<T>) -> BoxFuture<'static, Result<Finished<T>, FunctionError>> + Send + Sync,
>;

/// A bound function: its handler and outputs, shared by every invocation.
pub(crate) struct FunctionRuntime<T: Trigger> {
    pub(crate) name: Arc<str>,
    pub(crate) metrics: FunctionMetrics,
    pub(crate) handler: Handler<T>,
    pub(crate) outputs: Arc<[Arc<dyn Any + Send + Sync>]>,
}

impl<T: Trigger> FunctionRuntime<T> {
    /// The pipeline: bind -> call -> convert -> deliver outputs, in a span, with panics caught.
    pub(crate) async fn invoke(
        &self,
        event: TriggerEvent<T>,
        shutdown: CancellationToken,
    ) -> Result<T::Reply, FunctionError> {
        let invocation_id = uuid::Uuid::new_v4();
        let span = tracing::info_span!(
            "invocation",
            function = %self.name,
            %invocation_id,
            trigger = T::NAME,
            otel.name = %self.name,
            faas.invocation_id = %invocation_id,
        );
        let context = FunctionContext {
            function_name: Arc::clone(&self.name),
            invocation_id,
            trigger: T::NAME,
            binding_data: Arc::new(event.binding_data),
            shutdown,
            span: span.clone(),
        };
        let invocation = Invocation {
            event: event.event,
            context,
            outputs: OutputSet::new(Arc::clone(&self.outputs)),
        };
        let handler = Arc::clone(&self.handler);
        async move {
            let started = Instant::now();
            tracing::debug!("executing");
            let result = match AssertUnwindSafe(handler(invocation)).catch_unwind().await {
                Ok(Ok(finished)) => finished
                    .outputs
                    .deliver(&finished.binding_data)
                    .await
                    .map(|()| finished.reply),
                Ok(Err(err)) => Err(err),
                Err(panic) => Err(FunctionError::retry(format!(
                    "the function panicked: {}",
                    panic_message(&*panic)
                ))),
            };
            let elapsed = started.elapsed();
            self.metrics.duration(elapsed);
            let elapsed_ms = elapsed.as_millis();
            match &result {
                Ok(_) => tracing::info!(elapsed_ms, "succeeded"),
                Err(err) => {
                    tracing::warn!(elapsed_ms, poison = err.is_poison(), error = %err, "failed");
                }
            }
            result
        }
        .instrument(span)
        .await
    }
}

/// The text a panic was raised with, for error messages.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// A listener's handle to its function: runs invocations and tracks the work the host must drain.
pub struct Invoker<T: Trigger> {
    pub(crate) function: Arc<FunctionRuntime<T>>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
}

impl<T: Trigger> Clone for Invoker<T> {
    fn clone(&self) -> Self {
        Self {
            function: Arc::clone(&self.function),
            shutdown: self.shutdown.clone(),
            tracker: self.tracker.clone(),
        }
    }
}

impl<T: Trigger> std::fmt::Debug for Invoker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invoker")
            .field("function", &self.function.name)
            .finish_non_exhaustive()
    }
}

impl<T: Trigger> Invoker<T> {
    /// The function's name.
    pub fn function_name(&self) -> &str {
        &self.function.name
    }

    /// Cancelled when the host begins to shut down: stop taking new events.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Runs one invocation: binds parameters, calls the function, converts its return value, delivers
    /// every output and awaits their delivery. `Ok` only when all outputs are durable.
    pub fn invoke(
        &self,
        event: TriggerEvent<T>,
    ) -> impl Future<Output = Result<T::Reply, FunctionError>> + Send + 'static {
        let function = Arc::clone(&self.function);
        let shutdown = self.shutdown.clone();
        async move { function.invoke(event, shutdown).await }
    }

    /// Counts how the invocation ended, once its input is completed: the `outcome` of
    /// `faas_invocations_total`. Every listener calls it once per invocation.
    pub fn completed(&self, outcome: Outcome) {
        self.function.metrics.outcome(outcome);
    }

    /// The function's handles on the shared invocation metrics.
    pub fn metrics(&self) -> &FunctionMetrics {
        &self.function.metrics
    }

    /// Spawns work the host must let finish before it stops (an invocation and its completion:
    /// deleting a message, writing a response). Such work is not cancelled by shutdown.
    pub fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn(work)
    }
}
