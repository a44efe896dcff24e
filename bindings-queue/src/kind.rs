//! The queue trigger kind: its event and reply, how the event binds to parameters by type, and how a
//! batch function's outcome becomes the reply. The listener and the attribute name it; the message
//! and batch types know nothing of it.

use bindings_core::{
    FromInvocation, FunctionError, FunctionReturn, Invocation, OutputDeclarations, ReturnSink,
    Trigger,
};

use crate::{BatchOutcome, QueueEvent, QueueMessage, QueueMetadata};

/// The queue trigger kind: functions triggered by Azure Queue storage messages.
#[derive(Debug, Clone, Copy)]
pub struct QueueTrigger;

impl Trigger for QueueTrigger {
    const NAME: &'static str = "queue trigger";
    type Event = QueueEvent;
    /// What failed in a batch; a single-message function's result says it all.
    type Reply = BatchOutcome;
}

impl FromInvocation<QueueTrigger> for QueueMessage {
    fn from_invocation(invocation: &mut Invocation<QueueTrigger>) -> Result<Self, FunctionError> {
        invocation.event.message().cloned()
    }
}

impl FromInvocation<QueueTrigger> for QueueMetadata {
    fn from_invocation(invocation: &mut Invocation<QueueTrigger>) -> Result<Self, FunctionError> {
        invocation.event.message().map(|m| m.metadata.clone())
    }
}

impl FromInvocation<QueueTrigger> for Vec<QueueMessage> {
    fn from_invocation(invocation: &mut Invocation<QueueTrigger>) -> Result<Self, FunctionError> {
        Ok(invocation.event.messages.clone())
    }
}

impl FunctionReturn<QueueTrigger> for BatchOutcome {
    type Plan = ();

    fn plan(_: &mut OutputDeclarations) {}

    fn complete(self, (): &(), sink: &mut ReturnSink<QueueTrigger>) -> Result<(), FunctionError> {
        sink.reply(self);
        Ok(())
    }
}
