//! Start-up: turning each function's attributes into running parts, with every problem collected.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::telemetry::{
    FunctionHealth, FunctionLabels, Health, Metrics, Scale, ScaleMonitor, ServiceHealth,
};
use crate::{Connection, HostConfig, Settings, SettingsError};

/// One thing wrong with a function's configuration, found at `build()`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The function, if the problem is a function's.
    pub function: Option<String>,
    /// The attribute (`queue_trigger`, `kafka_output`, …), if the problem is a binding's.
    pub binding: Option<&'static str>,
    /// What is wrong and what to do; never a secret's value.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.function, self.binding) {
            (Some(function), Some(binding)) => write!(f, "function `{function}`, #[{binding}]: ")?,
            (Some(function), None) => write!(f, "function `{function}`: ")?,
            (None, Some(binding)) => write!(f, "#[{binding}]: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// Every problem found while building the host, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("the host cannot start: {} problem(s):{}", problems.len(), problems.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
pub struct BuildError {
    /// The problems, in the order found.
    pub problems: Vec<Problem>,
}

/// Shared objects of a host, one per type (a producer cache, a route table, a registry of manual
/// functions), created on first use while functions are bound.
#[derive(Default)]
pub struct Resources {
    map: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("count", &self.map.len())
            .finish()
    }
}

impl Resources {
    /// The resource of type `R`, created with `R::default()` on first use.
    pub fn get_or_default<R: Default + Send + Sync + 'static>(&mut self) -> Arc<R> {
        let entry = self
            .map
            .entry(TypeId::of::<R>())
            .or_insert_with(|| Arc::new(R::default()));
        Arc::clone(entry)
            .downcast::<R>()
            .expect("resources are keyed by their own TypeId")
    }

    /// Puts `resource` in place (replacing one of the same type), so bindings find it instead of
    /// creating a default one.
    pub fn insert<R: Send + Sync + 'static>(&mut self, resource: Arc<R>) {
        self.map.insert(TypeId::of::<R>(), resource);
    }

    /// The resource of type `R`, if a binding created one.
    pub fn get<R: Send + Sync + 'static>(&self) -> Option<Arc<R>> {
        self.map
            .get(&TypeId::of::<R>())
            .map(|r| Arc::clone(r).downcast::<R>().expect("keyed by TypeId"))
    }
}

/// Work a binding needs done when the host stops, after every invocation has finished
/// (e.g. flushing producers). It gets the time left before the shutdown deadline.
pub type ShutdownHook =
    Box<dyn FnOnce(Duration) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// What a trigger or output attribute sees while it is bound at `build()`.
pub struct BindContext<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) host_config: &'a HostConfig,
    pub(crate) resources: &'a mut Resources,
    pub(crate) shutdown_hooks: &'a mut Vec<(String, ShutdownHook)>,
    pub(crate) problems: &'a mut Vec<Problem>,
    pub(crate) function: &'a str,
    /// The function's trigger attribute (`queue_trigger`).
    pub(crate) trigger: &'static str,
    pub(crate) binding: Option<&'static str>,
}

impl fmt::Debug for BindContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindContext")
            .field("function", &self.function)
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

impl<'a> BindContext<'a> {
    /// The host's app settings.
    pub fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The host's configuration (host.json).
    pub fn host_config(&self) -> &'a HostConfig {
        self.host_config
    }

    /// The function being bound.
    pub fn function_name(&self) -> &'a str {
        self.function
    }

    /// Whether `AZURE_FUNCTIONS_ENVIRONMENT` is `Development`.
    pub fn is_development(&self) -> bool {
        self.settings.is_development()
    }

    /// Records a problem of this function and binding. `build()` fails with all of them at the end.
    /// Never put a secret's value in `message`.
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(Problem {
            function: Some(self.function.to_owned()),
            binding: self.binding,
            message: message.into(),
        });
    }

    /// [`Settings::resolve`], recording a problem (and returning `None`) on failure.
    pub fn resolve(&mut self, option: &str, text: &str) -> Option<String> {
        let resolved = self.settings.resolve(option, text);
        self.recorded(resolved)
    }

    /// [`Settings::resolve_or_literal`]: a setting's name, `%Setting%`, or a literal that `literal`
    /// accepts; records a problem (and returns `None`) otherwise.
    pub fn resolve_or_literal(
        &mut self,
        option: &str,
        text: &str,
        literal: impl FnOnce(&str) -> Result<(), String>,
    ) -> Option<String> {
        let resolved = self.settings.resolve_or_literal(option, text, literal);
        self.recorded(resolved)
    }

    /// [`Settings::resolve_secret`]: a credential from the app setting it names; records a problem
    /// (and returns `None`) when that setting is not set or the text cannot name one.
    pub fn resolve_secret(&mut self, option: &str, text: &str) -> Option<String> {
        let resolved = self.settings.resolve_secret(option, text);
        self.recorded(resolved)
    }

    /// The app root: relative file paths in options are read from here. It is the directory of the
    /// host.json the host was configured with ([`HostConfig::from_file`]), else the current directory.
    pub fn app_root(&self) -> PathBuf {
        self.host_config.app_root()
    }

    /// [`Settings::expand`] (`%Name%` only), recording a problem on failure.
    pub fn expand(&mut self, option: &str, text: &str) -> Option<String> {
        let expanded = self.settings.expand(option, text);
        self.recorded(expanded)
    }

    /// [`Settings::connection`], recording a problem on failure.
    pub fn connection(&mut self, option: &str, name: &str) -> Option<Connection> {
        let connection = self.settings.connection(option, name);
        self.recorded(connection)
    }

    /// The value, or `None` after recording the error as a problem.
    fn recorded<T>(&mut self, result: Result<T, SettingsError>) -> Option<T> {
        result.map_err(|e| self.problem(e.to_string())).ok()
    }

    /// The host-wide resource of type `R` (created on first use).
    pub fn resource<R: Default + Send + Sync + 'static>(&mut self) -> Arc<R> {
        self.resources.get_or_default::<R>()
    }

    /// Registers work to run at shutdown, after invocations have drained. `name` appears in logs.
    pub fn on_shutdown(&mut self, name: impl Into<String>, hook: ShutdownHook) {
        self.shutdown_hooks.push((name.into(), hook));
    }

    /// The host's metrics, to register a binding's [`MetricSet`](crate::telemetry::MetricSet) or
    /// take handles on the shared families.
    pub fn metrics(&mut self) -> Arc<Metrics> {
        self.resource::<Metrics>()
    }

    /// The labels of this function's metrics.
    pub fn function_labels(&self) -> FunctionLabels {
        FunctionLabels {
            function: self.function.into(),
            trigger: self.trigger,
        }
    }

    /// A report on the service this binding uses, for readiness: the function is not ready while
    /// any of its reports says the service is unreachable.
    pub fn service_health(&mut self) -> ServiceHealth {
        let function = self.function_health();
        Health::service(&function, self.binding.unwrap_or(self.trigger))
    }

    /// Registers this function's scale monitor: its readings become the `bindings_scale_hint`
    /// gauge and the function's entry in `GET /scale`.
    pub fn scale_monitor(&mut self, monitor: impl ScaleMonitor) {
        let labels = self.function_labels();
        let gauge = self
            .metrics()
            .shared()
            .scale_hint
            .get_or_create_owned(&labels);
        self.resource::<Scale>()
            .add(labels.function, labels.trigger, Box::new(monitor), gauge);
    }

    /// This function's health, created on first use.
    pub(crate) fn function_health(&mut self) -> Arc<FunctionHealth> {
        let labels = self.function_labels();
        let gauge = self.metrics().shared().ready.get_or_create_owned(&labels);
        self.resource::<Health>().function(&labels.function, gauge)
    }
}

/// A registry keyed by function name (case-insensitive), for resources that look functions up.
#[derive(Debug)]
pub struct Registry<V> {
    /// Lower-cased name -> (name as registered, value).
    entries: Mutex<HashMap<String, (String, V)>>,
}

impl<V> Default for Registry<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Registry<V> {
    /// Adds `value` under `name`.
    pub fn insert(&self, name: &str, value: V) {
        self.lock()
            .insert(name.to_ascii_lowercase(), (name.to_owned(), value));
    }

    /// The value under `name`, in any case.
    pub fn get(&self, name: &str) -> Option<V> {
        self.lock()
            .get(&name.to_ascii_lowercase())
            .map(|(_, value)| value.clone())
    }

    /// Every name as registered, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().values().map(|(name, _)| name.clone()).collect();
        names.sort();
        names
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, V)>> {
        // A panic while holding this lock cannot leave the map half-updated (single inserts and reads).
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
