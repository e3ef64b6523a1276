//! One trace line (trace-format.md) parsed into what the engine needs.

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use serde::Deserialize;

use crate::request::RequestMeta;

/// The trace line as written; unknown fields (`label`, …) are ignored.
#[derive(Deserialize)]
struct Raw {
    ts: Option<f64>,
    method: Option<String>,
    path: Option<String>,
    authority: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    source_ip: Option<String>,
    body: Option<String>,
    body_base64: Option<String>,
    response: Option<RawResponse>,
}

/// The `response` object: its status, and for answer-side counting its
/// headers and body (a streamed answer is its SSE text).
#[derive(Deserialize)]
struct RawResponse {
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_base64: Option<String>,
}

/// A recorded answer's headers and bytes.
#[derive(Debug, Default)]
pub struct TraceResponse {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub body: Option<Vec<u8>>,
}

impl TraceResponse {
    /// The engine's view of this answer with `status`.
    pub fn recorded(&self, status: u16) -> crate::engine::Recorded<'_> {
        crate::engine::Recorded {
            status,
            content_type: self.content_type.as_deref(),
            content_encoding: self.content_encoding.as_deref(),
            body: self.body.as_deref(),
        }
    }
}

/// A body given as text or base64 (at most one of them).
fn body_of(text: Option<String>, base64: Option<String>, what: &str) -> Result<Option<Vec<u8>>, String> {
    match (text, base64) {
        (Some(_), Some(_)) => Err(format!(
            "both `{what}body` and `{what}body_base64` are set; at most one is allowed"
        )),
        (Some(b), None) => Ok(Some(b.into_bytes())),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .map(Some)
            .map_err(|e| format!("`{what}body_base64` is not valid base64: {e}")),
        (None, None) => Ok(None),
    }
}

/// A request ready for the engine.
#[derive(Debug)]
pub struct TraceRequest {
    pub ts: f64,
    pub meta: RequestMeta,
    pub body: Vec<u8>,
    /// The upstream's status for this request (`response.status`), if
    /// recorded.
    pub status: Option<u16>,
    /// The upstream's answer (`response` headers and body), if recorded.
    pub response: TraceResponse,
}

/// Parses one line; the error says what is wrong (the caller adds the line
/// number).
pub fn parse_line(line: &str) -> Result<TraceRequest, String> {
    let raw: Raw = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let ts = raw.ts.ok_or("missing required field `ts`")?;
    if !ts.is_finite() || ts < 0.0 {
        return Err(format!("`ts` must be a non-negative number, got {ts}"));
    }
    let path = raw.path.ok_or("missing required field `path`")?;
    let body = body_of(raw.body, raw.body_base64, "")?.unwrap_or_default();
    let source_ip = match raw.source_ip {
        Some(s) => Some(
            s.parse::<IpAddr>()
                .map_err(|_| format!("`source_ip` is not an IP address: {s:?}"))?,
        ),
        None => None,
    };
    // The format says names are lower case; normalise anyway so a sloppy
    // exporter still matches the filter's lookups.
    let headers = raw
        .headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let meta = RequestMeta {
        method: raw.method.unwrap_or_else(|| "POST".to_owned()),
        path,
        authority: raw.authority,
        headers,
        source_ip,
    };
    let (status, response) = match raw.response {
        Some(r) => {
            let header = |name: &str| {
                r.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            };
            let response = TraceResponse {
                content_type: header("content-type"),
                content_encoding: header("content-encoding"),
                body: body_of(r.body, r.body_base64, "response.")?,
            };
            (r.status, response)
        }
        None => (None, TraceResponse::default()),
    };
    Ok(TraceRequest {
        ts,
        meta,
        body,
        status,
        response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_fields() {
        let r = parse_line(r#"{"ts": 1.5, "path": "/v1/messages", "headers": {"X-Api-Key": "k"}, "source_ip": "::1", "body": "{}", "label": {"class": "benign"}}"#).unwrap();
        assert_eq!(r.meta.method, "POST");
        assert_eq!(r.meta.header("x-api-key"), Some("k"));
        assert_eq!(r.body, b"{}");
        assert!(r.meta.source_ip.is_some());
        assert_eq!(r.status, None);
        let r = parse_line(r#"{"ts": 1, "path": "/", "response": {"status": 401, "body": "no"}}"#).unwrap();
        assert_eq!(r.status, Some(401));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse_line("{").unwrap_err().contains("invalid JSON"));
        assert!(parse_line(r#"{"path": "/"}"#).unwrap_err().contains("`ts`"));
        assert!(
            parse_line(r#"{"ts": 1, "path": "/", "body": "a", "body_base64": "YQ=="}"#)
                .unwrap_err()
                .contains("both")
        );
        assert!(parse_line(r#"{"ts": 1, "path": "/", "body_base64": "!!"}"#)
            .unwrap_err()
            .contains("base64"));
        assert!(parse_line(r#"{"ts": 1, "path": "/", "source_ip": "nope"}"#)
            .unwrap_err()
            .contains("source_ip"));
        assert_eq!(
            parse_line(r#"{"ts": 1, "path": "/", "body_base64": "YQ=="}"#)
                .unwrap()
                .body,
            b"a"
        );
    }
}
