//! What a function knows about its own invocation: [`FunctionContext`] and the [`Logger`].

use std::fmt;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::BindingData;

/// The invocation a function is running in. Bind it as a parameter of type `FunctionContext`.
#[derive(Clone)]
pub struct FunctionContext {
    pub(crate) function_name: Arc<str>,
    pub(crate) invocation_id: Uuid,
    pub(crate) trigger: &'static str,
    pub(crate) binding_data: Arc<BindingData>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) span: tracing::Span,
}

impl fmt::Debug for FunctionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionContext")
            .field("function_name", &self.function_name)
            .field("invocation_id", &self.invocation_id)
            .field("trigger", &self.trigger)
            .finish_non_exhaustive()
    }
}

impl FunctionContext {
    /// The function's name.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// A new id for every invocation (also on the invocation's tracing span as `invocation_id`).
    pub fn invocation_id(&self) -> Uuid {
        self.invocation_id
    }

    /// What triggered the function (`"queue trigger"`, `"HTTP trigger"`, …).
    pub fn trigger(&self) -> &'static str {
        self.trigger
    }

    /// The trigger's binding data (`{name}` values for other bindings).
    pub fn binding_data(&self) -> &BindingData {
        &self.binding_data
    }

    /// Cancelled when the host begins to shut down: a long-running function may stop early.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// A logger for this invocation.
    pub fn logger(&self) -> Logger {
        Logger {
            span: self.span.clone(),
        }
    }
}

/// The `tracing` target of every [`Logger`] line: filter with `RUST_LOG=function=info`.
pub const LOG_TARGET: &str = "function";

/// Logs through `tracing` (target [`LOG_TARGET`]), inside the invocation's span (with `function` and `invocation_id` fields),
/// so lines land wherever the application's subscriber sends them. Bind it as a parameter of type `Logger`.
///
/// ```
/// # fn run(log: bindings_core::Logger) {
/// log.info(format!("processed {}", 42));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Logger {
    span: tracing::Span,
}

impl Logger {
    /// A logger not tied to an invocation (for calling functions directly, e.g. in unit tests).
    pub fn detached() -> Self {
        Self {
            span: tracing::Span::current(),
        }
    }

    /// Logs at TRACE.
    pub fn trace(&self, message: impl fmt::Display) {
        tracing::trace!(target: LOG_TARGET, parent: &self.span, "{message}");
    }

    /// Logs at DEBUG.
    pub fn debug(&self, message: impl fmt::Display) {
        tracing::debug!(target: LOG_TARGET, parent: &self.span, "{message}");
    }

    /// Logs at INFO.
    pub fn info(&self, message: impl fmt::Display) {
        tracing::info!(target: LOG_TARGET, parent: &self.span, "{message}");
    }

    /// Logs at WARN.
    pub fn warn(&self, message: impl fmt::Display) {
        tracing::warn!(target: LOG_TARGET, parent: &self.span, "{message}");
    }

    /// Logs at ERROR.
    pub fn error(&self, message: impl fmt::Display) {
        tracing::error!(target: LOG_TARGET, parent: &self.span, "{message}");
    }
}
