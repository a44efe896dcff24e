//! The HTTP trigger for `bindings`, on axum: routes, methods, auth levels, request and response types.
//!
//! This crate is being built; until it lands, the `http` feature of the facade adds nothing.
