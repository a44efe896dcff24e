//! One invocation: binding parameters by type and converting the return value.

use std::sync::Arc;

use crate::output::OutputSet;
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
        let mut completion = Completion {
            outputs: self.outputs,
            reply: T::Reply::default(),
        };
        value.complete(plan, &mut completion)?;
        Ok(Finished {
            outputs: completion.outputs,
            reply: completion.reply,
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
pub struct Completion<T: Trigger> {
    outputs: OutputSet,
    reply: T::Reply,
}

impl<T: Trigger> std::fmt::Debug for Completion<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion").finish_non_exhaustive()
    }
}

impl<T: Trigger> Completion<T> {
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

    /// Puts the value's parts into the completion.
    fn complete(
        self,
        plan: &Self::Plan,
        completion: &mut Completion<T>,
    ) -> Result<(), FunctionError>;
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
    fn into_reply(self, completion: &mut Completion<T>);
}

impl<T: Trigger> FunctionReturn<T> for () {
    type Plan = ();
    fn plan(_: &mut OutputDeclarations) {}
    fn complete(self, (): &(), _: &mut Completion<T>) -> Result<(), FunctionError> {
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
    fn complete(
        self,
        plan: &Self::Plan,
        completion: &mut Completion<T>,
    ) -> Result<(), FunctionError> {
        self.map_err(Into::into)?.complete(plan, completion)
    }
}
