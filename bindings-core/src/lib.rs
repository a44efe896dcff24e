//! The core of `bindings`: the host and its lifecycle, the traits every trigger and output binding
//! implements, the invocation pipeline, app settings and host.json.
//!
//! Users depend on the `bindings` facade crate; provider crates (`bindings-queue`, `bindings-kafka`,
//! `bindings-http`) depend on this one and implement [`Trigger`], [`TriggerAttribute`], [`Listener`],
//! [`OutputAttribute`] and [`Output`].
//!
//! One invocation flows in one direction, and so do the modules that carry it:
//!
//! ```text
//!  Listener (listener.rs)          polls a queue, serves a route, reads a channel
//!     | TriggerEvent (trigger.rs)  the event and its binding data
//!     v
//!  Invoker -> FunctionRuntime      (invocation.rs) one span per invocation, panics caught
//!     | FromInvocation             parameters bound by type
//!     v
//!  the user's fn
//!     | FunctionReturn, IntoItems  the return value into a ReturnSink: output items, the reply
//!     v
//!  outputs delivered, awaited      (output.rs) every output, concurrently
//!     |
//!     v
//!  Listener completes the event    delete / retry / poison a message, write the response
//! ```
//!
//! Nothing is acknowledged before its outputs are durable: an output failure is an invocation
//! failure.

mod bind;
mod binding_data;
mod context;
mod error;
mod function;
mod function_error;
mod host;
mod host_config;
mod invocation;
mod listener;
mod manual;
mod output;
mod payload;
mod settings;
pub mod telemetry;
mod template;
mod trigger;

pub use bind::{BindContext, BuildError, Problem, Registry, Resources, ShutdownHook};
pub use binding_data::BindingData;
pub use bindings_spec::{TimeSpanError, format_timespan, parse_timespan};
pub use context::{FunctionContext, LOG_TARGET, Logger};
pub use error::{Error, Result};
pub use function::{Function, FunctionBuilder, FunctionDef};
pub use function_error::{Disposition, FunctionError};
pub use host::{DEFAULT_SHUTDOWN_TIMEOUT, Host, HostBuilder, HostHandle};
pub use host_config::{
    ConfigProblem, Extension, ExtensionRegistration, HOST_FILE, HostConfig, HostConfigError,
    Section,
};
pub use invocation::{
    Finished, FromInvocation, FunctionReturn, Invocation, Invoker, ReplyPart, ReturnSink,
};
pub use listener::{Listener, TriggerAttribute};
pub use manual::{CallError, Manual, ManualEvent, ManualTrigger};
pub use output::{IntoItems, Output, OutputAttribute, OutputDeclarations, OutputSlot};
pub use payload::{IntoBody, Json, Payload};
pub use settings::{
    Connection, ENVIRONMENT_SETTING, LOCAL_SETTINGS_FILE, SettingSource, Settings, SettingsError,
};
pub use template::{Template, TemplateError};
pub use tokio_util::sync::CancellationToken;
pub use trigger::{BoxError, Trigger, TriggerEvent};

#[doc(no_inline)]
pub use bytes::Bytes;

/// What [`register_extension!`] expands to; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}
