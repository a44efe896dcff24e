//! Payload parameters shared by every trigger that carries a body: `String`, `Vec<u8>`, `Bytes`, `Json<T>`.

use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::{FromInvocation, FunctionError, Invocation, Trigger};

/// A trigger event with a body (a queue message's decoded text, an HTTP request body).
pub trait Payload {
    /// The body bytes, or why this event has no single body (a batch of messages, say).
    fn payload(&self) -> Result<&Bytes, FunctionError>;
}

/// A JSON value: as a parameter, the payload parsed into `T`; as an output value, `T` serialized.
///
/// ```
/// use bindings_core::Json;
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: String }
///
/// let order: Json<Order> = Json::from_slice(br#"{"id":"o-1"}"#).unwrap();
/// assert_eq!(order.id, "o-1");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The inner value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> Json<T> {
    /// Parses JSON bytes; the error names the target type.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, FunctionError> {
        serde_json::from_slice(bytes).map(Json).map_err(|e| {
            FunctionError::with_source(
                format!(
                    "the payload is not valid JSON for `{}`",
                    std::any::type_name::<T>()
                ),
                e,
            )
        })
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Json(value)
    }
}

impl<T: Trigger> FromInvocation<T> for Bytes
where
    T::Event: Payload,
{
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        Ok(invocation.event.payload()?.clone())
    }
}

impl<T: Trigger> FromInvocation<T> for Vec<u8>
where
    T::Event: Payload,
{
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        Ok(invocation.event.payload()?.to_vec())
    }
}

impl<T: Trigger> FromInvocation<T> for String
where
    T::Event: Payload,
{
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        String::from_utf8(invocation.event.payload()?.to_vec()).map_err(|e| {
            FunctionError::with_source(
                format!("the {} payload is not UTF-8 text; bind `Vec<u8>` or `Bytes` to receive raw bytes", T::NAME),
                e.utf8_error(),
            )
        })
    }
}

impl<T: Trigger, V: DeserializeOwned> FromInvocation<T> for Json<V>
where
    T::Event: Payload,
{
    fn from_invocation(invocation: &mut Invocation<T>) -> Result<Self, FunctionError> {
        Json::from_slice(invocation.event.payload()?)
    }
}
