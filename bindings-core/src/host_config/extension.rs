//! [`Extension`]: a binding's host.json section, registered by its provider crate.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::Section;

/// A binding's options as its host.json section (`extensions.<NAME>`) holds them.
///
/// The provider crate implements it on its options type and registers it with
/// [`register_extension!`](crate::register_extension); [`HostConfig`](super::HostConfig) then reads
/// the section with [`read`](Self::read) whenever it reads host.json, and hands the options out with
/// [`HostConfig::extension`](super::HostConfig::extension). See [`Section`] for an example.
pub trait Extension: fmt::Debug + Clone + Default + Send + Sync + 'static {
    /// The section's key under `extensions` (`"queues"`).
    const NAME: &'static str;

    /// Reads the section: each key through `section`'s typed readers, which record every problem
    /// at its JSON path. Keys not read are warned about.
    fn read(section: &mut Section<'_>) -> Self;
}

/// One registered [`Extension`]: what [`register_extension!`](crate::register_extension) submits.
#[derive(Debug)]
pub struct ExtensionRegistration {
    pub(super) name: &'static str,
    pub(super) read: fn(&mut Section<'_>) -> Arc<dyn Stored>,
}

impl ExtensionRegistration {
    /// The registration of `T`.
    pub const fn of<T: Extension>() -> Self {
        Self {
            name: T::NAME,
            read: read_stored::<T>,
        }
    }
}

fn read_stored<T: Extension>(section: &mut Section<'_>) -> Arc<dyn Stored> {
    Arc::new(T::read(section))
}

inventory::collect!(ExtensionRegistration);

/// A section's options, type-erased.
pub(super) trait Stored: fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Extension> Stored for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Registers an [`Extension`], so that every host.json read from then on reads its section.
///
/// Write it once, in the provider crate, next to the type:
/// `bindings_core::register_extension!(QueuesOptions);`. See [`Section`] for an example.
#[macro_export]
macro_rules! register_extension {
    ($options:ty) => {
        $crate::__private::inventory::submit! {
            $crate::ExtensionRegistration::of::<$options>()
        }
    };
}
