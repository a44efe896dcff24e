//! The HTTP trigger kind: its event (the request) and reply (the response), how the request binds
//! to parameters by type, and which return values become the response. The routes and the attribute
//! name it; the request and response types know nothing of it.

use bindings_core::{
    FromInvocation, FunctionError, FunctionReturn, Invocation, Json, OutputDeclarations, ReplyPart,
    ReturnSink, Trigger,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{HttpRequest, HttpResponse, Query};

/// The HTTP trigger kind.
#[derive(Debug, Clone, Copy)]
pub struct HttpTrigger;

impl Trigger for HttpTrigger {
    const NAME: &'static str = "HTTP trigger";
    type Event = HttpRequest;
    type Reply = HttpResponse;
}

impl FromInvocation<HttpTrigger> for HttpRequest {
    fn from_invocation(invocation: &mut Invocation<HttpTrigger>) -> Result<Self, FunctionError> {
        Ok(invocation.event.clone())
    }
}

impl<T: DeserializeOwned> FromInvocation<HttpTrigger> for Query<T> {
    fn from_invocation(invocation: &mut Invocation<HttpTrigger>) -> Result<Self, FunctionError> {
        let query = invocation.event.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(Query).map_err(|e| {
            FunctionError::with_source(
                format!(
                    "the query string does not fit `{}`",
                    std::any::type_name::<T>()
                ),
                e,
            )
            .into_poison()
        })
    }
}

impl ReplyPart<HttpTrigger> for HttpResponse {
    fn into_reply(self, sink: &mut ReturnSink<HttpTrigger>) {
        sink.reply(self);
    }
}

/// Implements `FunctionReturn<HttpTrigger>` for a type that becomes the response.
macro_rules! reply {
    ($ty:ty, |$value:ident| $convert:expr) => {
        impl FunctionReturn<HttpTrigger> for $ty {
            type Plan = ();
            fn plan(_: &mut OutputDeclarations) {}
            fn complete(
                self,
                (): &(),
                sink: &mut ReturnSink<HttpTrigger>,
            ) -> Result<(), FunctionError> {
                let $value = self;
                sink.reply($convert);
                Ok(())
            }
        }
    };
}

reply!(HttpResponse, |response| response);
reply!(String, |text| HttpResponse::ok().body(text));
reply!(&'static str, |text| HttpResponse::ok().body(text));

impl<T: Serialize + Send> FunctionReturn<HttpTrigger> for Json<T> {
    type Plan = ();
    fn plan(_: &mut OutputDeclarations) {}
    fn complete(self, (): &(), sink: &mut ReturnSink<HttpTrigger>) -> Result<(), FunctionError> {
        sink.reply(HttpResponse::ok().json(&self.0)?);
        Ok(())
    }
}
