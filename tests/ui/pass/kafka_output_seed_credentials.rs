// The seed's credentials, verbatim: its C# samples' bare setting names, its Java sample's mix of
// "%ConfluentCloudUsername%" and a bare "ConfluentCloudPassword", and Event Hubs' "$ConnectionString".
use bindings::prelude::*;

// C#: Username = "ConfluentCloudUserName", Password = "ConfluentCloudPassword",
//     Protocol = BrokerProtocol.SaslSsl, AuthenticationMode = BrokerAuthenticationMode.Plain
#[derive(Outputs)]
struct MultipleOutputType {
    #[kafka_output(topic = "topic", broker_list = "BrokerList",
                   username = "ConfluentCloudUserName", password = "ConfluentCloudPassword",
                   protocol = "SaslSsl", authentication_mode = "Plain")]
    kevent: String,
    http_response: HttpResponse,
}

#[http_trigger(methods = ["get"], auth_level = "anonymous")]
async fn output(_request: HttpRequest) -> MultipleOutputType {
    MultipleOutputType { kevent: "one".to_owned(), http_response: HttpResponse::ok() }
}

// Java: username = "%ConfluentCloudUsername%", password = "ConfluentCloudPassword",
//       authenticationMode = BrokerAuthenticationMode.PLAIN, protocol = BrokerProtocol.SASLSSL
#[http_trigger(methods = ["get", "post"], auth_level = "anonymous")]
#[kafka_output(topic = "topic", broker_list = "BrokerList",
               username = "%ConfluentCloudUsername%", password = "ConfluentCloudPassword",
               authentication_mode = "PLAIN", protocol = "SASLSSL")]
async fn java(_request: HttpRequest) -> String {
    "one".to_owned()
}

// Event Hubs' Kafka endpoint: the literal username and the connection string as the password.
#[manual_trigger]
#[kafka_output(topic = "topic", broker_list = "EventHubBrokerList", username = "$ConnectionString",
               password = "%EventHubConnectionString%", protocol = "SaslSsl", authentication_mode = "Plain")]
async fn event_hubs(text: String) -> String {
    text
}

fn main() {
    let _ = Host::builder().function::<output>().function::<java>().function::<event_hubs>();
}
