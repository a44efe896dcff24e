//! Payload parameters shared by every trigger that carries a body: `String`, `Vec<u8>`, `Bytes`, `Json<T>`.

use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use serde::Serialize;
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

/// A value an output sends as a message body: text, bytes, or `Json<T>` (serialized). Output
/// bindings implement their `IntoItems` for the values of this trait they accept.
///
/// ```
/// use bindings_core::{IntoBody, Json};
///
/// assert_eq!("hi".into_body().unwrap(), b"hi");
/// assert_eq!(Json(vec![1, 2]).into_body().unwrap(), b"[1,2]");
/// ```
pub trait IntoBody {
    /// The body's bytes; an error (poison: sending again cannot help) if it cannot be made.
    fn into_body(self) -> Result<Vec<u8>, FunctionError>;
}

impl IntoBody for String {
    fn into_body(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self.into_bytes())
    }
}

impl IntoBody for &str {
    fn into_body(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self.as_bytes().to_vec())
    }
}

impl IntoBody for Vec<u8> {
    fn into_body(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self)
    }
}

impl IntoBody for Bytes {
    fn into_body(self) -> Result<Vec<u8>, FunctionError> {
        Ok(self.to_vec())
    }
}

impl<T: Serialize> IntoBody for Json<T> {
    fn into_body(self) -> Result<Vec<u8>, FunctionError> {
        serde_json::to_vec(&self.0).map_err(|e| {
            FunctionError::with_source(
                format!("cannot serialize `{}` as JSON", std::any::type_name::<T>()),
                e,
            )
            .into_poison()
        })
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
