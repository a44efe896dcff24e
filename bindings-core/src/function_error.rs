//! The error a function returns, and what the trigger should do about it.

use std::error::Error as StdError;
use std::fmt;

/// What the trigger does with a failed invocation's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again (the default): the queue trigger makes the message visible after the retry delay,
    /// and poisons it after `maxDequeueCount` attempts.
    Retry,
    /// Do not retry: the input is bad. The queue trigger moves the message to the poison queue at once.
    Poison,
}

/// A failed invocation: why, and whether to retry.
///
/// Any `std::error::Error` converts into a retrying `FunctionError`, so `?` works in functions.
///
/// ```
/// use bindings_core::{Disposition, FunctionError};
///
/// fn check(total: i64) -> Result<(), FunctionError> {
///     if total < 0 {
///         return Err(FunctionError::poison("negative total"));
///     }
///     let _n: u32 = "42".parse()?; // a ParseIntError becomes a retrying FunctionError
///     Ok(())
/// }
/// assert_eq!(check(-1).unwrap_err().disposition(), Disposition::Poison);
/// ```
pub struct FunctionError {
    disposition: Disposition,
    binding: bool,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl FunctionError {
    /// A failure to retry.
    pub fn retry(message: impl fmt::Display) -> Self {
        Self {
            disposition: Disposition::Retry,
            binding: false,
            message: message.to_string(),
            source: None,
        }
    }

    /// A failure not to retry: the input goes to the poison queue (or its trigger's equivalent) at once.
    pub fn poison(message: impl fmt::Display) -> Self {
        Self {
            disposition: Disposition::Poison,
            binding: false,
            message: message.to_string(),
            source: None,
        }
    }

    /// A retrying failure caused by `source`, with a message saying what was being done.
    pub fn with_source(
        message: impl fmt::Display,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            disposition: Disposition::Retry,
            binding: false,
            message: message.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// The same error, not to be retried.
    #[must_use]
    pub fn into_poison(mut self) -> Self {
        self.disposition = Disposition::Poison;
        self
    }

    /// The same error, marked as raised while binding a parameter: the trigger's input does not fit
    /// the function's signature (a body that is not the expected JSON, text that is not UTF-8).
    ///
    /// The generated code marks every parameter-binding error this way; the disposition is kept
    /// (a queue message is retried, then poisoned), and the HTTP trigger answers 400 instead of 500.
    ///
    /// ```
    /// use bindings_core::FunctionError;
    ///
    /// let err = FunctionError::retry("the body is not JSON").into_binding_error();
    /// assert!(err.is_binding_error());
    /// assert!(!err.is_poison());
    /// ```
    #[must_use]
    pub fn into_binding_error(mut self) -> Self {
        self.binding = true;
        self
    }

    /// Whether the input could not be bound to the function's parameters (see
    /// [`into_binding_error`](Self::into_binding_error)).
    pub fn is_binding_error(&self) -> bool {
        self.binding
    }

    /// Retry or poison.
    pub fn disposition(&self) -> Disposition {
        self.disposition
    }

    /// Whether the input should not be retried.
    pub fn is_poison(&self) -> bool {
        self.disposition == Disposition::Poison
    }

    /// The message, without the causes (for an error converted with `?`: that error's own message).
    pub fn message(&self) -> String {
        match &self.source {
            Some(source) if self.message.is_empty() => source.to_string(),
            _ => self.message.clone(),
        }
    }

    /// The underlying error, if any.
    pub fn source(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl fmt::Display for FunctionError {
    /// The message and every cause, joined by `: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let mut separator = if self.message.is_empty() { "" } else { ": " };
        let mut cause: Option<&(dyn StdError + 'static)> = self.source.as_deref().map(|s| s as _);
        while let Some(err) = cause {
            write!(f, "{separator}{err}")?;
            separator = ": ";
            cause = err.source();
        }
        Ok(())
    }
}

impl fmt::Debug for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionError")
            .field("disposition", &self.disposition)
            .field("binding", &self.binding)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

/// A [`FunctionError`] as a `std::error::Error`, for code that collects errors in a
/// `Box<dyn Error>`.
///
/// `FunctionError` itself does not implement `std::error::Error`: if it did, the conversion from
/// every error type that makes `?` work in functions would overlap with `From<T> for T` (the choice
/// `anyhow::Error` makes too). Its causes stay reachable through [`source`](StdError::source).
struct StdFunctionError(FunctionError);

impl fmt::Debug for StdFunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for StdFunctionError {
    /// The message only: the causes are the [`source`](StdError::source) chain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.source, self.0.message.is_empty()) {
            (Some(source), true) => fmt::Display::fmt(source, f),
            _ => f.write_str(&self.0.message),
        }
    }
}

impl StdError for StdFunctionError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.0.source {
            // An error converted with `?` shows as itself (its message); its own causes follow.
            Some(source) if self.0.message.is_empty() => source.source(),
            Some(source) => Some(&**source),
            None => None,
        }
    }
}

/// `?` from a `FunctionError` into `Box<dyn Error + Send + Sync>`.
///
/// ```
/// use bindings_core::FunctionError;
///
/// fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     Err(FunctionError::poison("negative total"))?;
///     Ok(())
/// }
/// assert_eq!(run().unwrap_err().to_string(), "negative total");
/// ```
impl From<FunctionError> for Box<dyn StdError + Send + Sync + 'static> {
    fn from(err: FunctionError) -> Self {
        Box::new(StdFunctionError(err))
    }
}

/// `?` from a `FunctionError` into `Box<dyn Error>`.
impl From<FunctionError> for Box<dyn StdError + 'static> {
    fn from(err: FunctionError) -> Self {
        Box::new(StdFunctionError(err))
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for FunctionError {
    fn from(err: E) -> Self {
        Self {
            disposition: Disposition::Retry,
            binding: false,
            message: String::new(),
            source: Some(Box::new(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn display_joins_the_cause_chain() {
        let err = FunctionError::with_source(
            "sending to topic `t`",
            Outer(std::io::Error::other("refused")),
        );
        assert_eq!(err.to_string(), "sending to topic `t`: outer: refused");
        assert_eq!(err.message(), "sending to topic `t`");
        assert!(err.source().is_some());
    }

    #[test]
    fn into_a_boxed_error_the_causes_are_the_source_chain() {
        let boxed: Box<dyn StdError> =
            FunctionError::with_source("sending", Outer(std::io::Error::other("refused"))).into();
        assert_eq!(boxed.to_string(), "sending");
        let outer = boxed.source().expect("the cause");
        assert_eq!(outer.to_string(), "outer");
        assert_eq!(outer.source().unwrap().to_string(), "refused");

        // Converted with `?`: the error itself, then its causes.
        let converted: FunctionError = Outer(std::io::Error::other("refused")).into();
        let boxed: Box<dyn StdError + Send + Sync> = converted.into();
        assert_eq!(boxed.to_string(), "outer");
        assert_eq!(boxed.source().unwrap().to_string(), "refused");
    }

    #[test]
    fn conversions_retry_and_poison_is_explicit() {
        let err: FunctionError = "x".parse::<u8>().unwrap_err().into();
        assert_eq!(err.disposition(), Disposition::Retry);
        assert_eq!(err.to_string(), "invalid digit found in string");
        assert_eq!(err.message(), "invalid digit found in string");
        let err: FunctionError = Outer(std::io::Error::other("refused")).into();
        assert_eq!(err.to_string(), "outer: refused");
        assert!(FunctionError::poison("bad").is_poison());
        assert!(FunctionError::retry("later").into_poison().is_poison());
    }
}
