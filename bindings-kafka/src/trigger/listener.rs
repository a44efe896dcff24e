//! The listener: one consumer per function, polled on a thread of its own; records handed to
//! lanes (a partition, a key, or each record, as `ordering` says), each lane running its records in
//! order with retries and the dead-letter topic; offsets stored only once every earlier record of
//! the partition completed, and committed by librdkafka every `auto_commit_interval_ms`.
//!
//! Every librdkafka call is made on the polling thread; the lanes (tokio tasks) only change the
//! shared [`State`]. Each assigned partition has a queue of its own (`split_partition_queue`): a
//! partition whose lanes hold `2 × max(max_batch_size, max_concurrency)` records is not read until
//! they complete, so its records wait in librdkafka's queue (bounded by `queued_min_messages` and
//! `queued_max_messages_kbytes`), nothing is fetched twice, and the other partitions go on.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as Atomic};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use bindings_core::telemetry::{Outcome as Invocation, ServiceHealth, continue_trace};
use bindings_core::{BoxError, Bytes, FunctionError, Invoker, Listener, TriggerEvent};
use futures_util::future::BoxFuture;
use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::avro::AvroDecoder;
use super::dead_letter::DeadLetter;
use super::kind::KafkaTrigger;
use super::offsets::Offsets;
use super::record::{KafkaRecord, KafkaTriggerEvent, binding_data};
use super::status::KafkaTriggerStatus;
use crate::metrics::{MESSAGING_SYSTEM, is_unreachable};
use crate::producer::TracingContext;
use crate::{Ordering, TriggerOptions};

/// How long a revocation waits for the revoked partitions' running invocations before it commits
/// what completed and lets the partitions go (the rest is read again by their next owner).
const REVOKE_PATIENCE: Duration = Duration::from_secs(30);

/// How long the polling thread waits when no record is ready (a new record, or a lane's
/// completion, wakes it sooner): also how often it serves the consumer's events.
const POLL: Duration = Duration::from_millis(100);
/// How long each poll of the consumer's events waits while running invocations drain.
const DRAIN_POLL: Duration = Duration::from_millis(10);
/// At most this many records are read from one partition's queue before the next partition's turn.
const BURST: usize = 64;
/// While the brokers are unreachable and the topic idle, how often (and how long) the polling
/// thread asks them for the topic's metadata, so readiness comes back without a record.
const PROBE: Duration = Duration::from_secs(2);

/// The longest wait between attempts to produce a record to the dead-letter topic.
const DEAD_LETTER_BACKOFF: Duration = Duration::from_secs(60);

/// A function's trigger, resolved at `build()`.
pub(crate) struct ListenerConfig {
    pub(crate) function: Arc<str>,
    pub(crate) topic: Arc<str>,
    pub(crate) group: String,
    pub(crate) brokers: String,
    /// The consumer's configuration (secrets included; never logged).
    pub(crate) client: ClientConfig,
    pub(crate) options: TriggerOptions,
    pub(crate) batch: bool,
    pub(crate) dead_letter: Option<DeadLetter>,
    pub(crate) avro: Option<Arc<AvroDecoder>>,
    /// Where the listener counts what it does.
    pub(crate) status: Arc<KafkaTriggerStatus>,
    /// Whether the brokers answer, for readiness.
    pub(crate) health: ServiceHealth,
}

/// Reads one topic for one function.
pub(crate) struct KafkaListener {
    config: ListenerConfig,
}

impl KafkaListener {
    pub(crate) fn new(config: ListenerConfig) -> Self {
        Self { config }
    }
}

impl Listener<KafkaTrigger> for KafkaListener {
    fn run(
        self: Box<Self>,
        invoker: Invoker<KafkaTrigger>,
    ) -> BoxFuture<'static, Result<(), BoxError>> {
        let span = tracing::info_span!(
            "kafka_listener",
            function = %self.config.function,
            topic = %self.config.topic,
            group = %self.config.group
        );
        Box::pin(
            async move {
                let shared = Arc::new(Shared::new(self.config, invoker));
                // Dropped when the host gives up waiting: the polling thread stops draining then.
                let _abandon = Abandon(Arc::clone(&shared));
                let span = tracing::Span::current();
                let poller = Arc::clone(&shared);
                match tokio::task::spawn_blocking(move || span.in_scope(|| poller.poll())).await {
                    Ok(result) => result,
                    Err(join) => {
                        Err(format!("the Kafka trigger's polling thread failed: {join}").into())
                    }
                }
            }
            .instrument(span),
        )
    }
}

/// Sets `abandoned` when the listener's future is dropped before the polling thread ended.
struct Abandon(Arc<Shared>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.abandoned.store(true, Atomic::SeqCst);
    }
}

/// What the polling thread and the lanes share.
struct Shared {
    config: ListenerConfig,
    invoker: Invoker<KafkaTrigger>,
    state: Mutex<State>,
    /// Notified whenever a lane finishes a batch (revocation and shutdown wait on it).
    changed: Condvar,
    /// `max_concurrency` permits: one per running invocation.
    slots: Semaphore,
    abandoned: AtomicBool,
    /// An error that ends the listener, seen by a librdkafka callback.
    fatal: Mutex<Option<String>>,
    generations: AtomicU64,
    /// The consumer, for splitting partition queues in the rebalance callback (weak: the consumer's
    /// context holds this `Shared`).
    consumer: OnceLock<Weak<BaseConsumer<TriggerContext>>>,
    /// Each assigned partition's queue (emptied before the consumer is dropped: they hold it).
    queues: Mutex<HashMap<i32, PartitionQueue<TriggerContext>>>,
    /// Wakes the polling thread: a partition queue has records, or a lane made room.
    wake: Arc<Wake>,
}

/// A flag and a condition variable: the polling thread's sleep, cut short by [`Wake::wake`].
#[derive(Default)]
struct Wake {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    fn wake(&self) {
        *lock(&self.woken) = true;
        self.cv.notify_one();
    }

    /// Sleeps until woken or `timeout`.
    fn wait(&self, timeout: Duration) {
        let mut woken = lock(&self.woken);
        if !*woken {
            woken = self
                .cv
                .wait_timeout(woken, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *woken = false;
    }
}

#[derive(Default)]
struct State {
    partitions: HashMap<i32, Partition>,
    /// Batches taken by lanes and not finished, over every partition.
    running: usize,
}

/// An assigned partition.
struct Partition {
    /// Tells lanes of an earlier assignment of the same partition apart.
    generation: u64,
    /// Cancelled when the partition is revoked: retries and waits stop.
    revoked: CancellationToken,
    offsets: Offsets,
    lanes: HashMap<LaneKey, Lane>,
    /// Batches of this partition taken and not finished.
    busy: usize,
    /// The next offset to store, once moved.
    store: Option<i64>,
    /// Its lanes were full (counted once per time it fills up).
    full: bool,
    /// A record spent its retries with no dead-letter topic: nothing more of it runs.
    stopped: bool,
}

/// Records that run one after another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LaneKey {
    Partition,
    Key(Option<Bytes>),
    Record(i64),
}

struct Lane {
    queue: VecDeque<(KafkaRecord, Instant)>,
    /// A task runs this lane.
    running: bool,
    /// Notified when a batch function's lane has a full batch.
    filled: Arc<Notify>,
}

/// How a lane's batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Succeeded, or dead-lettered: its offsets may be committed.
    Completed,
    /// Shutdown or revocation stopped it: it is read again later.
    Abandoned,
    /// Spent its retries with no dead-letter topic: the partition stops.
    Stopped,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn new(config: ListenerConfig, invoker: Invoker<KafkaTrigger>) -> Self {
        let slots = Semaphore::new(config.options.max_concurrency as usize);
        Self {
            config,
            invoker,
            state: Mutex::default(),
            changed: Condvar::new(),
            slots,
            abandoned: AtomicBool::new(false),
            fatal: Mutex::default(),
            generations: AtomicU64::new(0),
            consumer: OnceLock::new(),
            queues: Mutex::default(),
            wake: Arc::default(),
        }
    }

    /// The brokers did not answer: not ready until they do.
    fn unreachable(&self, why: impl std::fmt::Display) {
        self.config.health.unreachable(format!(
            "topic `{}` on {}: {why}",
            self.config.topic, self.config.brokers
        ));
    }

    /// While the brokers are unreachable and nothing arrives, asks them for the topic's metadata
    /// every [`PROBE`], so readiness comes back on an idle topic too.
    fn probe(&self, consumer: &BaseConsumer<TriggerContext>, last: &mut std::time::Instant) {
        if self.config.health.is_reachable() || last.elapsed() < PROBE {
            return;
        }
        *last = std::time::Instant::now();
        match consumer.fetch_metadata(Some(&self.config.topic), PROBE) {
            Ok(_) => self.config.health.reachable(),
            Err(err) => self.unreachable(err),
        }
    }

    fn stopping(&self) -> bool {
        self.invoker.shutdown_token().is_cancelled() || self.abandoned.load(Atomic::SeqCst)
    }

    /// The polling thread: subscribe, hand records to lanes, store offsets; at shutdown wait for
    /// the running invocations, commit, and leave the group.
    fn poll(self: &Arc<Self>) -> Result<(), BoxError> {
        let config = &self.config;
        let context = TriggerContext {
            shared: Arc::clone(self),
            log: TracingContext::new(config.brokers.clone()),
        };
        let mut client = config.client.clone();
        client
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set_log_level(rdkafka::config::RDKafkaLogLevel::Warning);
        let consumer: Arc<BaseConsumer<TriggerContext>> =
            Arc::new(client.create_with_context(context).map_err(|e| {
                format!(
                    "Kafka trigger of `{}`: cannot create the consumer for brokers {}: {e}",
                    config.function, config.brokers
                )
            })?);
        let _ = self.consumer.set(Arc::downgrade(&consumer));
        consumer.subscribe(&[&config.topic]).map_err(|e| {
            format!(
                "Kafka trigger of `{}`: cannot subscribe to topic `{}`: {e}",
                config.function, config.topic
            )
        })?;
        tracing::info!(brokers = %config.brokers, "listening");
        let result = self.read(&consumer);
        if result.is_ok() {
            self.drain(&consumer);
        }
        // The partition queues hold the consumer: let them go, so that dropping it below closes it
        // (leaving the group).
        lock(&self.queues).clear();
        result
    }

    /// Reads until the host stops: the consumer's events (rebalances, errors), then each
    /// partition queue whose lanes have room.
    fn read(self: &Arc<Self>, consumer: &BaseConsumer<TriggerContext>) -> Result<(), BoxError> {
        let mut failures: u32 = 0;
        let mut missing_reported = false;
        let mut probed = std::time::Instant::now();
        while !self.stopping() {
            if let Some(fatal) = lock(&self.fatal).take() {
                return Err(fatal.into());
            }
            self.housekeeping(consumer);
            let mut read = 0;
            let mut error = None;
            // The main queue: events, and records of a partition not split yet.
            match consumer.poll(Duration::ZERO) {
                None => {}
                Some(Ok(message)) => {
                    self.dispatch(&message);
                    read += 1;
                }
                Some(Err(err)) => error = Some(err),
            }
            if error.is_none() {
                match self.read_partitions() {
                    Ok(n) => read += n,
                    Err(err) => error = Some(err),
                }
            }
            match error {
                Some(err) => {
                    if is_unreachable(&err) {
                        self.unreachable(&err);
                    }
                    if let Some(fatal) = self.consume_error(&err, &mut missing_reported) {
                        return Err(fatal.into());
                    }
                    // Back off on repeated errors: 100 ms, doubling, up to 5 s.
                    failures = failures.saturating_add(1);
                    let wait = POLL.saturating_mul(2u32.saturating_pow(failures.min(6) - 1));
                    std::thread::sleep(wait.min(Duration::from_secs(5)));
                }
                None if read > 0 => {
                    failures = 0;
                    missing_reported = false;
                    self.config.health.reachable();
                }
                None => {
                    self.probe(consumer, &mut probed);
                    self.wake.wait(POLL);
                }
            }
        }
        Ok(())
    }

    /// Reads up to [`BURST`] records from each partition queue whose lanes have room; how many.
    fn read_partitions(self: &Arc<Self>) -> Result<usize, KafkaError> {
        let queues = lock(&self.queues);
        let mut read = 0;
        for (&partition, queue) in queues.iter() {
            if !self.has_room(partition) {
                continue;
            }
            for _ in 0..BURST {
                match queue.poll(Duration::ZERO) {
                    None => break,
                    Some(Ok(message)) => {
                        read += 1;
                        if !self.dispatch(&message) {
                            break;
                        }
                    }
                    Some(Err(err)) => return Err(err),
                }
            }
        }
        Ok(read)
    }

    /// Whether `partition`'s lanes may take another record.
    fn has_room(&self, partition: i32) -> bool {
        lock(&self.state)
            .partitions
            .get(&partition)
            .is_some_and(|part| {
                !part.stopped && part.offsets.len() < self.config.options.buffered_records()
            })
    }

    /// What a consumer error means: a fatal one ends the listener with this message; the others
    /// are logged and retried.
    fn consume_error(&self, err: &KafkaError, missing_reported: &mut bool) -> Option<String> {
        let config = &self.config;
        match err.rdkafka_error_code() {
            Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
                if !*missing_reported {
                    tracing::warn!(
                        "topic `{}` does not exist on {}; the trigger does not create it. Waiting for it",
                        config.topic,
                        config.brokers
                    );
                    *missing_reported = true;
                }
                None
            }
            Some(
                code @ (RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed),
            ) => Some(format!(
                "Kafka trigger of `{}`: the brokers {} refused access to topic `{}` for group `{}` \
                 ({code}); grant the credentials read access to the topic and the group",
                config.function, config.brokers, config.topic, config.group
            )),
            _ => {
                tracing::warn!(error = %err, "reading from Kafka failed; backing off");
                None
            }
        }
    }

    /// Hands a record to its lane, starting the lane if it was idle. Whether its partition's
    /// lanes have room for another.
    fn dispatch(self: &Arc<Self>, message: &BorrowedMessage<'_>) -> bool {
        let record = read_record(message, &self.config.topic);
        let options = &self.config.options;
        let key = match options.ordering {
            Ordering::Partition => LaneKey::Partition,
            Ordering::Key => LaneKey::Key(record.key.clone()),
            Ordering::None => LaneKey::Record(record.offset),
        };
        let partition = record.partition;
        let mut state = lock(&self.state);
        let Some(part) = state.partitions.get_mut(&partition) else {
            // Not (or no longer) ours: its owner reads it from the committed offset.
            return false;
        };
        if part.stopped || !part.offsets.track(record.offset) {
            // Stopped, or a record delivered again while its first copy is tracked.
            return !part.stopped;
        }
        let counters = &self.config.status.counters;
        counters.received.inc();
        counters.buffer(1);
        let lane = part.lanes.entry(key.clone()).or_insert_with(|| Lane {
            queue: VecDeque::new(),
            running: false,
            filled: Arc::new(Notify::new()),
        });
        lane.queue.push_back((record, Instant::now()));
        if self.config.batch && lane.queue.len() >= options.max_batch_size as usize {
            lane.filled.notify_one();
        }
        let start = !lane.running;
        lane.running = true;
        let full = part.offsets.len() >= options.buffered_records();
        if full && !part.full {
            counters.pauses.inc();
            tracing::debug!(
                partition,
                "the partition's lanes are full: its records wait in librdkafka"
            );
        }
        part.full = full;
        let generation = part.generation;
        drop(state);
        if start {
            let lane = Arc::clone(self).run_lane(partition, generation, key);
            self.invoker.spawn(lane);
        }
        !full
    }

    /// Stores the offsets completions moved.
    fn housekeeping(&self, consumer: &BaseConsumer<TriggerContext>) {
        let stores: Vec<(i32, i64)> = lock(&self.state)
            .partitions
            .iter_mut()
            .filter_map(|(&partition, part)| Some((partition, part.store.take()?)))
            .collect();
        self.store(consumer, &stores);
    }

    fn store(&self, consumer: &BaseConsumer<TriggerContext>, stores: &[(i32, i64)]) {
        if stores.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for &(partition, next) in stores {
            if let Err(err) =
                tpl.add_partition_offset(&self.config.topic, partition, Offset::Offset(next))
            {
                tracing::warn!(partition, error = %err, "cannot store the offset");
            }
        }
        if let Err(err) = consumer.store_offsets(&tpl) {
            tracing::warn!(error = %err, "storing completed offsets failed; their records may be read again");
        }
    }

    /// New partitions, each with a queue of its own (split before librdkafka fetches for it, so
    /// that all its records arrive there); lanes start as their records arrive.
    fn assign(&self, tpl: &TopicPartitionList) {
        let consumer = self.consumer.get().and_then(Weak::upgrade);
        for element in tpl.elements_for_topic(&self.config.topic) {
            let partition = element.partition();
            let queue = consumer
                .as_ref()
                .and_then(|c| c.split_partition_queue(&self.config.topic, partition));
            if let Some(mut queue) = queue {
                let wake = Arc::clone(&self.wake);
                queue.set_nonempty_callback(move || wake.wake());
                lock(&self.queues).insert(partition, queue);
            }
        }
        let mut state = lock(&self.state);
        let mut assigned = Vec::new();
        for element in tpl.elements_for_topic(&self.config.topic) {
            let partition = element.partition();
            assigned.push(partition);
            state.partitions.insert(
                partition,
                Partition {
                    generation: self.generations.fetch_add(1, Atomic::SeqCst),
                    revoked: CancellationToken::new(),
                    offsets: Offsets::default(),
                    lanes: HashMap::new(),
                    busy: 0,
                    store: None,
                    full: false,
                    stopped: false,
                },
            );
        }
        self.config
            .status
            .counters
            .assigned
            .inc_by(assigned.len() as u64);
        tracing::info!(partitions = ?assigned, "partitions assigned");
    }

    /// Revoked partitions: no more records start; running invocations get up to
    /// [`REVOKE_PATIENCE`] to finish; what completed is committed before the partitions go.
    fn revoke(&self, consumer: &BaseConsumer<TriggerContext>, tpl: &TopicPartitionList) {
        let revoked: Vec<i32> = tpl
            .elements_for_topic(&self.config.topic)
            .iter()
            .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
            .collect();
        self.config
            .status
            .counters
            .revoked
            .inc_by(revoked.len() as u64);
        let deadline = std::time::Instant::now() + REVOKE_PATIENCE;
        let mut state = lock(&self.state);
        for partition in &revoked {
            if let Some(part) = state.partitions.get_mut(partition) {
                part.revoked.cancel();
                for lane in part.lanes.values_mut() {
                    lane.queue.clear();
                }
            }
        }
        let busy = |state: &State| {
            revoked
                .iter()
                .filter_map(|p| state.partitions.get(p))
                .map(|part| part.busy)
                .sum::<usize>()
        };
        while busy(&state) > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    running = busy(&state),
                    "revoked partitions still run invocations after {REVOKE_PATIENCE:?}; letting them go \
                     (their records are read again by the partitions' next owner)"
                );
                break;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let mut stores: Vec<(i32, i64)> = Vec::new();
        for partition in &revoked {
            if let Some(part) = state.partitions.remove(partition) {
                // Their records are read again by the partitions' next owner.
                self.config.status.counters.unbuffer(part.offsets.len());
                stores.extend(part.store.map(|next| (*partition, next)));
            }
        }
        drop(state);
        {
            let mut queues = lock(&self.queues);
            for partition in &revoked {
                queues.remove(partition);
            }
        }
        self.store(consumer, &stores);
        if !stores.is_empty()
            && let Err(err) = consumer.commit_consumer_state(CommitMode::Sync)
        {
            tracing::warn!(error = %err, "committing the revoked partitions' offsets failed; their last records may be read again");
        }
        tracing::info!(partitions = ?revoked, "partitions revoked");
    }

    /// Shutdown: read no more, let running invocations finish (until the host gives up), store
    /// and commit what completed. Dropping the consumer then leaves the group.
    fn drain(&self, consumer: &BaseConsumer<TriggerContext>) {
        tracing::info!("stopping: waiting for running invocations");
        loop {
            self.housekeeping(consumer);
            if lock(&self.state).running == 0 || self.abandoned.load(Atomic::SeqCst) {
                break;
            }
            // Serves the consumer's events (the group membership); a record read now is not
            // started (its offset is not stored, so it is read again).
            let _ = consumer.poll(DRAIN_POLL);
        }
        self.housekeeping(consumer);
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {
                tracing::info!("stopped; completed offsets committed");
            }
            Err(err) => {
                tracing::warn!(error = %err, "committing at shutdown failed; the last records may be read again");
            }
        }
    }

    /// Runs one lane's records, a batch at a time, until it has none (or its partition is revoked,
    /// or the host stops).
    async fn run_lane(self: Arc<Self>, partition: i32, generation: u64, key: LaneKey) {
        while let Some((records, revoked)) = self.next_batch(partition, generation, &key).await {
            let topic = &self.config.topic;
            // Named and attributed after OpenTelemetry's messaging conventions; a record's
            // `traceparent` header makes it continue the producer's trace.
            let span = match records.as_slice() {
                [one] => {
                    let span = tracing::info_span!(
                        "kafka_record",
                        partition,
                        offset = one.offset,
                        otel.name = %format_args!("process {topic}"),
                        otel.kind = "consumer",
                        messaging.system = MESSAGING_SYSTEM,
                        messaging.operation.type = "process",
                        messaging.destination.name = %topic,
                        messaging.destination.partition.id = partition,
                        messaging.kafka.offset = one.offset,
                        messaging.consumer.group.name = %self.config.group,
                    );
                    continue_trace(&span, |name| {
                        one.headers
                            .iter()
                            .find(|(key, _)| key.eq_ignore_ascii_case(name))
                            .and_then(|(_, value)| std::str::from_utf8(value.as_deref()?).ok())
                    });
                    span
                }
                many => tracing::info_span!(
                    "kafka_batch",
                    partition,
                    first_offset = many.first().map(|r| r.offset),
                    records = many.len(),
                    otel.name = %format_args!("process {topic}"),
                    otel.kind = "consumer",
                    messaging.system = MESSAGING_SYSTEM,
                    messaging.operation.type = "process",
                    messaging.destination.name = %topic,
                    messaging.destination.partition.id = partition,
                    messaging.batch.message_count = many.len(),
                    messaging.consumer.group.name = %self.config.group,
                ),
            };
            let outcome = self.process(&records, &revoked).instrument(span).await;
            self.finish(partition, generation, &records, outcome);
            if outcome != Outcome::Completed {
                return;
            }
        }
    }

    /// The lane's next batch (one record for a single-record function), waiting up to
    /// `subscriber_interval_in_seconds` for a batch function's batch to fill. `None`: the lane is
    /// done (and removed), or its partition was revoked, or the host stops.
    async fn next_batch(
        &self,
        partition: i32,
        generation: u64,
        key: &LaneKey,
    ) -> Option<(Vec<KafkaRecord>, CancellationToken)> {
        let options = &self.config.options;
        let size = if self.config.batch {
            options.max_batch_size as usize
        } else {
            1
        };
        let interval = Duration::from_secs(u64::from(options.subscriber_interval_in_seconds));
        loop {
            let (filled, deadline) = {
                let mut state = lock(&self.state);
                let stopping = self.stopping();
                let part = state
                    .partitions
                    .get_mut(&partition)
                    .filter(|part| part.generation == generation)?;
                if stopping || part.revoked.is_cancelled() || part.stopped {
                    return None;
                }
                let lane = part.lanes.get_mut(key)?;
                if lane.queue.is_empty() {
                    part.lanes.remove(key);
                    return None;
                }
                let deadline = lane.queue[0].1 + interval;
                if lane.queue.len() < size && Instant::now() < deadline {
                    (Arc::clone(&lane.filled), deadline)
                } else {
                    let take = lane.queue.len().min(size);
                    let records: Vec<KafkaRecord> =
                        lane.queue.drain(..take).map(|(record, _)| record).collect();
                    part.busy += 1;
                    let revoked = part.revoked.clone();
                    state.running += 1;
                    return Some((records, revoked));
                }
            };
            tokio::select! {
                () = filled.notified() => {}
                () = tokio::time::sleep_until(deadline) => {}
                () = self.invoker.shutdown_token().cancelled() => {}
            }
        }
    }

    /// Runs the function on `records` with the retry policy; after the last retry (or a poison
    /// error) sends them to the dead-letter topic.
    async fn process(&self, records: &[KafkaRecord], revoked: &CancellationToken) -> Outcome {
        let options = &self.config.options;
        let shutdown = self.invoker.shutdown_token();
        let mut attempt: u32 = 1;
        loop {
            let result = {
                let _slot = self
                    .slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let event = TriggerEvent::new(
                    KafkaTriggerEvent::new(
                        records.to_vec(),
                        self.config.batch,
                        self.config.avro.clone(),
                    ),
                    binding_data(records, self.config.batch),
                );
                match &self.config.avro {
                    Some(avro) => match avro.prepare(records).await {
                        Ok(()) => self.invoker.invoke(event).await,
                        Err(err) => Err(err),
                    },
                    None => self.invoker.invoke(event).await,
                }
            };
            let counters = &self.config.status.counters;
            let err = match result {
                Ok(()) => {
                    counters.succeeded.inc_by(records.len() as u64);
                    self.invoker.completed(Invocation::Succeeded);
                    return Outcome::Completed;
                }
                Err(err) => err,
            };
            // A record that does not bind (not UTF-8, not the JSON the function takes) binds no
            // better later: it is dead-lettered at once, like a poison error.
            let retry = !err.is_poison() && !err.is_binding_error();
            if retry && attempt <= options.max_retry_count {
                self.invoker.completed(Invocation::Retried);
                let wait = options.retry_delay(attempt);
                tracing::warn!(
                    attempt,
                    max_retry_count = options.max_retry_count,
                    retry_in = ?wait,
                    error = %err,
                    "failed; retrying"
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown.cancelled() => return Outcome::Abandoned,
                    () = revoked.cancelled() => return Outcome::Abandoned,
                }
                counters.retried.inc();
                attempt += 1;
                continue;
            }
            return match &self.config.dead_letter {
                Some(dead_letter) => {
                    self.dead_letter(dead_letter, records, &err, attempt, revoked)
                        .await
                }
                None => {
                    self.invoker.completed(Invocation::Failed);
                    tracing::error!(
                        error = %err,
                        attempts = attempt,
                        "failed for good and the trigger has no dead-letter topic: partition {} stops here \
                         (its offset stays uncommitted, so the record is read again after a restart); \
                         fix the cause and restart, or set `dead_letter_topic`",
                        records[0].partition
                    );
                    Outcome::Stopped
                }
            };
        }
    }

    /// Produces `records` to the dead-letter topic, trying again with back-off until it works (or
    /// the partition is revoked, or the host stops): only then may their offsets be committed.
    async fn dead_letter(
        &self,
        dead_letter: &DeadLetter,
        records: &[KafkaRecord],
        err: &FunctionError,
        attempts: u32,
        revoked: &CancellationToken,
    ) -> Outcome {
        let mut wait = Duration::from_secs(1);
        loop {
            match dead_letter.send(records, err, attempts).await {
                Ok(()) => {
                    self.config
                        .status
                        .counters
                        .dead_lettered
                        .inc_by(records.len() as u64);
                    self.invoker.completed(Invocation::DeadLettered);
                    tracing::warn!(
                        dead_letter_topic = %dead_letter.topic,
                        attempts,
                        error = %err,
                        "moved to the dead-letter topic"
                    );
                    return Outcome::Completed;
                }
                Err(send) => tracing::error!(
                    dead_letter_topic = %dead_letter.topic,
                    error = %send,
                    retry_in = ?wait,
                    "could not produce to the dead-letter topic; the offset stays uncommitted, trying again"
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.invoker.shutdown_token().cancelled() => {
                    self.invoker.completed(Invocation::Retried);
                    return Outcome::Abandoned;
                }
                () = revoked.cancelled() => {
                    self.invoker.completed(Invocation::Retried);
                    return Outcome::Abandoned;
                }
            }
            wait = (wait * 2).min(DEAD_LETTER_BACKOFF);
        }
    }

    /// Records a batch's outcome: completed offsets move the partition's store point.
    fn finish(&self, partition: i32, generation: u64, records: &[KafkaRecord], outcome: Outcome) {
        let options = &self.config.options;
        let mut state = lock(&self.state);
        state.running -= 1;
        if let Some(part) = state
            .partitions
            .get_mut(&partition)
            .filter(|part| part.generation == generation)
        {
            part.busy -= 1;
            match outcome {
                Outcome::Completed => {
                    self.config.status.counters.unbuffer(records.len());
                    for record in records {
                        if let Some(next) = part.offsets.complete(record.offset) {
                            part.store = Some(next);
                        }
                    }
                    part.full = part.offsets.len() >= options.buffered_records();
                }
                Outcome::Stopped => part.stopped = true,
                Outcome::Abandoned => {}
            }
        }
        drop(state);
        self.changed.notify_all();
        // The partition may have room again.
        self.wake.wake();
    }
}

/// An owned copy of a record read by the consumer.
fn read_record(message: &BorrowedMessage<'_>, topic: &Arc<str>) -> KafkaRecord {
    KafkaRecord {
        topic: Arc::clone(topic),
        partition: message.partition(),
        offset: message.offset(),
        key: message.key().map(Bytes::copy_from_slice),
        value: message.payload().map(Bytes::copy_from_slice),
        headers: message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(Bytes::copy_from_slice)))
                    .collect()
            })
            .unwrap_or_default(),
        timestamp: message.timestamp().to_millis(),
    }
}

/// The consumer's callbacks: librdkafka's logs to `tracing`, fatal errors to the listener, and the
/// rebalances to [`Shared::assign`] and [`Shared::revoke`].
struct TriggerContext {
    shared: Arc<Shared>,
    log: TracingContext,
}

impl ClientContext for TriggerContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        self.log.log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let config = &self.shared.config;
        if is_unreachable(&error) {
            self.shared.unreachable(reason);
        }
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication) {
            *lock(&self.shared.fatal) = Some(format!(
                "Kafka trigger of `{}`: the brokers {} refused the SASL credentials ({reason}); check the \
                 app settings that `username` and `password` name, and `authentication_mode`",
                config.function, config.brokers
            ));
        }
        self.log.error(error, reason);
    }
}

impl ConsumerContext for TriggerContext {
    fn commit_callback(&self, result: rdkafka::error::KafkaResult<()>, _: &TopicPartitionList) {
        let counters = &self.shared.config.status.counters;
        match result {
            Ok(()) => counters.committed.inc(),
            // Nothing new to commit: not a commit.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => 0,
            Err(err) => {
                tracing::warn!(error = %err, "committing offsets failed; librdkafka tries again at the next interval");
                counters.commit_failed.inc()
            }
        };
    }

    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => self.shared.assign(tpl),
            Rebalance::Revoke(tpl) => self.shared.revoke(consumer, tpl),
            Rebalance::Error(err) => {
                tracing::warn!(error = %err, "the consumer group's rebalance failed");
            }
        }
    }
}
