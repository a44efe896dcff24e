//! Triggers: what starts an invocation. A provider crate implements [`Trigger`] (the kind),
//! [`TriggerAttribute`] (what the user wrote, bound at `build()`) and [`Listener`] (the running source).

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::function::FunctionRuntime;
use crate::{BindContext, BindingData, FunctionError};

/// An error that ends a listener.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// A kind of trigger (queue, HTTP, manual). Implemented by a marker type in each provider crate.
pub trait Trigger: Send + Sync + Sized + 'static {
    /// How messages name this trigger (`"queue trigger"`).
    const NAME: &'static str;
    /// What the listener hands each invocation (a queue message, an HTTP request).
    type Event: Send + 'static;
    /// What a successful invocation gives back to the listener (an HTTP response; `()` for a queue).
    /// Its `Default` is the reply of a function that returns nothing.
    type Reply: Default + Send + 'static;
}

/// A trigger as written on a function: `#[queue_trigger("orders")]` becomes a value of the provider's
/// attribute type, which is bound once at `build()`.
pub trait TriggerAttribute: Send + 'static {
    /// The kind of trigger.
    type Trigger: Trigger;
    /// The attribute's name for messages (`"queue_trigger"`).
    const NAME: &'static str;

    /// Resolves settings and validates; returns the listener, or `None` after recording problems in `cx`.
    fn bind(self, cx: &mut BindContext<'_>) -> Option<Box<dyn Listener<Self::Trigger>>>;
}

/// The running source of one function's events: polls a queue, serves routes, reads a channel.
pub trait Listener<T: Trigger>: Send + 'static {
    /// Runs until `invoker.shutdown_token()` is cancelled, then stops taking new events and returns
    /// (in-flight work spawned with [`Invoker::spawn`] is drained by the host). An error ends this
    /// function's listener and is reported by the host.
    fn run(self: Box<Self>, invoker: Invoker<T>) -> BoxFuture<'static, Result<(), BoxError>>;
}

/// One event from a listener: the trigger's data plus the binding data it exposes to other bindings.
#[derive(Debug)]
pub struct TriggerEvent<T: Trigger> {
    /// The trigger-specific event.
    pub event: T::Event,
    /// Named values for `{name}` expressions (case-insensitive).
    pub binding_data: BindingData,
}

impl<T: Trigger> TriggerEvent<T> {
    /// An event with its binding data.
    pub fn new(event: T::Event, binding_data: BindingData) -> Self {
        Self {
            event,
            binding_data,
        }
    }
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
