//! The host: builds every function (resolving and validating all settings at once), runs their
//! listeners, and shuts down in order — stop triggers, drain invocations, flush outputs.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bind::{BindContext, Problem, Resources, ShutdownHook};
use crate::function::{BoundFunction, Function, FunctionDef};
use crate::invocation::panic_message;
use crate::manual::{self, ManualEvent};
use crate::telemetry::{self, ADMIN_LISTEN_ADDRESS_SETTING, Health, Metrics, Scale};
use crate::{BindingData, BuildError, Bytes, CallError, Error, HostConfig, Settings, TriggerEvent};

/// The default time [`Host::run_until_shutdown`] gives in-flight invocations to finish.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Collects settings, host.json and functions; [`build`](Self::build) checks them all.
#[derive(Debug)]
pub struct HostBuilder {
    resources: Resources,
    settings: Option<Settings>,
    host_config: Option<HostConfig>,
    functions: Vec<Function>,
    shutdown_timeout: Duration,
}

impl HostBuilder {
    /// App settings. Default: [`Settings::from_env`].
    #[must_use]
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Host configuration. Default: [`HostConfig::default`].
    #[must_use]
    pub fn host_config(mut self, host_config: HostConfig) -> Self {
        self.host_config = Some(host_config);
        self
    }

    /// Registers a function annotated with a trigger attribute: `.function::<my_function>()`.
    #[must_use]
    pub fn function<F: FunctionDef>(self) -> Self {
        self.add_function(F::describe())
    }

    /// Registers a function descriptor written by hand (see [`Function::builder`]).
    #[must_use]
    pub fn add_function(mut self, function: Function) -> Self {
        self.functions.push(function);
        self
    }

    /// Provides a shared object the bindings look up by type instead of creating their own — e.g. the
    /// queue trigger's table of queue services, to run functions on the in-memory queue.
    #[must_use]
    pub fn resource<R: Send + Sync + 'static>(mut self, resource: Arc<R>) -> Self {
        self.resources.insert(resource);
        self
    }

    /// How long [`Host::run_until_shutdown`] lets in-flight invocations finish. Default 30 s.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Resolves and validates every function's settings and bindings. Fails with one error listing
    /// every problem found (never a secret's value).
    pub async fn build(self) -> Result<Host, Error> {
        let settings = self.settings.unwrap_or_else(Settings::from_env);
        let host_config = self.host_config.unwrap_or_default();
        for warning in &host_config.warnings {
            tracing::warn!("host.json: {warning}");
        }
        let mut problems = Vec::new();
        let mut resources = self.resources;
        // The telemetry every host has (an application may have put its own `Metrics` in place).
        resources.get_or_default::<Metrics>();
        resources.get_or_default::<Health>();
        resources.get_or_default::<Scale>();
        let admin = match telemetry::address(&settings).await {
            Ok(Some(address)) => match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => Some(listener),
                Err(err) => {
                    problems.push(Problem {
                        function: None,
                        binding: None,
                        message: format!(
                            "`{ADMIN_LISTEN_ADDRESS_SETTING}`: cannot listen on {address}: {err} \
                             (is another process using the port?)"
                        ),
                    });
                    None
                }
            },
            Ok(None) => None,
            Err(message) => {
                problems.push(Problem {
                    function: None,
                    binding: None,
                    message,
                });
                None
            }
        };
        let mut shutdown_hooks = Vec::new();
        let mut bound: Vec<Box<dyn BoundFunction>> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for function in self.functions {
            if !seen.insert(function.name.to_ascii_lowercase()) {
                problems.push(Problem {
                    function: Some(function.name.clone()),
                    binding: None,
                    message:
                        "registered twice (function names are case-insensitive and must be unique)"
                            .into(),
                });
                continue;
            }
            let mut cx = BindContext {
                settings: &settings,
                host_config: &host_config,
                resources: &mut resources,
                shutdown_hooks: &mut shutdown_hooks,
                problems: &mut problems,
                function: &function.name,
                trigger: function.trigger,
                binding: None,
            };
            let name = function.name.clone();
            let before = cx.problems.len();
            match (function.bind)(&mut cx) {
                Some(function) if problems.len() == before => bound.push(function),
                Some(_) => {}
                None if problems.len() == before => problems.push(Problem {
                    function: Some(name),
                    binding: None,
                    message: "could not be bound (a binding gave up without saying why)".into(),
                }),
                None => {}
            }
        }
        if !problems.is_empty() {
            return Err(BuildError { problems }.into());
        }
        if bound.is_empty() {
            tracing::warn!("the host has no functions");
        }
        Ok(Host {
            functions: bound,
            admin,
            resources: Arc::new(resources),
            shutdown_hooks,
            shutdown_timeout: self.shutdown_timeout,
        })
    }
}

/// A built host, ready to start.
///
/// ```no_run
/// # async fn run() -> Result<(), bindings_core::Error> {
/// use bindings_core::{Host, HostConfig, Settings};
///
/// Host::builder()
///     .settings(Settings::from_env_and_local_file()?)
///     .host_config(HostConfig::from_file_or_default("host.json")?)
///     // .function::<my_function>()
///     .build()
///     .await?
///     .run_until_shutdown()
///     .await
/// # }
/// ```
pub struct Host {
    functions: Vec<Box<dyn BoundFunction>>,
    /// The admin endpoint's listener, bound at `build()` when `AdminListenAddress` is set.
    admin: Option<tokio::net::TcpListener>,
    resources: Arc<Resources>,
    shutdown_hooks: Vec<(String, ShutdownHook)>,
    shutdown_timeout: Duration,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("functions", &self.function_names())
            .finish_non_exhaustive()
    }
}

impl Host {
    /// Starts describing a host.
    pub fn builder() -> HostBuilder {
        HostBuilder {
            resources: Resources::default(),
            settings: None,
            host_config: None,
            functions: Vec::new(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }

    /// The registered functions' names.
    pub fn function_names(&self) -> Vec<&str> {
        self.functions.iter().map(|f| f.name()).collect()
    }

    /// Shared objects the bindings created (e.g. the HTTP trigger's routes).
    pub fn resources(&self) -> &Arc<Resources> {
        &self.resources
    }

    /// Starts every function's listener on the current tokio runtime.
    pub fn start(self) -> HostHandle {
        let shutdown = CancellationToken::new();
        let failed = CancellationToken::new();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let tracker = TaskTracker::new();
        let mut listeners = JoinSet::new();
        let mut functions = Vec::with_capacity(self.functions.len());
        let health = self.resources.get::<Health>().unwrap_or_default();
        let admin_stop = CancellationToken::new();
        let admin_address = self.admin.and_then(|listener| {
            let address = listener.local_addr().ok();
            tracing::info!(address = ?address, "admin endpoint listening (/metrics, /healthz, /readyz, /scale)");
            tokio::spawn(telemetry::serve(
                listener,
                telemetry::router(&self.resources),
                admin_stop.clone(),
            ));
            address
        });
        for function in self.functions {
            let name = function.name().to_owned();
            functions.push(name.clone());
            let run = function.start(shutdown.clone(), tracker.clone());
            let (failures, failed) = (Arc::clone(&failures), failed.clone());
            let health = Arc::clone(&health);
            health.started(&name);
            listeners.spawn(async move {
                // A panicking listener is a failed listener: reported, and it ends the host.
                let outcome = AssertUnwindSafe(run).catch_unwind().await.unwrap_or_else(|panic| {
                    Err(format!("its listener panicked: {}", panic_message(&*panic)).into())
                });
                if let Err(source) = outcome {
                    tracing::error!(function = %name, error = %source, "the function's trigger stopped");
                    health.listener_failed(&name, &source.to_string());
                    lock(&failures).push(Error::Listener {
                        function: name.clone(),
                        source,
                    });
                    failed.cancel();
                }
                name
            });
        }
        tracing::info!(functions = listeners.len(), "host started");
        HostHandle {
            shutdown,
            failed,
            failures,
            tracker,
            listeners,
            functions,
            health,
            admin_stop,
            admin_address,
            resources: self.resources,
            shutdown_hooks: self.shutdown_hooks,
            shutdown_timeout: self.shutdown_timeout,
        }
    }

    /// Starts, runs until Ctrl-C or SIGTERM (or until a trigger fails), then shuts down with the
    /// configured timeout: stop triggers, drain in-flight invocations, flush outputs.
    pub async fn run_until_shutdown(self) -> Result<(), Error> {
        let signals = Signals::install()?;
        self.run_until(signals.recv()).await
    }

    /// Starts, runs until `stop` completes (or a trigger fails), then shuts down with the configured
    /// timeout. For applications with their own notion of "stop" (a `CancellationToken`, a channel).
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> Result<(), Error> {
        let handle = self.start();
        tokio::select! {
            () = stop => tracing::info!("stop requested; shutting down"),
            () = handle.failed.cancelled() => tracing::info!("a trigger failed; shutting down"),
        }
        let timeout = handle.shutdown_timeout;
        handle.shutdown(timeout).await
    }
}

/// Ctrl-C and SIGTERM, registered before the host starts so no signal is missed.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, Error> {
        Ok(Self {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(Error::Signal)?,
        })
    }

    async fn recv(mut self) {
        let ctrl_c = async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %err, "cannot listen for Ctrl-C; only SIGTERM stops the host");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let name = tokio::select! {
            () = ctrl_c => "Ctrl-C",
            _ = self.terminate.recv() => "SIGTERM",
        };
        #[cfg(not(unix))]
        let name = {
            ctrl_c.await;
            "Ctrl-C"
        };
        tracing::info!("{name} received");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running host.
pub struct HostHandle {
    shutdown: CancellationToken,
    failed: CancellationToken,
    failures: Arc<Mutex<Vec<Error>>>,
    tracker: TaskTracker,
    /// Each function's listener; it returns the function's name when it has stopped.
    listeners: JoinSet<String>,
    /// The functions' names, in registration order.
    functions: Vec<String>,
    health: Arc<Health>,
    /// Stops the admin endpoint, once the host has stopped.
    admin_stop: CancellationToken,
    admin_address: Option<SocketAddr>,
    resources: Arc<Resources>,
    shutdown_hooks: Vec<(String, ShutdownHook)>,
    shutdown_timeout: Duration,
}

impl std::fmt::Debug for HostHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostHandle")
            .field("listeners", &self.listeners.len())
            .field("in_flight", &self.tracker.len())
            .finish_non_exhaustive()
    }
}

impl HostHandle {
    /// Runs manually triggered function `name` with `payload` through the full pipeline (parameters,
    /// outputs, delivery) and waits for it.
    pub async fn call(&self, name: &str, payload: impl Into<Bytes>) -> Result<(), CallError> {
        self.call_with(name, payload, BindingData::new()).await
    }

    /// [`call`](Self::call) with binding data for `{name}` expressions in the function's outputs.
    pub async fn call_with(
        &self,
        name: &str,
        payload: impl Into<Bytes>,
        binding_data: BindingData,
    ) -> Result<(), CallError> {
        let event = TriggerEvent::new(
            ManualEvent {
                payload: payload.into(),
            },
            binding_data,
        );
        manual::call(&self.resources, name, event).await
    }

    /// Shared objects the bindings created.
    pub fn resources(&self) -> &Arc<Resources> {
        &self.resources
    }

    /// The address the admin endpoint listens on (`AdminListenAddress`), if it is on.
    pub fn admin_address(&self) -> Option<SocketAddr> {
        self.admin_address
    }

    /// Work in flight: invocations and their completions.
    pub fn in_flight(&self) -> usize {
        self.tracker.len()
    }

    /// Resolves when a function's trigger has stopped with an error.
    pub async fn failed(&self) {
        self.failed.cancelled().await;
    }

    /// Stops the host: listeners stop taking events, in-flight invocations finish (up to `timeout`),
    /// then outputs are flushed. The first failure seen while running or stopping is returned.
    pub async fn shutdown(mut self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        // Not ready from now on, so an orchestrator stops sending work; alive until stopped.
        self.health.stopping();
        tracing::info!(
            in_flight = self.tracker.len(),
            "shutting down: stopping triggers"
        );
        self.shutdown.cancel();
        let mut stopping: Vec<String> = self.functions.clone();
        let listeners_stopped = tokio::time::timeout_at(deadline, async {
            while let Some(stopped) = self.listeners.join_next().await {
                if let Ok(name) = stopped {
                    stopping.retain(|function| *function != name);
                }
            }
        })
        .await
        .is_ok();
        self.tracker.close();
        let drained = listeners_stopped
            && tokio::time::timeout_at(deadline, self.tracker.wait())
                .await
                .is_ok();
        let mut errors = std::mem::take(&mut *lock(&self.failures));
        if !drained {
            self.listeners.abort_all();
            let running = self.tracker.len();
            if listeners_stopped {
                stopping.clear();
            }
            tracing::error!(
                running,
                triggers_not_stopped = ?stopping,
                ?timeout,
                "shutdown timeout passed before everything stopped"
            );
            errors.push(Error::ShutdownTimeout {
                timeout,
                running,
                triggers: stopping,
            });
        }
        for (name, hook) in self.shutdown_hooks {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1));
            if let Err(message) = hook(left).await {
                tracing::error!(%name, %message, "shutdown work failed");
                errors.push(Error::ShutdownHook { name, message });
            }
        }
        self.admin_stop.cancel();
        tracing::info!("host stopped");
        match errors.into_iter().next() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
