//! Host processes: footprint (RSS of a host with 10 idle functions, time from process start to
//! the first poll), scaling (1, 2 and 4 hosts draining one queue) and the fleet (1, 2 and 4 hosts
//! forwarding one queue to one Kafka topic). The hosts are this binary, re-run as
//! `<exe> host <queue>...` (one no-op queue function per queue, on Azurite) or
//! `<exe> host --forward <topic> <queue>` (one function forwarding the queue to the topic on Tansu).
//! A host says `ready` on stdout at its first poll, `polled` once every queue was polled, and stops
//! when its stdin closes.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bindings::HostBuilder;
use bindings::prelude::*;
use bindings::queue::QueueService;
use tokio::sync::mpsc;

use crate::measure::{Better, Plan, Record, Report, rate, rotate};
use crate::support::counting::Counting;
use crate::{BenchResult, support};

/// The first argument that runs this binary as a host.
pub(crate) const HOST_MODE: &str = "host";
/// Functions of the footprint host.
const FOOTPRINT_FUNCTIONS: usize = 10;
/// Host processes of the scaling measurements.
const SCALING_HOSTS: [usize; 3] = [1, 2, 4];
/// How often the queue's count is checked while hosts drain it.
const COUNT_EVERY: Duration = Duration::from_millis(20);
/// The longest a host may take to start or a drain may take.
const PROCESS_LIMIT: Duration = Duration::from_secs(300);

/// No-op queue functions on the queues named by settings `Queue0`..`Queue9`, and how to register
/// the first `n` of them.
macro_rules! queue_functions {
    ($($name:ident $queue:tt),* $(,)?) => {
        $(
            /// Does nothing with each message.
            #[queue_trigger($queue)]
            async fn $name(body: Bytes) {
                std::hint::black_box(body);
            }
        )*
        /// Registers one function each.
        const REGISTER: &[fn(HostBuilder) -> HostBuilder] = &[$(|builder| builder.function::<$name>()),*];
    };
}

/// Forwards each message of `Queue0` to `Topic`, as `examples/queue_to_kafka.rs` does.
#[queue_trigger("%Queue0%")]
#[kafka_output(topic = "%Topic%", broker_list = "Brokers")]
async fn forward(body: Bytes) -> Bytes {
    body
}

/// The flag of a forwarding host.
const FORWARD: &str = "--forward";

queue_functions!(
    noop_0 "%Queue0%", noop_1 "%Queue1%", noop_2 "%Queue2%", noop_3 "%Queue3%", noop_4 "%Queue4%",
    noop_5 "%Queue5%", noop_6 "%Queue6%", noop_7 "%Queue7%", noop_8 "%Queue8%", noop_9 "%Queue9%",
);

/// `<exe> host <queue>...`: a host with one no-op function per queue, until stdin closes.
pub(crate) fn host_main(queues: &[String]) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built");
    match runtime.block_on(host(queues)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench host: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn host(args: &[String]) -> BenchResult<()> {
    let (topic, queues) = match args {
        [flag, topic, queues @ ..] if flag == FORWARD => (Some(topic), queues),
        queues => (None, queues),
    };
    if queues.is_empty() || queues.len() > REGISTER.len() || (topic.is_some() && queues.len() != 1)
    {
        return Err(format!(
            "name 1 to {} queues, or `{FORWARD} <topic>` and one queue",
            REGISTER.len()
        )
        .into());
    }
    let counting = Arc::new(Counting::new(crate::queue::azurite()?, None));
    let mut settings = Settings::new();
    for (n, queue) in queues.iter().enumerate() {
        settings = settings.with(format!("Queue{n}"), queue);
    }
    if let Some(topic) = topic {
        settings = settings.with("Topic", topic).with(
            "Brokers",
            crate::measure::service("BINDINGS_KAFKA_BROKERS")?,
        );
    }
    let mut builder = Host::builder()
        .settings(settings)
        .host_config(crate::queue::host_config(false)?)
        .resource(crate::queue::storage(
            Arc::clone(&counting) as Arc<dyn QueueService>
        ));
    if topic.is_some() {
        builder = builder.function::<forward>();
    } else {
        for register in &REGISTER[..queues.len()] {
            builder = register(builder);
        }
    }
    let host = builder.build().await?.start();
    counting.polled(1).await;
    say("ready")?;
    counting.polled(queues.len()).await;
    say("polled")?;
    // Until the parent closes stdin.
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    host.shutdown(Duration::from_secs(30)).await?;
    Ok(())
}

fn say(line: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

/// A host process this run started, with its stdout lines as they come (and when).
struct HostProcess {
    child: std::process::Child,
    lines: mpsc::UnboundedReceiver<(String, Instant)>,
}

impl HostProcess {
    fn spawn(args: &[String]) -> BenchResult<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(&exe)
            .arg(HOST_MODE)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| format!("cannot start {} as a host: {err}", exe.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send((line, Instant::now())).is_err() {
                    break;
                }
            }
        });
        Ok(Self { child, lines })
    }

    /// When the host printed `want`.
    async fn said(&mut self, want: &str) -> BenchResult<Instant> {
        let pid = self.child.id();
        loop {
            match tokio::time::timeout(PROCESS_LIMIT, self.lines.recv()).await {
                Ok(Some((line, at))) if line == want => return Ok(at),
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(format!(
                        "host process {pid} exited before saying `{want}` (its errors are above)"
                    )
                    .into());
                }
                Err(_) => {
                    return Err(format!(
                        "host process {pid} did not say `{want}` within {PROCESS_LIMIT:?}"
                    )
                    .into());
                }
            }
        }
    }

    /// The resident set size, in MiB.
    fn rss_mib(&self) -> BenchResult<f64> {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|err| format!("reading /proc/{pid}/status: {err}"))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))?;
        Ok(kib / 1024.0)
    }

    /// Closes its stdin and waits for it to exit cleanly.
    async fn stop(mut self) -> BenchResult<()> {
        drop(self.child.stdin.take());
        let pid = self.child.id();
        let status = tokio::task::spawn_blocking(move || self.child.wait()).await??;
        if status.success() {
            Ok(())
        } else {
            Err(format!("host process {pid} ended with {status}").into())
        }
    }
}

pub(crate) async fn footprint(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let azurite = crate::queue::azurite()?;
    let mut queues = Vec::new();
    for _ in 0..FOOTPRINT_FUNCTIONS {
        let queue = support::unique("bench-foot");
        azurite.create_queue(&queue).await?;
        queues.push(queue);
    }
    let mut rss = Vec::new();
    let mut first_poll = Vec::new();
    for rep in 0..plan.process_reps {
        let started = Instant::now();
        let mut host = HostProcess::spawn(&queues)?;
        let ready = host.said("ready").await?;
        host.said("polled").await?;
        let mib = host.rss_mib()?;
        host.stop().await?;
        let ms = (ready - started).as_secs_f64() * 1000.0;
        println!(
            "  rep {}/{}: first poll {ms:.1} ms after the process started, RSS {mib:.1} MiB",
            rep + 1,
            plan.process_reps
        );
        first_poll.push(ms);
        rss.push(mib);
    }
    report.record(&Record {
        group: "footprint",
        scenario: format!(
            "RSS of a host with {FOOTPRINT_FUNCTIONS} idle queue functions (Azurite)"
        ),
        unit: "MiB",
        better: Better::Lower,
        ours: rss,
        baseline: None,
        target: None,
        note: "VmRSS once every function polled its queue once".to_owned(),
    })?;
    report.record(&Record {
        group: "footprint",
        scenario: format!(
            "Time from process start to first poll ({FOOTPRINT_FUNCTIONS} functions)"
        ),
        unit: "ms",
        better: Better::Lower,
        ours: first_poll,
        baseline: None,
        target: None,
        note: "spawn of the process to its first storage request".to_owned(),
    })
}

pub(crate) async fn scaling(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    drain_group(plan, report, None).await
}

/// The fleet: 1, 2 and 4 host processes forwarding one Azurite queue to one Tansu topic.
pub(crate) async fn fleet(plan: &Plan, report: &mut Report) -> BenchResult<()> {
    let brokers = crate::measure::service("BINDINGS_KAFKA_BROKERS")?;
    let topic = crate::kafka::tansu_topic(&brokers).await?;
    drain_group(plan, report, Some(&topic)).await
}

/// [`SCALING_HOSTS`] host processes draining one Azurite queue, forwarding it to `topic` if given
/// (the fleet), else running no-op functions (scaling).
async fn drain_group(plan: &Plan, report: &mut Report, topic: Option<&str>) -> BenchResult<()> {
    let azurite = crate::queue::azurite()?;
    let queue = support::unique("bench-scale");
    azurite.create_queue(&queue).await?;
    let names: Vec<String> = SCALING_HOSTS
        .iter()
        .map(|n| format!("{n} host(s)"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let messages = plan.scaling_messages;
    let label = format!("{messages} messages");
    let samples = rotate(&label, plan.process_reps, &names, "msg/s", async |which| {
        crate::queue::fill(&*azurite, &queue, messages).await?;
        drain_with(&azurite, &queue, topic, SCALING_HOSTS[which], messages).await
    })
    .await?;
    for (hosts, samples) in SCALING_HOSTS.into_iter().zip(samples) {
        let (group, scenario, until) = match topic {
            None => (
                "scaling",
                format!("Scaling: {hosts} host process(es) draining one Azurite queue"),
                "the queue is empty",
            ),
            Some(_) => (
                "fleet",
                format!("Fleet: {hosts} replica(s), one Azurite queue -> one Tansu topic"),
                "every message is deleted (after its record was delivered)",
            ),
        };
        report.record(&Record {
            group,
            scenario,
            unit: "msg/s",
            better: Better::Higher,
            ours: samples,
            baseline: None,
            target: None,
            note: format!(
                "{messages} messages, default options; timed from the first host's first poll until {until}"
            ),
        })?;
    }
    Ok(())
}

/// Starts `hosts` processes on `queue` (holding `messages`), forwarding to `topic` if given, and
/// returns messages/s from the first one's first poll until the queue is empty (a forwarded
/// message is deleted only once its record is delivered).
async fn drain_with(
    azurite: &Arc<dyn QueueService>,
    queue: &str,
    topic: Option<&str>,
    hosts: usize,
    messages: usize,
) -> BenchResult<f64> {
    let args: Vec<String> = match topic {
        Some(topic) => vec![FORWARD.to_owned(), topic.to_owned(), queue.to_owned()],
        None => vec![queue.to_owned()],
    };
    let mut processes = Vec::new();
    for _ in 0..hosts {
        processes.push(HostProcess::spawn(&args)?);
    }
    let mut first = None::<Instant>;
    for process in &mut processes {
        let ready = process.said("ready").await?;
        first = Some(first.map_or(ready, |first| first.min(ready)));
    }
    let first = first.expect("at least one host");
    while azurite.approximate_count(queue).await? > 0 {
        if first.elapsed() > PROCESS_LIMIT {
            return Err(format!("queue `{queue}` not drained within {PROCESS_LIMIT:?}").into());
        }
        tokio::time::sleep(COUNT_EVERY).await;
    }
    let took = first.elapsed();
    for process in processes {
        process.stop().await?;
    }
    Ok(rate(messages, took))
}
