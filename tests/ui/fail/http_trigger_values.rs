use bindings::prelude::*;

#[http_trigger(methods = ["get", "fetch"], auth_level = "public", rout = "x")]
async fn f(request: HttpRequest) -> String {
    request.uri.to_string()
}

fn main() {}
