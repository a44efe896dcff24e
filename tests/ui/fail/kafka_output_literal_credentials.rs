// Credentials name the app setting that holds them; a value that cannot be a setting's name is the
// secret itself written in code, and is refused without being echoed.
use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "BrokerList", protocol = "SaslSsl",
               username = "api key", password = "pa;ss=word", ssl_key_password = "%KeyPassword",
               schema_registry_url = "RegistryUrl", schema_registry_password = "pre%Secret%")]
async fn f(text: String) -> String {
    text
}

fn main() {}
