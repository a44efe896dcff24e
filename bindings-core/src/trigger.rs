//! Triggers: what starts an invocation. A provider crate implements [`Trigger`] (the kind) and
//! hands each event to its function as a [`TriggerEvent`], from the
//! [`Listener`](crate::Listener) its [`TriggerAttribute`](crate::TriggerAttribute) became.

use std::error::Error as StdError;

use crate::BindingData;

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
