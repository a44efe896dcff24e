//! Liveness and readiness: what `/healthz` and `/readyz` answer.
//!
//! A function is ready when its listener has started and not failed, and every service its
//! bindings use (the storage account, the brokers) answered at its last attempt. A binding reports
//! that through the [`ServiceHealth`] it took at `build()`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus_client::metrics::gauge::Gauge;

/// Every function's health, and whether the host is stopping: `handle.resources().get::<Health>()`.
#[derive(Debug, Default)]
pub struct Health {
    functions: Mutex<Vec<Arc<FunctionHealth>>>,
    stopping: AtomicBool,
    failed: Mutex<Option<String>>,
}

/// One function's health.
#[derive(Debug)]
pub struct FunctionHealth {
    name: Arc<str>,
    state: Mutex<State>,
    gauge: Gauge,
}

#[derive(Debug, Default)]
struct State {
    started: bool,
    failed: Option<String>,
    /// Per binding that uses a service: `None` while it answered at its last attempt (or has not
    /// tried yet), else why not.
    services: Vec<(&'static str, Option<String>)>,
}

/// A binding's report on the service it uses: call [`reachable`](Self::reachable) after a request
/// that got an answer and [`unreachable`](Self::unreachable) after one that did not.
#[derive(Debug, Clone)]
pub struct ServiceHealth {
    function: Arc<FunctionHealth>,
    index: usize,
    /// Whether its last report was "unreachable": a report that changes nothing takes no lock.
    down: Arc<AtomicBool>,
}

impl ServiceHealth {
    /// The service answered.
    pub fn reachable(&self) {
        if self.down.load(Ordering::Relaxed) {
            self.set(None);
        }
    }

    /// Whether the last report said the service answered (or none was made yet).
    pub fn is_reachable(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    /// The service did not answer, or cannot serve this function: `reason` says why (never a
    /// secret).
    pub fn unreachable(&self, reason: impl std::fmt::Display) {
        self.set(Some(reason.to_string()));
    }

    fn set(&self, reason: Option<String>) {
        let function = &self.function;
        let mut state = lock(&function.state);
        self.down.store(reason.is_some(), Ordering::Relaxed);
        let (binding, current) = &mut state.services[self.index];
        if current.is_some() == reason.is_some() {
            *current = reason;
            return;
        }
        match &reason {
            Some(why) => {
                tracing::warn!(function = %function.name, binding = %binding, reason = %why, "not ready: its service is unreachable");
            }
            None => {
                tracing::info!(function = %function.name, binding = %binding, "ready again: its service answers");
            }
        }
        *current = reason;
        function.gauge.set(i64::from(state.problem().is_none()));
    }
}

impl State {
    fn problem(&self) -> Option<String> {
        if let Some(failed) = &self.failed {
            return Some(format!("its listener failed: {failed}"));
        }
        if !self.started {
            return Some("its listener has not started".into());
        }
        self.services.iter().find_map(|(binding, reason)| {
            reason
                .as_ref()
                .map(|why| format!("#[{binding}]: service unreachable: {why}"))
        })
    }
}

impl FunctionHealth {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the function is not ready, if it is not.
    pub fn problem(&self) -> Option<String> {
        lock(&self.state).problem()
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = lock(&self.state);
        change(&mut state);
        self.gauge.set(i64::from(state.problem().is_none()));
    }
}

impl Health {
    /// The health of function `name`, created on first use; `gauge` is its `bindings_ready` series.
    pub(crate) fn function(&self, name: &Arc<str>, gauge: Gauge) -> Arc<FunctionHealth> {
        let mut functions = lock(&self.functions);
        if let Some(found) = functions.iter().find(|f| f.name == *name) {
            return Arc::clone(found);
        }
        let created = Arc::new(FunctionHealth {
            name: Arc::clone(name),
            state: Mutex::new(State::default()),
            gauge,
        });
        functions.push(Arc::clone(&created));
        created
    }

    /// A new service report for `binding` of `function`.
    pub(crate) fn service(function: &Arc<FunctionHealth>, binding: &'static str) -> ServiceHealth {
        let mut state = lock(&function.state);
        state.services.push((binding, None));
        ServiceHealth {
            function: Arc::clone(function),
            index: state.services.len() - 1,
            down: Arc::default(),
        }
    }

    pub(crate) fn started(&self, name: &str) {
        if let Some(function) = self.find(name) {
            function.update(|state| state.started = true);
        }
    }

    pub(crate) fn listener_failed(&self, name: &str, error: &str) {
        if let Some(function) = self.find(name) {
            function.update(|state| state.failed = Some(error.to_owned()));
        }
        lock(&self.failed).get_or_insert_with(|| format!("function `{name}`: {error}"));
    }

    pub(crate) fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn find(&self, name: &str) -> Option<Arc<FunctionHealth>> {
        lock(&self.functions)
            .iter()
            .find(|f| &*f.name == name)
            .cloned()
    }

    /// Liveness: `Err` with the reason once a function's listener has failed (the host then stops).
    pub fn liveness(&self) -> Result<(), String> {
        match &*lock(&self.failed) {
            Some(failed) => Err(format!("a trigger failed: {failed}")),
            None => Ok(()),
        }
    }

    /// Readiness: `Err` with one line per function that is not ready, or "shutting down".
    pub fn readiness(&self) -> Result<(), String> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err("shutting down".into());
        }
        let problems: Vec<String> = lock(&self.functions)
            .iter()
            .filter_map(|f| f.problem().map(|p| format!("function `{}`: {p}", f.name)))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_ready_once_started_and_while_its_services_answer() {
        let health = Health::default();
        let gauge = Gauge::default();
        let f = health.function(&Arc::from("forward"), gauge.clone());
        let queue = Health::service(&f, "queue_trigger");
        let kafka = Health::service(&f, "kafka_output");
        assert_eq!(
            health.readiness().unwrap_err(),
            "function `forward`: its listener has not started"
        );
        health.started("forward");
        assert_eq!(health.readiness(), Ok(()));
        assert_eq!(gauge.get(), 1);
        kafka.unreachable("all brokers are down");
        assert_eq!(
            health.readiness().unwrap_err(),
            "function `forward`: #[kafka_output]: service unreachable: all brokers are down"
        );
        assert_eq!(gauge.get(), 0);
        queue.reachable();
        kafka.reachable();
        assert_eq!(health.readiness(), Ok(()));
        assert_eq!(health.liveness(), Ok(()));
        health.listener_failed("forward", "credentials refused");
        assert!(
            health
                .readiness()
                .unwrap_err()
                .contains("its listener failed")
        );
        assert!(
            health
                .liveness()
                .unwrap_err()
                .contains("credentials refused")
        );
        health.stopping();
        assert_eq!(health.readiness().unwrap_err(), "shutting down");
    }
}
