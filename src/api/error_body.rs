//! Error answers in the shape of the API that was called, so that the
//! caller's SDK raises its ordinary rate-limit or permission error with a
//! readable message instead of failing to decode the body.
//!
//! - OpenAI and Azure OpenAI: `{"error":{"message","type","param":null,"code"}}`.
//!   SDKs pick the exception class from the status and show `message`;
//!   `code` is what scripts test (`rate_limit_exceeded` for 429, as OpenAI's
//!   own limiter answers).
//! - Anthropic: `{"type":"error","error":{"type","message"}}` with Anthropic's
//!   documented error types (`rate_limit_error`, `permission_error`, …).
//! - Gemini: `{"error":{"code","message","status"}}`, the Google API error
//!   with the canonical gRPC status name (`RESOURCE_EXHAUSTED`, …).
//!
//! Bodies are written directly, keys in sorted order and the message
//! escaped by the JSON writer: the bytes serde_json wrote before, and that
//! the `json::Value` tree wrote after it (a tree and a sort per body was
//! ~2.5 KB of the module for a constant shape; issue 8: module size).

use super::Provider;
use crate::json::write_string;

/// `(content-type, body)` for an error with this HTTP status and message.
pub fn error_body(provider: Provider, status: u16, message: &str) -> (String, String) {
    let mut b = String::with_capacity(message.len() + 112);
    let content_type = match provider {
        Provider::OpenAi | Provider::AzureOpenAi => {
            let (kind, code) = openai_kind(status);
            b.push_str("{\"error\":{\"code\":");
            match code {
                Some(code) => write_string(&mut b, code),
                None => b.push_str("null"),
            }
            b.push_str(",\"message\":");
            write_string(&mut b, message);
            b.push_str(",\"param\":null,\"type\":");
            write_string(&mut b, kind);
            b.push_str("}}");
            "application/json"
        }
        Provider::Anthropic => {
            b.push_str("{\"error\":{\"message\":");
            write_string(&mut b, message);
            b.push_str(",\"type\":");
            write_string(&mut b, anthropic_kind(status));
            b.push_str("},\"type\":\"error\"}");
            "application/json"
        }
        Provider::Gemini => {
            b.push_str("{\"error\":{\"code\":");
            crate::decimal::push_u64(&mut b, u64::from(status));
            b.push_str(",\"message\":");
            write_string(&mut b, message);
            b.push_str(",\"status\":");
            write_string(&mut b, google_status(status));
            b.push_str("}}");
            "application/json; charset=UTF-8"
        }
    };
    (content_type.to_owned(), b)
}

/// OpenAI's `type` and `code` for a status.
fn openai_kind(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        429 => ("requests", Some("rate_limit_exceeded")),
        403 => ("invalid_request_error", Some("permission_denied")),
        401 => ("invalid_request_error", Some("invalid_api_key")),
        404 => ("invalid_request_error", Some("not_found")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    }
}

/// Anthropic's error `type` for a status (their errors page).
fn anthropic_kind(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// The canonical Google API status for an HTTP status.
fn google_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn body(provider: Provider, status: u16, message: &str) -> Value {
        let (ct, b) = error_body(provider, status, message);
        assert!(ct.starts_with("application/json"));
        serde_json::from_str(&b).unwrap()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn openai_and_azure_shape() {
        for p in [Provider::OpenAi, Provider::AzureOpenAi] {
            assert_eq!(
                body(p, 429, "Slow down"),
                json!({"error": {"message": "Slow down", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
            );
            let forbidden = body(p, 403, "No");
            assert_eq!(forbidden["error"]["code"], "permission_denied");
            assert_eq!(forbidden["error"]["type"], "invalid_request_error");
        }
        assert_eq!(body(Provider::OpenAi, 503, "x")["error"]["code"], Value::Null);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn anthropic_shape() {
        assert_eq!(
            body(Provider::Anthropic, 429, "Slow down"),
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}})
        );
        assert_eq!(
            body(Provider::Anthropic, 403, "No")["error"]["type"],
            "permission_error"
        );
        assert_eq!(body(Provider::Anthropic, 529, "x")["error"]["type"], "overloaded_error");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn gemini_shape() {
        assert_eq!(
            body(Provider::Gemini, 429, "Slow down"),
            json!({"error": {"code": 429, "message": "Slow down", "status": "RESOURCE_EXHAUSTED"}})
        );
        assert_eq!(
            body(Provider::Gemini, 403, "No")["error"]["status"],
            "PERMISSION_DENIED"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn bytes_are_what_serde_json_wrote() {
        // Every status an operator can configure (400-599) and messages
        // with every kind of escape: the body is written without a tree,
        // keys in the order serde_json's sorted map wrote them.
        let controls: String = (0u8..0x20).map(char::from).collect();
        let messages = [
            "a \"b\" \\ \n \u{1} \u{4e2d}",
            "",
            controls.as_str(),
            "\u{7f} \u{2028} \u{1f600} </script>",
            "Request rate limited by distill-guard; retry later.",
        ];
        for (status, m) in (400..=599).flat_map(|s| messages.iter().map(move |m| (s, *m))) {
            let (kind, code) = openai_kind(status);
            let cases = [
                (
                    Provider::OpenAi,
                    json!({"error": {"message": m, "type": kind, "param": null, "code": code}}),
                ),
                (
                    Provider::Anthropic,
                    json!({"type": "error", "error": {"type": anthropic_kind(status), "message": m}}),
                ),
                (
                    Provider::Gemini,
                    json!({"error": {"code": status, "message": m, "status": google_status(status)}}),
                ),
            ];
            for (p, want) in cases {
                assert_eq!(error_body(p, status, m).1, want.to_string());
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn messages_are_escaped() {
        let nasty = "quote \" backslash \\ newline \n tab \t nul \u{0} \u{4e2d}";
        for p in [Provider::OpenAi, Provider::Anthropic, Provider::Gemini] {
            let v = body(p, 429, nasty);
            assert_eq!(v["error"]["message"], nasty);
        }
    }
}
