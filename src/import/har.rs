//! HAR 1.2 (browser developer tools, mitmproxy, Charles, …): `log.entries`,
//! each with `startedDateTime`, `request` (`method`, `url`, `headers`,
//! `postData.text`) and `response` (`status`, `headers`, `content.text`,
//! `content.encoding`). HAR has no client address: `source_ip` is left out.

use base64::Engine as _;
use serde_json::Value;

use super::line::{header_map, Body, TraceLine, TraceResponse};
use super::time::parse_rfc3339;

/// True for a document that looks like a HAR file.
pub fn is_har(doc: &Value) -> bool {
    doc.get("log")
        .and_then(|l| l.get("entries"))
        .is_some_and(Value::is_array)
}

/// Every entry of a HAR document; an error names the entry.
pub fn convert(doc: &Value) -> Result<Vec<TraceLine>, String> {
    let entries = doc
        .get("log")
        .and_then(|l| l.get("entries"))
        .and_then(Value::as_array)
        .ok_or("not a HAR file: no log.entries")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| entry(e).map_err(|why| format!("entry {i}: {why}")))
        .collect()
}

fn entry(e: &Value) -> Result<TraceLine, String> {
    let started = e
        .get("startedDateTime")
        .and_then(Value::as_str)
        .ok_or("no startedDateTime")?;
    let ts = parse_rfc3339(started)?;
    let req = e.get("request").ok_or("no request")?;
    let url = req.get("url").and_then(Value::as_str).ok_or("no request.url")?;
    let (authority, path) = split_url(url)?;
    let method = req.get("method").and_then(Value::as_str).unwrap_or("POST").to_owned();
    let body = req
        .get("postData")
        .map(|p| text_body(p.get("text"), p.get("encoding")))
        .transpose()?
        .unwrap_or_default();
    let response = match e.get("response") {
        // Browsers write status 0 for a request that never got an answer.
        Some(r) if r.get("status").and_then(Value::as_u64).unwrap_or(0) > 0 => Some(TraceResponse {
            status: r
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0),
            headers: headers(r),
            body: r
                .get("content")
                .map(|c| text_body(c.get("text"), c.get("encoding")))
                .transpose()?
                .unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(TraceLine {
        ts,
        method,
        path,
        authority,
        headers: headers(req),
        source_ip: None,
        body,
        response,
    })
}

fn headers(message: &Value) -> std::collections::BTreeMap<String, String> {
    let list = message
        .get("headers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    header_map(
        list.iter()
            .filter_map(|h| Some((h.get("name")?.as_str()?, h.get("value")?.as_str()?))),
    )
}

/// A HAR text with an optional `encoding: "base64"`.
fn text_body(text: Option<&Value>, encoding: Option<&Value>) -> Result<Body, String> {
    let Some(text) = text.and_then(Value::as_str) else {
        return Ok(Body::default());
    };
    if encoding.and_then(Value::as_str) == Some("base64") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| format!("body is not valid base64: {e}"))?;
        return Ok(Body::from_bytes(bytes));
    }
    Ok(Body::from_bytes(text.as_bytes().to_vec()))
}

/// `https://api.example.com/v1/x?y=1` → (`api.example.com`, `/v1/x?y=1`).
fn split_url(url: &str) -> Result<(Option<String>, String), String> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("request.url is not absolute: {url:?}"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    // Userinfo is a credential: never carried over.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let path = path.split_once('#').map_or(path.as_str(), |(p, _)| p).to_owned();
    Ok(((!authority.is_empty()).then(|| authority.to_owned()), path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_entries_with_request_and_response() {
        let doc = json!({"log": {"version": "1.2", "entries": [{
            "startedDateTime": "2026-11-30T16:44:50.500Z",
            "request": {"method": "POST", "url": "https://user:pw@api.example.com/v1/chat/completions?x=1#frag",
                        "headers": [{"name": "Authorization", "value": "Bearer sk-1"}, {"name": ":authority", "value": "api.example.com"}],
                        "postData": {"mimeType": "application/json", "text": "{\"model\":\"m\"}"}},
            "response": {"status": 429, "headers": [{"name": "Retry-After", "value": "7"}],
                         "content": {"mimeType": "application/json", "text": "eyJ9", "encoding": "base64"}}
        }, {
            "startedDateTime": "2026-11-30T16:44:51Z",
            "request": {"method": "GET", "url": "http://localhost:8080", "headers": []},
            "response": {"status": 0, "headers": [], "content": {}}
        }]}});
        assert!(is_har(&doc));
        let lines = convert(&doc).unwrap();
        let a = &lines[0];
        assert!((a.ts - 1_796_057_090.5).abs() < 1e-6);
        assert_eq!(
            (a.method.as_str(), a.path.as_str()),
            ("POST", "/v1/chat/completions?x=1")
        );
        assert_eq!(a.authority.as_deref(), Some("api.example.com"));
        assert_eq!(a.headers.get("authorization").map(String::as_str), Some("Bearer sk-1"));
        assert!(!a.headers.contains_key(":authority"));
        assert_eq!(a.body.body.as_deref(), Some("{\"model\":\"m\"}"));
        let r = a.response.as_ref().unwrap();
        assert_eq!((r.status, r.body.body.as_deref()), (429, Some("{\"}")));
        assert_eq!(r.headers.get("retry-after").map(String::as_str), Some("7"));
        assert_eq!((lines[1].path.as_str(), lines[1].response.is_none()), ("/", true));
    }

    #[test]
    fn errors_name_the_entry() {
        let doc = json!({"log": {"entries": [
            {"startedDateTime": "2026-11-30T16:44:50Z", "request": {"url": "https://a/b"}},
            {"startedDateTime": "soon", "request": {"url": "https://a/b"}}
        ]}});
        let err = convert(&doc).unwrap_err();
        assert!(err.starts_with("entry 1: ") && err.contains("RFC 3339"), "{err}");
        let err = convert(
            &json!({"log": {"entries": [{"startedDateTime": "2026-11-30T16:44:50Z", "request": {"url": "/rel"}}]}}),
        )
        .unwrap_err();
        assert!(err.contains("not absolute"), "{err}");
        assert!(convert(&json!({"x": 1})).unwrap_err().contains("not a HAR"));
    }
}
