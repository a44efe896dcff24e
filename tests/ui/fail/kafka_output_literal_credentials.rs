use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "BrokerList", protocol = "SaslSsl",
               username = "alice", password = "hunter2", ssl_key_password = "%Ok%")]
async fn f(text: String) -> String {
    text
}

fn main() {}
