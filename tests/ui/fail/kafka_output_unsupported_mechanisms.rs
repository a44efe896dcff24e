// GSSAPI and OAUTHBEARER are in Azure's extension, not in this build's librdkafka: refused with the
// reason, and so are the OAUTHBEARER options.
use bindings::prelude::*;

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "BrokerList", protocol = "SaslSsl", authentication_mode = "Gssapi",
               username = "User", password = "Password")]
async fn kerberos(text: String) -> String {
    text
}

#[manual_trigger]
#[kafka_output(topic = "t", broker_list = "BrokerList", protocol = "SaslSsl", authentication_mode = "OAuthBearer",
               oauth_bearer_method = "oidc", oauth_bearer_client_secret = "ClientSecret")]
async fn oidc(text: String) -> String {
    text
}

fn main() {}
