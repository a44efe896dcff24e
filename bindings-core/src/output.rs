//! Output bindings: where a function's results go. A provider crate implements [`OutputAttribute`]
//! (what the user wrote, bound at `build()`), [`Output`] (the bound, shared sender) and [`IntoItems`]
//! for the values a function may return to it.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::{BoxFuture, join_all};

use crate::{BindContext, BindingData, FunctionError};

/// An output binding as written (`#[kafka_output(...)]`), bound once at `build()`.
pub trait OutputAttribute: Send + 'static {
    /// The bound output.
    type Output: Output;
    /// The attribute's name for messages (`"kafka_output"`).
    const NAME: &'static str;

    /// Resolves settings and validates; returns the output, or `None` after recording problems in `cx`.
    fn bind(self, cx: &mut BindContext<'_>) -> Option<Self::Output>;
}

/// A bound output, shared by every invocation of a function.
pub trait Output: Send + Sync + 'static {
    /// One thing to send (a Kafka record).
    type Item: Send + 'static;

    /// Sends the items of one invocation and resolves once every one is durable (or one failed).
    /// `binding_data` fills `{name}` expressions. Items must keep their order per destination where
    /// the destination keeps one (a Kafka partition; a storage queue keeps none).
    fn deliver<'a>(
        &'a self,
        items: Vec<Self::Item>,
        binding_data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>>;
}

/// A value a function can send to output `O`: one item, several, or none.
///
/// Core provides the combinators: `Option<V>` (None sends nothing), `Vec<V>` (each element) and
/// `Result<V, E>` (an error fails the invocation). Providers implement it for their item types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent to this output",
    label = "this value cannot be converted into the output's messages",
    note = "see the output binding's documentation for the types it accepts"
)]
pub trait IntoItems<O: Output> {
    /// Appends this value's items.
    fn into_items(self, items: &mut Vec<O::Item>) -> Result<(), FunctionError>;
}

impl<O: Output, V: IntoItems<O>> IntoItems<O> for Option<V> {
    fn into_items(self, items: &mut Vec<O::Item>) -> Result<(), FunctionError> {
        self.map_or(Ok(()), |v| v.into_items(items))
    }
}

impl<O: Output, V: IntoItems<O>> IntoItems<O> for Vec<V> {
    fn into_items(self, items: &mut Vec<O::Item>) -> Result<(), FunctionError> {
        self.into_iter().try_for_each(|v| v.into_items(items))
    }
}

impl<O: Output, V: IntoItems<O>, E: Into<FunctionError>> IntoItems<O> for Result<V, E> {
    fn into_items(self, items: &mut Vec<O::Item>) -> Result<(), FunctionError> {
        self.map_err(Into::into)?.into_items(items)
    }
}

/// A typed handle to one of a function's outputs, handed out when the output is declared.
pub struct OutputSlot<O> {
    index: usize,
    _output: PhantomData<fn() -> O>,
}

impl<O> Clone for OutputSlot<O> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<O> Copy for OutputSlot<O> {}

impl<O> std::fmt::Debug for OutputSlot<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OutputSlot({})", self.index)
    }
}

type BindOutput =
    Box<dyn FnOnce(&mut BindContext<'_>) -> Option<Arc<dyn Any + Send + Sync>> + Send>;

/// A function's declared outputs, before binding.
#[derive(Default)]
pub struct OutputDeclarations {
    pub(crate) pending: Vec<(&'static str, BindOutput)>,
}

impl std::fmt::Debug for OutputDeclarations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.pending.iter().map(|(name, _)| name))
            .finish()
    }
}

impl OutputDeclarations {
    /// Declares an output; the slot addresses it in every invocation.
    pub fn declare<A: OutputAttribute>(&mut self, attribute: A) -> OutputSlot<A::Output> {
        let index = self.pending.len();
        let bind: BindOutput = Box::new(move |cx| {
            attribute
                .bind(cx)
                .map(|o| Arc::new(BoundOutput(Arc::new(o))) as Arc<dyn Any + Send + Sync>)
        });
        self.pending.push((A::NAME, bind));
        OutputSlot {
            index,
            _output: PhantomData,
        }
    }
}

/// A bound output with its item type erased, able to start a buffer of its own type.
struct BoundOutput<O>(Arc<O>);

trait ErasedBuffer: Send {
    fn as_any(&mut self) -> &mut dyn Any;
    fn deliver<'a>(
        self: Box<Self>,
        data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>>;
}

struct Buffer<O: Output> {
    output: Arc<O>,
    items: Vec<O::Item>,
}

impl<O: Output> ErasedBuffer for Buffer<O> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }

    fn deliver<'a>(
        self: Box<Self>,
        data: &'a BindingData,
    ) -> BoxFuture<'a, Result<(), FunctionError>> {
        let Buffer { output, items } = *self;
        Box::pin(async move { output.deliver(items, data).await })
    }
}

/// The items one invocation has produced, per output, until they are delivered.
pub(crate) struct OutputSet {
    bound: Arc<[Arc<dyn Any + Send + Sync>]>,
    buffers: Vec<Option<Box<dyn ErasedBuffer>>>,
}

impl OutputSet {
    pub(crate) fn new(bound: Arc<[Arc<dyn Any + Send + Sync>]>) -> Self {
        let buffers = bound.iter().map(|_| None).collect();
        Self { bound, buffers }
    }

    /// Converts `value` into items of output `slot`.
    pub(crate) fn push<O: Output, V: IntoItems<O>>(
        &mut self,
        slot: OutputSlot<O>,
        value: V,
    ) -> Result<(), FunctionError> {
        let buffer = self.buffers[slot.index].get_or_insert_with(|| {
            let bound = self.bound[slot.index]
                .downcast_ref::<BoundOutput<O>>()
                .expect("an output slot addresses the output it was declared with");
            Box::new(Buffer::<O> {
                output: Arc::clone(&bound.0),
                items: Vec::new(),
            })
        });
        let buffer = buffer
            .as_any()
            .downcast_mut::<Buffer<O>>()
            .expect("buffers have their slot's output type");
        value.into_items(&mut buffer.items)
    }

    /// Delivers every output's items concurrently and waits for all of them.
    /// Fails if any failed; the error lists every failure (poison if any failure asks for it).
    pub(crate) async fn deliver(self, data: &BindingData) -> Result<(), FunctionError> {
        let pending: Vec<_> = self
            .buffers
            .into_iter()
            .flatten()
            .map(|b| b.deliver(data))
            .collect();
        let mut errors: Vec<FunctionError> = join_all(pending)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            n => {
                let poison = errors.iter().any(FunctionError::is_poison);
                let text = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                let err = FunctionError::retry(format!("{n} outputs failed: {text}"));
                Err(if poison { err.into_poison() } else { err })
            }
        }
    }
}
