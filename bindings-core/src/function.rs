//! Function descriptors: a trigger, outputs and a handler, as the macros (or hand-written code) describe them.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bind::BindContext;
use crate::output::OutputSet;
use crate::trigger::{BoxError, Invoker, Listener};
use crate::{
    Finished, FunctionContext, FunctionError, FunctionReturn, Invocation, OutputDeclarations,
    Trigger, TriggerAttribute, TriggerEvent,
};

/// Implemented by the item `#[…_trigger]` generates next to a function, so `Host::builder().function::<f>()`
/// can register it.
pub trait FunctionDef {
    /// The function's descriptor.
    fn describe() -> Function;
}

type Handler<T> = Arc<
    dyn Fn(Invocation<T>) -> BoxFuture<'static, Result<Finished<T>, FunctionError>> + Send + Sync,
>;

/// A function ready to be bound: its name, trigger, outputs and handler.
pub struct Function {
    pub(crate) name: String,
    pub(crate) bind: BindFunction,
}

/// Binds a function's trigger and outputs, or records why it cannot.
pub(crate) type BindFunction =
    Box<dyn FnOnce(&mut BindContext<'_>) -> Option<Box<dyn BoundFunction>> + Send>;

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Function {
    /// Starts describing function `name` with its trigger attribute.
    pub fn builder<A: TriggerAttribute>(name: impl Into<String>, trigger: A) -> FunctionBuilder<A> {
        FunctionBuilder {
            name: name.into(),
            trigger,
            outputs: OutputDeclarations::default(),
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Describes a function: declare outputs, plan the return value, then give the handler.
///
/// The macros write this; by hand it looks like the test in this crate's `host` module.
pub struct FunctionBuilder<A: TriggerAttribute> {
    name: String,
    trigger: A,
    outputs: OutputDeclarations,
}

impl<A: TriggerAttribute> std::fmt::Debug for FunctionBuilder<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionBuilder")
            .field("name", &self.name)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

impl<A: TriggerAttribute> FunctionBuilder<A> {
    /// The outputs, to declare one (`outputs().declare(attr)`) or let a return type plan its own.
    pub fn outputs(&mut self) -> &mut OutputDeclarations {
        &mut self.outputs
    }

    /// Prepares return type `R` (declaring the outputs it carries).
    pub fn plan<R: FunctionReturn<A::Trigger>>(&mut self) -> Arc<R::Plan> {
        Arc::new(R::plan(&mut self.outputs))
    }

    /// Finishes with the handler: binds parameters, calls the function and [`Invocation::finish`]es.
    pub fn handler<F, Fut>(self, handler: F) -> Function
    where
        F: Fn(Invocation<A::Trigger>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Finished<A::Trigger>, FunctionError>> + Send + 'static,
    {
        let handler: Handler<A::Trigger> =
            Arc::new(move |invocation| Box::pin(handler(invocation)));
        let FunctionBuilder {
            name,
            trigger,
            outputs,
        } = self;
        let function_name = name.clone();
        Function {
            name,
            bind: Box::new(move |cx| {
                cx.binding = Some(A::NAME);
                let listener = trigger.bind(cx);
                let mut bound = Vec::with_capacity(outputs.pending.len());
                for (binding, bind) in outputs.pending {
                    cx.binding = Some(binding);
                    bound.push(bind(cx));
                }
                cx.binding = None;
                let outputs: Option<Vec<Arc<dyn Any + Send + Sync>>> = bound.into_iter().collect();
                let runtime = FunctionRuntime {
                    name: function_name.into(),
                    handler,
                    outputs: outputs?.into(),
                };
                Some(Box::new(BoundTyped {
                    listener: listener?,
                    runtime: Arc::new(runtime),
                }) as Box<dyn BoundFunction>)
            }),
        }
    }
}

/// A bound function: its handler and outputs, shared by every invocation.
pub(crate) struct FunctionRuntime<T: Trigger> {
    pub(crate) name: Arc<str>,
    handler: Handler<T>,
    outputs: Arc<[Arc<dyn Any + Send + Sync>]>,
}

impl<T: Trigger> FunctionRuntime<T> {
    /// The pipeline: bind -> call -> convert -> deliver outputs, in a span, with panics caught.
    pub(crate) async fn invoke(
        &self,
        event: TriggerEvent<T>,
        shutdown: CancellationToken,
    ) -> Result<T::Reply, FunctionError> {
        let invocation_id = uuid::Uuid::new_v4();
        let span = tracing::info_span!("invocation", function = %self.name, %invocation_id, trigger = T::NAME);
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
            let elapsed_ms = started.elapsed().as_millis();
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

/// A bound function with its trigger type erased, ready to start.
pub(crate) trait BoundFunction: Send {
    fn name(&self) -> &str;
    fn start(
        self: Box<Self>,
        shutdown: CancellationToken,
        tracker: tokio_util::task::TaskTracker,
    ) -> BoxFuture<'static, Result<(), BoxError>>;
}

struct BoundTyped<T: Trigger> {
    listener: Box<dyn Listener<T>>,
    runtime: Arc<FunctionRuntime<T>>,
}

impl<T: Trigger> BoundFunction for BoundTyped<T> {
    fn name(&self) -> &str {
        &self.runtime.name
    }

    fn start(
        self: Box<Self>,
        shutdown: CancellationToken,
        tracker: tokio_util::task::TaskTracker,
    ) -> BoxFuture<'static, Result<(), BoxError>> {
        self.listener.run(Invoker {
            function: self.runtime,
            shutdown,
            tracker,
        })
    }
}
