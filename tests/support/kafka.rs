//! Kafka helpers shared by the tests: topics on a broker that creates none by itself (Tansu).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

/// Upper bound for the broker's answer.
const WAIT: Duration = Duration::from_secs(60);

/// Creates `topic` (one partition) on `brokers` and returns its name.
pub(crate) async fn create_topic(brokers: &str, topic: &str) -> String {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let created = tokio::time::timeout(
        WAIT,
        admin.create_topics(
            &[NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(WAIT)),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("creating topic {topic} on {brokers}: no answer within {WAIT:?}"))
    .expect("CreateTopics answered");
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    topic.to_owned()
}
