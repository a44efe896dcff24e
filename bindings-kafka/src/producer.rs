//! Producers, shared per resolved configuration, logging through `tracing`, flushed at shutdown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bindings_core::BindContext;
use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, Producer as _};
use rdkafka::util::Timeout;

use crate::config::client_config;
use crate::{Error, ProducerOptions};

/// Sends librdkafka's log lines and errors to `tracing` (target `bindings_kafka::librdkafka`).
#[derive(Debug, Clone, Default)]
pub struct TracingContext {
    brokers: String,
}

impl TracingContext {
    /// Logs naming `brokers`.
    pub(crate) fn new(brokers: String) -> Self {
        Self { brokers }
    }
}

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let brokers = &self.brokers;
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "bindings_kafka::librdkafka", %brokers, facility, "{message}");
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "bindings_kafka::librdkafka", %brokers, facility, "{message}");
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "bindings_kafka::librdkafka", %brokers, facility, "{message}");
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "bindings_kafka::librdkafka", %brokers, facility, "{message}");
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "bindings_kafka::librdkafka", brokers = %self.brokers, %error, "{reason}");
    }
}

/// The producer type of this crate.
pub type Producer = FutureProducer<TracingContext>;

/// A producer and the count of messages sent through it whose delivery is not settled yet.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) producer: Arc<Producer>,
    pub(crate) pending: Arc<AtomicUsize>,
}

/// The host's producers, one per distinct configuration.
#[derive(Default)]
pub struct Producers {
    cache: Mutex<HashMap<ProducerOptions, Shared>>,
    flush_registered: AtomicBool,
}

impl std::fmt::Debug for Producers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producers")
            .field("count", &self.lock().len())
            .finish()
    }
}

impl Producers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ProducerOptions, Shared>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many distinct producers exist.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// The configuration of every producer (secrets hidden in `Debug`).
    pub fn configurations(&self) -> Vec<ProducerOptions> {
        self.lock().keys().cloned().collect()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The producer for `options`, created (and its brokers probed in the background) on first use.
    pub(crate) fn get_or_create(&self, options: &ProducerOptions) -> Result<Shared, Error> {
        let mut cache = self.lock();
        if let Some(shared) = cache.get(options) {
            return Ok(shared.clone());
        }
        let context = TracingContext {
            brokers: options.brokers.clone(),
        };
        let producer: Producer = client_config(options)
            .set_log_level(RDKafkaLogLevel::Warning)
            .create_with_context(context)
            .map_err(|source| Error::Producer {
                brokers: options.brokers.clone(),
                source,
            })?;
        let shared = Shared {
            producer: Arc::new(producer),
            pending: Arc::default(),
        };
        cache.insert(options.clone(), shared.clone());
        probe(Arc::clone(&shared.producer), options.brokers.clone());
        Ok(shared)
    }

    /// The host's shared producer for `options`, as a binding gets it at `build()`: created on first
    /// use, with the flush of every producer registered for the host's shutdown (once). `None`
    /// after recording the problem.
    pub(crate) fn bound(cx: &mut BindContext<'_>, options: &ProducerOptions) -> Option<Shared> {
        let producers = cx.resource::<Producers>();
        let shared = producers
            .get_or_create(options)
            .map_err(|err| cx.problem(err.chain()))
            .ok()?;
        if !producers.flush_registered.swap(true, Ordering::SeqCst) {
            let producers = Arc::clone(&producers);
            cx.on_shutdown(
                "flushing Kafka producers",
                Box::new(move |left| {
                    Box::pin(async move { producers.flush(left).await.map_err(|e| e.to_string()) })
                }),
            );
        }
        Some(shared)
    }

    /// Flushes every producer within `timeout`; an error counts the messages whose delivery was
    /// still unsettled (sent by invocations that did not finish before the shutdown timeout).
    pub(crate) async fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let producers: Vec<(String, Shared)> = self
            .lock()
            .iter()
            .map(|(o, s)| (o.brokers.clone(), s.clone()))
            .collect();
        let mut left = Vec::new();
        for (brokers, shared) in producers {
            let producer = Arc::clone(&shared.producer);
            let _ =
                tokio::task::spawn_blocking(move || producer.flush(Timeout::After(timeout))).await;
            let pending = shared.pending.load(Ordering::SeqCst);
            if pending != 0 {
                left.push((brokers, pending));
            }
        }
        if left.is_empty() {
            Ok(())
        } else {
            Err(Error::Shutdown { left })
        }
    }
}

/// Asks the brokers for metadata in the background: an unreachable cluster at start-up is a warning
/// (sending fails, and is retried by the trigger, until it is reachable), not a crash.
fn probe(producer: Arc<Producer>, brokers: String) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn_blocking(move || {
        if let Err(err) = producer.client().fetch_metadata(None, Timeout::After(Duration::from_secs(10))) {
            tracing::warn!(
                %brokers,
                error = %err,
                "the Kafka brokers did not answer at start-up; sends will fail (and be retried by the trigger) until they do"
            );
        }
    });
}
