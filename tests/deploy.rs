//! The manifests under `deploy/` parse, and the values in them that must agree with the code and
//! with each other do: the admin port and probe paths, the grace period against the host's
//! shutdown timeout, the KEDA queueLength against the batch settings of the app's host.json, the
//! queue the scaler watches against the queue the app reads, and the `/scale` value location.

use std::path::{Path, PathBuf};

use bindings::queue::QueuesOptions;
use bindings::telemetry::{ADMIN_LISTEN_ADDRESS_SETTING, paths};
use bindings::{DEFAULT_SHUTDOWN_TIMEOUT, HostConfig};
use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every document of a manifest.
fn documents(path: &str) -> Vec<Yaml> {
    let file = deploy().join(path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|err| panic!("reading {}: {err}", file.display()));
    YamlLoader::load_from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// The document of `kind` in `path`.
fn kind(path: &str, kind: &str) -> Yaml {
    documents(path)
        .into_iter()
        .find(|doc| doc["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("{path} has a {kind}"))
}

/// `doc` at the dotted `path` (numbers index lists).
fn at<'a>(doc: &'a Yaml, path: &str) -> &'a Yaml {
    let found = path
        .split('.')
        .fold(doc, |node, key| match key.parse::<usize>() {
            Ok(index) => &node[index],
            Err(_) => &node[key],
        });
    assert!(!found.is_badvalue(), "{path} is missing");
    found
}

fn text<'a>(doc: &'a Yaml, path: &str) -> &'a str {
    at(doc, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is a string"))
}

fn int(doc: &Yaml, path: &str) -> i64 {
    at(doc, path)
        .as_i64()
        .unwrap_or_else(|| panic!("{path} is an integer"))
}

/// The value of environment variable `name` of a container.
fn env<'a>(container: &'a Yaml, name: &str) -> &'a str {
    at(container, "env")
        .as_vec()
        .expect("env is a list")
        .iter()
        .find(|var| var["name"].as_str() == Some(name))
        .and_then(|var| var["value"].as_str())
        .unwrap_or_else(|| panic!("the container sets {name}"))
}

/// The port of the container's `AdminListenAddress`.
fn admin_port(container: &Yaml) -> i64 {
    let address = env(container, ADMIN_LISTEN_ADDRESS_SETTING);
    let (_, port) = address
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{address} is host:port"));
    port.parse().expect("a port number")
}

/// What one replica holds at once: `batchSize + newBatchThreshold` of the `ConfigMap`'s host.json.
fn per_replica() -> i64 {
    let config = kind("kubernetes/deployment.yaml", "ConfigMap");
    let host_json = config["data"]["host.json"]
        .as_str()
        .expect("the ConfigMap holds host.json");
    let host_json =
        HostConfig::from_json_str(host_json).expect("the ConfigMap's host.json is valid");
    let queues = host_json.extension::<QueuesOptions>();
    i64::from(queues.batch_size + queues.effective_new_batch_threshold())
}

fn grace_period_outlasts_the_shutdown_timeout(seconds: i64, what: &str) {
    let timeout = i64::try_from(DEFAULT_SHUTDOWN_TIMEOUT.as_secs()).expect("small");
    assert!(
        seconds > timeout,
        "{what}: terminationGracePeriodSeconds {seconds} must exceed the host's shutdown timeout \
         ({timeout} s), or the kubelet kills replicas mid-drain"
    );
}

#[test]
fn every_manifest_parses() {
    let mut files = Vec::new();
    for dir in ["kubernetes", "container-apps"] {
        for entry in std::fs::read_dir(deploy().join(dir)).expect("the folder") {
            let path = entry.expect("an entry").path();
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml"),
                "{path:?}"
            );
            files.push(format!(
                "{dir}/{}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert_eq!(files.len(), 5, "{files:?}");
    for file in files {
        let docs = documents(&file);
        assert!(!docs.is_empty(), "{file} has a document");
        for doc in docs {
            assert!(
                doc.as_hash().is_some(),
                "{file}: each document is a mapping"
            );
        }
    }
}

#[test]
fn the_deployment_s_probes_port_and_grace_period_match_the_host() {
    let deployment = kind("kubernetes/deployment.yaml", "Deployment");
    let pod = at(&deployment, "spec.template.spec");
    grace_period_outlasts_the_shutdown_timeout(
        int(pod, "terminationGracePeriodSeconds"),
        "Deployment",
    );
    let container = at(pod, "containers.0");
    let port = admin_port(container);
    assert_eq!(text(container, "ports.0.name"), "admin");
    assert_eq!(int(container, "ports.0.containerPort"), port);
    assert_eq!(
        text(container, "livenessProbe.httpGet.path"),
        paths::HEALTHZ
    );
    assert_eq!(
        text(container, "readinessProbe.httpGet.path"),
        paths::READYZ
    );
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(text(container, &format!("{probe}.httpGet.port")), "admin");
    }
    let annotations = at(&deployment, "spec.template.metadata.annotations");
    let annotation = |name: &str| annotations[name].as_str().map(str::to_owned);
    assert_eq!(annotation("prometheus.io/port"), Some(port.to_string()));
    assert_eq!(
        annotation("prometheus.io/path").as_deref(),
        Some(paths::METRICS)
    );
    let mount = at(container, "volumeMounts.0");
    assert_eq!(
        text(mount, "mountPath"),
        format!("{}/host.json", text(container, "workingDir")),
        "host.json is read from the working directory"
    );
    let service = kind("kubernetes/deployment.yaml", "Service");
    assert_eq!(int(&service, "spec.ports.0.port"), port);
}

#[test]
fn the_azure_queue_scalers_watch_the_app_s_queue_with_what_one_replica_holds() {
    let deployment = kind("kubernetes/deployment.yaml", "Deployment");
    let container = at(&deployment, "spec.template.spec.containers.0");
    let queue = env(container, "InputQueue");
    let scaled = kind("kubernetes/keda-azure-queue.yaml", "ScaledObject");
    assert_eq!(
        text(&scaled, "spec.scaleTargetRef.name"),
        text(&deployment, "metadata.name")
    );
    let trigger = at(&scaled, "spec.triggers.0");
    assert_eq!(text(trigger, "type"), "azure-queue");
    assert_eq!(text(trigger, "metadata.queueName"), queue);
    assert_eq!(
        text(trigger, "metadata.queueLength"),
        per_replica().to_string()
    );

    let app = &documents("container-apps/queue-to-kafka.yaml")[0];
    let template = at(app, "properties.template");
    grace_period_outlasts_the_shutdown_timeout(
        int(template, "terminationGracePeriodSeconds"),
        "Container App",
    );
    let container = at(template, "containers.0");
    assert_eq!(env(container, "InputQueue"), queue);
    let port = admin_port(container);
    for (index, kind, path) in [
        (0, "Liveness", paths::HEALTHZ),
        (1, "Readiness", paths::READYZ),
    ] {
        let probe = at(container, &format!("probes.{index}"));
        assert_eq!(text(probe, "type"), kind);
        assert_eq!(text(probe, "httpGet.path"), path);
        assert_eq!(int(probe, "httpGet.port"), port);
    }
    let rule = at(template, "scale.rules.0.azureQueue");
    assert_eq!(text(rule, "queueName"), queue);
    assert_eq!(int(rule, "queueLength"), per_replica());
}

#[test]
fn the_metrics_scalers_read_the_host_s_own_signal() {
    let deployment = kind("kubernetes/deployment.yaml", "Deployment");
    let container = at(&deployment, "spec.template.spec.containers.0");
    let service = kind("kubernetes/deployment.yaml", "Service");
    let metrics_api = kind("kubernetes/keda-metrics-api.yaml", "ScaledObject");
    let trigger = at(&metrics_api, "spec.triggers.0");
    assert_eq!(text(trigger, "type"), "metrics-api");
    assert_eq!(
        text(trigger, "metadata.url"),
        format!(
            "http://{}:{}{}",
            text(&service, "metadata.name"),
            admin_port(container),
            paths::SCALE
        )
    );
    // `/scale`'s top-level field (tests/telemetry.rs checks the endpoint's answer).
    assert_eq!(text(trigger, "metadata.valueLocation"), "scale_hint");
    assert_eq!(text(trigger, "metadata.targetValue"), "1");
    assert_eq!(text(trigger, "metricType"), "AverageValue");

    let prometheus = kind("kubernetes/keda-prometheus.yaml", "ScaledObject");
    let trigger = at(&prometheus, "spec.triggers.0");
    assert_eq!(text(trigger, "type"), "prometheus");
    assert!(
        text(trigger, "metadata.query").starts_with("max(bindings_scale_hint{"),
        "every replica reports the same hint: max over replicas, not sum"
    );
    assert_eq!(text(trigger, "metadata.threshold"), "1");
    for scaled in [&metrics_api, &prometheus] {
        assert_eq!(
            text(scaled, "spec.scaleTargetRef.name"),
            text(&deployment, "metadata.name")
        );
    }
}
