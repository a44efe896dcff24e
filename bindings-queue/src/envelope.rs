//! The opt-in trace-context envelope (`trace_context`): a queue message has only a body, so the W3C
//! trace context travels in a JSON object around it, `{"traceparent": …, "tracestate": …, "body":
//! "<the message>"}`. An output with the option wraps every message; a trigger with it unwraps a
//! message that is such an object and continues its trace (any other message is passed on as it
//! is). Off by default on both ends: every reader of the queue must expect the envelope.

use bindings_core::Bytes;
use bindings_core::telemetry::{TRACEPARENT, TRACESTATE, current_trace_headers};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Wrapped<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    traceparent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracestate: Option<&'a str>,
    body: &'a str,
}

/// A trace context read from an envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Trace {
    pub(crate) traceparent: Option<String>,
    pub(crate) tracestate: Option<String>,
}

impl Trace {
    /// The header `name` (`traceparent` or `tracestate`).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        match name {
            TRACEPARENT => self.traceparent.as_deref(),
            TRACESTATE => self.tracestate.as_deref(),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unwrapped {
    traceparent: Option<String>,
    tracestate: Option<String>,
    body: String,
}

/// `body` in an envelope with the current span's trace context (none when no trace is exported).
/// Only text fits: the envelope is JSON.
pub(crate) fn wrap(body: &[u8]) -> Result<Vec<u8>, &'static str> {
    let body = std::str::from_utf8(body)
        .map_err(|_| "trace_context wraps text bodies in JSON, and this body is not UTF-8 text")?;
    let headers = current_trace_headers();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    };
    let wrapped = Wrapped {
        traceparent: header(TRACEPARENT),
        tracestate: header(TRACESTATE),
        body,
    };
    Ok(serde_json::to_vec(&wrapped).expect("strings serialize"))
}

/// The body and trace context of `body` if it is an envelope (an object with `body` and at most
/// `traceparent` and `tracestate`), else `None`.
pub(crate) fn unwrap(body: &[u8]) -> Option<(Bytes, Trace)> {
    if body.first() != Some(&b'{') {
        return None;
    }
    let unwrapped: Unwrapped = serde_json::from_slice(body).ok()?;
    let trace = Trace {
        traceparent: unwrapped.traceparent,
        tracestate: unwrapped.tracestate,
    };
    Some((Bytes::from(unwrapped.body), trace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_body_unwraps_to_itself_and_other_messages_are_not_envelopes() {
        let wrapped = wrap("an order {\"id\": 1}".as_bytes()).unwrap();
        // No trace is exported in a unit test: the envelope has the body only.
        assert_eq!(
            std::str::from_utf8(&wrapped).unwrap(),
            r#"{"body":"an order {\"id\": 1}"}"#
        );
        let (body, trace) = unwrap(&wrapped).unwrap();
        assert_eq!(&body[..], "an order {\"id\": 1}".as_bytes());
        assert_eq!(trace, Trace::default());

        let (body, trace) = unwrap(
            br#"{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","body":"x"}"#,
        )
        .unwrap();
        assert_eq!(&body[..], b"x");
        assert_eq!(
            trace.header("traceparent"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        );
        for plain in [
            &b"plain text"[..],
            br#"{"id": 1}"#,
            br#"{"body": "x", "id": 1}"#,
            b"{",
        ] {
            assert!(
                unwrap(plain).is_none(),
                "{}",
                String::from_utf8_lossy(plain)
            );
        }
        assert!(wrap(&[0xff, 0xfe]).is_err());
    }
}
