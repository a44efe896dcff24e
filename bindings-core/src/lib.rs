//! The core of `bindings`: the host and its lifecycle, the traits every trigger and output binding
//! implements, the invocation pipeline, app settings and host.json.
//!
//! Users depend on the `bindings` facade crate; provider crates (`bindings-queue`, `bindings-kafka`,
//! `bindings-http`) depend on this one and implement [`Trigger`], [`TriggerAttribute`], [`Listener`],
//! [`OutputAttribute`] and [`Output`].
//!
//! One invocation flows: listener -> [`TriggerEvent`] -> parameters bound by type ([`FromInvocation`])
//! -> the function -> its return value ([`FunctionReturn`], [`IntoItems`]) -> every output delivered and
//! awaited -> the listener completes the event with the result. Nothing is acknowledged before its
//! outputs are durable.

mod bind;
mod binding_data;
mod context;
mod error;
mod function;
mod function_error;
mod host;
mod host_config;
mod invocation;
mod manual;
mod output;
mod payload;
mod settings;
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
    Acks, AuthenticationMode, Compression, ConfigProblem, HOST_FILE, HostConfig, HostConfigError,
    HttpOptions, KafkaOptions, MessageEncoding, Partitioner, Protocol, QueuesOptions,
};
pub use invocation::{Completion, Finished, FromInvocation, FunctionReturn, Invocation, ReplyPart};
pub use manual::{CallError, Manual, ManualEvent, ManualTrigger};
pub use output::{IntoItems, Output, OutputAttribute, OutputDeclarations, OutputSlot};
pub use payload::{Json, Payload};
pub use settings::{
    Connection, ENVIRONMENT_SETTING, LOCAL_SETTINGS_FILE, SettingSource, Settings, SettingsError,
};
pub use template::{Template, TemplateError};
pub use tokio_util::sync::CancellationToken;
pub use trigger::{BoxError, Invoker, Listener, Trigger, TriggerAttribute, TriggerEvent};

#[doc(no_inline)]
pub use bytes::Bytes;
