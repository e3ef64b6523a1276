//! Envoy's tap filter output (`envoy.filters.http.tap`, `JSON_BODY_AS_STRING`
//! or `JSON_BODY_AS_BYTES`): one `{"http_buffered_trace": {...}}` object per
//! tapped request, with request and response `headers` (`key`/`value`,
//! pseudo-headers included), `body` (`as_string` or base64 `as_bytes`),
//! `headers_received_time` (needs `record_headers_received_time: true`) and
//! `downstream_connection.remote_address` (needs
//! `record_downstream_connection: true`). envoy/snippets/tap.yaml records
//! exactly that. Streamed traces (`http_streamed_trace_segment`) are not
//! read. Field names are accepted in proto (`as_string`) and JSON
//! (`asString`) spelling.

use base64::Engine as _;
use serde_json::Value;

use super::line::{header_map, Body, TraceLine, TraceResponse};
use super::time::parse_rfc3339;

/// `value[name]`, in snake_case or lowerCamelCase.
fn field<'a>(value: &'a Value, snake: &str) -> Option<&'a Value> {
    value.get(snake).or_else(|| value.get(camel(snake).as_str()))
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// True for a tap trace object.
pub fn is_tap(doc: &Value) -> bool {
    field(doc, "http_buffered_trace").is_some() || field(doc, "http_streamed_trace_segment").is_some()
}

/// Whether a request body was cut at the tap's `max_buffered_rx_bytes`.
#[derive(Debug)]
pub struct Converted {
    pub line: TraceLine,
    pub truncated: bool,
}

/// One tap trace object.
pub fn convert(doc: &Value) -> Result<Converted, String> {
    if field(doc, "http_streamed_trace_segment").is_some() {
        return Err("streamed tap traces are not supported: use a buffered tap (no `streaming` output)".to_owned());
    }
    let trace = field(doc, "http_buffered_trace").ok_or("not a tap trace: no http_buffered_trace")?;
    let req = field(trace, "request").ok_or("no request")?;
    let pairs = header_pairs(req);
    let pseudo = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let path = pseudo(":path").ok_or("request has no :path header")?;
    let ts = match field(req, "headers_received_time").and_then(Value::as_str) {
        Some(t) => parse_rfc3339(t)?,
        None => {
            return Err(
                "request has no headers_received_time: set `record_headers_received_time: true` in the tap config"
                    .to_owned(),
            )
        }
    };
    let (body, truncated) = body_of(req)?;
    let response = match field(trace, "response") {
        Some(resp) => {
            let rpairs = header_pairs(resp);
            let status = rpairs
                .iter()
                .find(|(k, _)| k == ":status")
                .and_then(|(_, v)| v.parse::<u16>().ok());
            match status {
                Some(status) => Some(TraceResponse {
                    status,
                    headers: header_map(rpairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                    body: body_of(resp)?.0,
                }),
                None => None,
            }
        }
        None => None,
    };
    let source_ip = field(trace, "downstream_connection")
        .and_then(|c| field(c, "remote_address"))
        .and_then(|a| field(a, "socket_address"))
        .and_then(|s| s.get("address"))
        .and_then(Value::as_str)
        // Only what replay reads as an address (a pipe or a mangled address
        // would make it refuse the whole trace).
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_owned);
    Ok(Converted {
        line: TraceLine {
            ts,
            method: pseudo(":method").unwrap_or_else(|| "POST".to_owned()),
            path,
            authority: pseudo(":authority").or_else(|| pseudo("host")),
            headers: header_map(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            source_ip,
            body,
            response,
        },
        truncated,
    })
}

/// Header (name, value) pairs; `raw_value` (base64 bytes) when `value` is
/// absent.
fn header_pairs(message: &Value) -> Vec<(String, String)> {
    let list = field(message, "headers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    list.iter()
        .filter_map(|h| {
            let key = h.get("key")?.as_str()?.to_ascii_lowercase();
            let value = match h.get("value").and_then(Value::as_str) {
                Some(v) => v.to_owned(),
                None => {
                    let raw = field(h, "raw_value")?.as_str()?;
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).ok()?).ok()?
                }
            };
            Some((key, value))
        })
        .collect()
}

fn body_of(message: &Value) -> Result<(Body, bool), String> {
    let Some(b) = field(message, "body") else {
        return Ok((Body::default(), false));
    };
    let truncated = b.get("truncated").and_then(Value::as_bool).unwrap_or(false);
    let bytes = if let Some(s) = field(b, "as_string").and_then(Value::as_str) {
        s.as_bytes().to_vec()
    } else if let Some(s) = field(b, "as_bytes").and_then(Value::as_str) {
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(|e| format!("body.as_bytes is not valid base64: {e}"))?
    } else {
        Vec::new()
    };
    Ok((Body::from_bytes(bytes), truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trace() -> Value {
        json!({"http_buffered_trace": {
            "request": {
                "headers": [{"key": ":authority", "value": "llm"}, {"key": ":path", "value": "/v1/messages"},
                            {"key": ":method", "value": "POST"}, {"key": "x-api-key", "value": "k1"}],
                "body": {"truncated": false, "as_string": "{\"model\":\"m\"}"},
                "headers_received_time": "2026-11-30T16:44:50.250Z"
            },
            "response": {
                "headers": [{"key": ":status", "value": "403"}, {"key": "content-type", "value": "application/json"}],
                "body": {"truncated": false, "as_bytes": "e30="}
            },
            "downstream_connection": {"local_address": {"socket_address": {"address": "127.0.0.1", "port_value": 10000}},
                                      "remote_address": {"socket_address": {"address": "10.1.2.3", "port_value": 5555}}}
        }})
    }

    #[test]
    fn an_address_replay_cannot_read_is_left_out() {
        // Found by fuzz/fuzz_targets/import.rs: "09.1.2.3" went into
        // `source_ip`, and replay refused the whole trace at that line.
        for bad in ["09.1.2.3", "pipe:/run/envoy.sock", ""] {
            let mut t = trace();
            t["http_buffered_trace"]["downstream_connection"]["remote_address"]["socket_address"]["address"] =
                json!(bad);
            assert_eq!(convert(&t).unwrap().line.source_ip, None, "{bad}");
        }
    }

    #[test]
    fn converts_a_buffered_trace() {
        let c = convert(&trace()).unwrap();
        let l = &c.line;
        assert!((l.ts - 1_796_057_090.25).abs() < 1e-6);
        assert_eq!(
            (l.method.as_str(), l.path.as_str(), l.authority.as_deref()),
            ("POST", "/v1/messages", Some("llm"))
        );
        assert_eq!(l.headers.keys().collect::<Vec<_>>(), vec!["x-api-key"]);
        assert_eq!(l.source_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(l.body.body.as_deref(), Some("{\"model\":\"m\"}"));
        let r = l.response.as_ref().unwrap();
        assert_eq!((r.status, r.body.body.as_deref()), (403, Some("{}")));
        assert!(!c.truncated);
    }

    #[test]
    fn camel_case_spelling_is_read_too() {
        let text = serde_json::to_string(&trace())
            .unwrap()
            .replace("http_buffered_trace", "httpBufferedTrace")
            .replace("headers_received_time", "headersReceivedTime")
            .replace("as_string", "asString");
        let c = convert(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(c.line.body.body.as_deref(), Some("{\"model\":\"m\"}"));
    }

    #[test]
    fn errors_say_what_to_fix() {
        let mut t = trace();
        t["http_buffered_trace"]["request"]
            .as_object_mut()
            .unwrap()
            .remove("headers_received_time");
        assert!(convert(&t).unwrap_err().contains("record_headers_received_time"));
        assert!(convert(&json!({"http_streamed_trace_segment": {}}))
            .unwrap_err()
            .contains("streamed"));
        assert!(convert(&json!({"http_buffered_trace": {"request": {"headers": []}}}))
            .unwrap_err()
            .contains(":path"));
    }
}
