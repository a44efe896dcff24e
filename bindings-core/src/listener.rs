//! What runs a function's trigger: [`TriggerAttribute`] (what the user wrote, bound once at
//! `build()`) and the [`Listener`] it becomes (the running source of events).

use futures_util::future::BoxFuture;

use crate::bind::BindContext;
use crate::invocation::Invoker;
use crate::trigger::{BoxError, Trigger};

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
