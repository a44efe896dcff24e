//! The scale signal: each trigger's target-based hint (how many instances its input needs), read at
//! most once per the trigger's interval and published as the `bindings_scale_hint` gauge and as the
//! JSON of `GET /scale`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, join_all};
use prometheus_client::metrics::gauge::Gauge;
use serde_json::{Map, Value, json};

use crate::BoxError;

/// What a trigger's scale reading found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleReading {
    /// Instances wanted (Azure's target-based formula for the trigger).
    pub target_instances: u64,
    /// What it was computed from (queue length and batch settings, lag and threshold…), as JSON.
    pub input: Map<String, Value>,
}

/// A trigger's source of scale readings, registered at `build()` with
/// [`BindContext::scale_monitor`](crate::BindContext::scale_monitor).
pub trait ScaleMonitor: Send + Sync + 'static {
    /// Reads the input (asks the service) and computes the hint.
    fn read(&self) -> BoxFuture<'_, Result<ScaleReading, BoxError>>;

    /// The least time between two reads: scrapes in between get the last reading.
    fn interval(&self) -> Duration;
}

/// Every function's scale monitor: `handle.resources().get::<Scale>()`.
#[derive(Default)]
pub struct Scale {
    monitors: Mutex<Vec<Arc<Monitored>>>,
}

impl std::fmt::Debug for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scale").finish_non_exhaustive()
    }
}

struct Monitored {
    function: Arc<str>,
    trigger: &'static str,
    monitor: Box<dyn ScaleMonitor>,
    gauge: Gauge,
    last: tokio::sync::Mutex<Last>,
}

#[derive(Default)]
struct Last {
    read_at: Option<Instant>,
    good: Option<ScaleReading>,
    error: Option<String>,
}

/// One function's latest scale reading.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionScale {
    /// The function.
    pub function: Arc<str>,
    /// Its trigger attribute (`queue_trigger`).
    pub trigger: &'static str,
    /// The last successful reading, if any.
    pub reading: Option<ScaleReading>,
    /// Why the latest read failed, if it did (the reading is then the one before).
    pub error: Option<String>,
}

impl Scale {
    pub(crate) fn add(
        &self,
        function: Arc<str>,
        trigger: &'static str,
        monitor: Box<dyn ScaleMonitor>,
        gauge: Gauge,
    ) {
        self.monitors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(Monitored {
                function,
                trigger,
                monitor,
                gauge,
                last: tokio::sync::Mutex::new(Last::default()),
            }));
    }

    /// Every function's reading, refreshed where the last is older than its monitor's interval
    /// (all at once).
    pub async fn readings(&self) -> Vec<FunctionScale> {
        let monitors: Vec<Arc<Monitored>> = self
            .monitors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        join_all(monitors.iter().map(|m| m.refresh())).await
    }

    /// [`readings`](Self::readings) as the JSON of `GET /scale`: every function's name, trigger,
    /// `scale_hint` and `input`, and at the top the largest `scale_hint` (the instances the host
    /// wants). A function whose latest read failed carries `error` and its previous hint, if any.
    pub async fn json(&self) -> Value {
        let readings = self.readings().await;
        let top = readings
            .iter()
            .filter_map(|r| r.reading.as_ref().map(|r| r.target_instances))
            .max();
        let functions: Vec<Value> = readings
            .iter()
            .map(|r| {
                let mut entry = Map::new();
                entry.insert("name".into(), json!(&*r.function));
                entry.insert("trigger".into(), json!(r.trigger));
                if let Some(reading) = &r.reading {
                    entry.insert("scale_hint".into(), json!(reading.target_instances));
                    entry.insert("input".into(), Value::Object(reading.input.clone()));
                }
                if let Some(error) = &r.error {
                    entry.insert("error".into(), json!(error));
                }
                Value::Object(entry)
            })
            .collect();
        let mut body = Map::new();
        if let Some(top) = top {
            body.insert("scale_hint".into(), json!(top));
        }
        body.insert("functions".into(), Value::Array(functions));
        Value::Object(body)
    }
}

impl Monitored {
    async fn refresh(&self) -> FunctionScale {
        let mut last = self.last.lock().await;
        let due = last
            .read_at
            .is_none_or(|at| at.elapsed() >= self.monitor.interval());
        if due {
            match self.monitor.read().await {
                Ok(reading) => {
                    self.gauge
                        .set(i64::try_from(reading.target_instances).unwrap_or(i64::MAX));
                    last.good = Some(reading);
                    last.error = None;
                }
                Err(err) => {
                    tracing::warn!(function = %self.function, error = %err, "reading the scale hint failed");
                    last.error = Some(err.to_string());
                }
            }
            last.read_at = Some(Instant::now());
        }
        FunctionScale {
            function: Arc::clone(&self.function),
            trigger: self.trigger,
            reading: last.good.clone(),
            error: last.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    struct Counting {
        reads: Arc<AtomicU64>,
    }

    impl ScaleMonitor for Counting {
        fn read(&self) -> BoxFuture<'_, Result<ScaleReading, BoxError>> {
            Box::pin(async move {
                let n = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
                if n == 2 {
                    return Err("the service did not answer".into());
                }
                let mut input = Map::new();
                input.insert("queue_length".into(), json!(n * 10));
                Ok(ScaleReading {
                    target_instances: n,
                    input,
                })
            })
        }
        fn interval(&self) -> Duration {
            Duration::ZERO
        }
    }

    #[tokio::test]
    async fn the_json_carries_each_hint_its_input_and_the_largest_and_keeps_the_last_on_error() {
        let scale = Scale::default();
        let reads = Arc::new(AtomicU64::new(0));
        let gauge = Gauge::default();
        scale.add(
            "orders".into(),
            "queue_trigger",
            Box::new(Counting {
                reads: Arc::clone(&reads),
            }),
            gauge.clone(),
        );
        let first = scale.json().await;
        assert_eq!(
            first,
            json!({"scale_hint": 1, "functions": [
                {"name": "orders", "trigger": "queue_trigger", "scale_hint": 1, "input": {"queue_length": 10}}
            ]})
        );
        assert_eq!(gauge.get(), 1);
        let failed = scale.json().await;
        assert_eq!(failed["functions"][0]["scale_hint"], 1);
        assert_eq!(
            failed["functions"][0]["error"],
            "the service did not answer"
        );
        let third = scale.json().await;
        assert_eq!(third["scale_hint"], 3);
        assert!(third["functions"][0].get("error").is_none());
        assert_eq!(gauge.get(), 3);
    }

    struct Slow {
        reads: Arc<AtomicU64>,
    }

    impl ScaleMonitor for Slow {
        fn read(&self) -> BoxFuture<'_, Result<ScaleReading, BoxError>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {
                Ok(ScaleReading {
                    target_instances: 0,
                    input: Map::new(),
                })
            })
        }
        fn interval(&self) -> Duration {
            Duration::from_secs(3600)
        }
    }

    #[tokio::test]
    async fn scrapes_within_the_interval_do_not_read_again() {
        let scale = Scale::default();
        let reads = Arc::new(AtomicU64::new(0));
        scale.add(
            "idle".into(),
            "queue_trigger",
            Box::new(Slow {
                reads: Arc::clone(&reads),
            }),
            Gauge::default(),
        );
        for _ in 0..5 {
            scale.readings().await;
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }
}
