//! One line of the replay trace format (trace-format.md), as `import`
//! writes it. Only the format's own fields; bodies that are not UTF-8 go to
//! `body_base64`.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use crate::engine::headers::is_reserved;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceLine {
    pub ts: f64,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(flatten)]
    pub body: Body,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<TraceResponse>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    #[serde(flatten)]
    pub body: Body,
}

/// `body` (UTF-8 text), `body_base64` (anything else), or neither (empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl Body {
    pub fn from_bytes(bytes: Vec<u8>) -> Body {
        if bytes.is_empty() {
            return Body::default();
        }
        match String::from_utf8(bytes) {
            Ok(text) => Body {
                body: Some(text),
                body_base64: None,
            },
            Err(e) => Body {
                body: None,
                body_base64: Some(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
            },
        }
    }
}

/// Request or response headers as the format wants them: names in lower
/// case, repeated headers joined by `", "`, HTTP/2 pseudo-headers
/// (`:path`, …) left out (they have their own fields), and so are the
/// filter's own `x-distill-guard-*` headers: a tap sees request headers as
/// they leave the filter chain, tags included, and the filter strips any a
/// client sends before reading.
pub fn header_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in pairs {
        if name.starts_with(':') || is_reserved(name) {
            continue;
        }
        out.entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_trace_format() {
        let line = TraceLine {
            ts: 1.5,
            method: "POST".into(),
            path: "/v1/messages".into(),
            authority: None,
            headers: header_map([
                ("X-Api-Key", "k"),
                (":path", "/x"),
                ("Accept", "a"),
                ("accept", "b"),
                ("X-Distill-Guard-Action", "tag"),
            ]),
            source_ip: Some("10.0.0.1".into()),
            body: Body::from_bytes(b"{}".to_vec()),
            response: Some(TraceResponse {
                status: 200,
                headers: header_map([]),
                body: Body::from_bytes(vec![0xff, 0]),
            }),
        };
        let v: serde_json::Value = serde_json::from_str(&serde_json::to_string(&line).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "ts": 1.5, "method": "POST", "path": "/v1/messages",
                "headers": {"accept": "a, b", "x-api-key": "k"},
                "source_ip": "10.0.0.1", "body": "{}",
                "response": {"status": 200, "headers": {}, "body_base64": "/wA="}
            })
        );
    }
}
