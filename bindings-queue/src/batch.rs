//! Batch functions: `Vec<QueueMessage>` receives every message of a poll at once; the function says
//! per message what failed.

use bindings_core::FunctionError;

use crate::QueueMessage;

/// What a batch function reports: every message succeeded, except the ones named here.
///
/// ```
/// use bindings_core::FunctionError;
/// use bindings_queue::{BatchOutcome, QueueMessage};
///
/// fn handle(batch: Vec<QueueMessage>) -> BatchOutcome {
///     let mut outcome = BatchOutcome::all_succeeded();
///     for message in &batch {
///         if message.text().is_none() {
///             outcome.fail(message, FunctionError::poison("not text"));
///         }
///     }
///     outcome
/// }
/// ```
///
/// A failed message is retried or poisoned like a single one; returning `Err` fails every message.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    failures: Vec<(String, FunctionError)>,
}

impl BatchOutcome {
    /// Every message succeeded.
    pub fn all_succeeded() -> Self {
        Self::default()
    }

    /// Marks `message` failed with `error` (retried, or poisoned if the error says so).
    pub fn fail(&mut self, message: &QueueMessage, error: FunctionError) -> &mut Self {
        self.failures.push((message.metadata.id.clone(), error));
        self
    }

    /// The error of the message with id `id`, if it failed.
    pub fn failure(&self, id: &str) -> Option<&FunctionError> {
        self.failures
            .iter()
            .find(|(failed, _)| failed == id)
            .map(|(_, error)| error)
    }

    /// How many messages failed.
    pub fn failure_count(&self) -> usize {
        self.failures.len()
    }
}
