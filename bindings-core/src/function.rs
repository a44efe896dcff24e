//! Function descriptors: a trigger, outputs and a handler, as the macros (or hand-written code) describe them.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::bind::BindContext;
use crate::invocation::{FunctionRuntime, Handler, Invoker};
use crate::listener::Listener;
use crate::listener::TriggerAttribute;
use crate::telemetry::FunctionMetrics;
use crate::trigger::BoxError;
use crate::{Finished, FunctionError, FunctionReturn, Invocation, OutputDeclarations, Trigger};

/// Implemented by the item `#[…_trigger]` generates next to a function, so `Host::builder().function::<f>()`
/// can register it.
pub trait FunctionDef {
    /// The function's descriptor.
    fn describe() -> Function;
}

/// A function ready to be bound: its name, trigger, outputs and handler.
pub struct Function {
    pub(crate) name: String,
    /// The trigger attribute's name (`queue_trigger`).
    pub(crate) trigger: &'static str,
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
            trigger: A::NAME,
            bind: Box::new(move |cx| {
                // Every function has a health entry (its listener must start), services or not.
                cx.function_health();
                let metrics = cx.metrics();
                cx.binding = Some(A::NAME);
                let listener = trigger.bind(cx);
                let mut bound = Vec::with_capacity(outputs.pending.len());
                for (binding, bind) in outputs.pending {
                    cx.binding = Some(binding);
                    bound.push(bind(cx));
                }
                cx.binding = None;
                let outputs: Option<Vec<Arc<dyn Any + Send + Sync>>> = bound.into_iter().collect();
                let name: Arc<str> = function_name.into();
                let runtime = FunctionRuntime {
                    metrics: FunctionMetrics::new(&metrics, &name, A::NAME),
                    name,
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
