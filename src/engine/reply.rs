//! The answer sent instead of forwarding a denied request: the status, a
//! `Retry-After` for throttling, and a body in the error format of the API
//! that was called, so SDKs surface a readable error.
//!
//! It says nothing about how the request was judged: no reason code, score
//! or threshold, in the headers or the body, or a distiller would learn
//! which detector fired from every denial and tune around it. Reasons stay
//! in the log, metrics, filter state and (for tags) the upstream headers.
//! `response.expose_reasons` adds them back for debugging.

use super::headers::{ACTION, REASONS, SCORE};
use crate::api::error_body;
use crate::api::Provider;
use crate::config::Settings;
use crate::verdict::{Action, Verdict};

/// The longest `Retry-After` an SDK client is told to wait out and retry on
/// its own (two retries by default: at most about 20 s inside the client).
pub const SDK_RETRY_MAX_SECS: u64 = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct LocalReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn local_reply(settings: &Settings, verdict: &Verdict, provider: Provider) -> LocalReply {
    let (status, message) = if verdict.action == Action::Throttle {
        (
            settings.throttle_status,
            "Request rate limited by distill-guard; retry later.",
        )
    } else {
        (
            settings.block_status,
            "Request blocked by distill-guard: this traffic pattern is not permitted.",
        )
    };
    let (content_type, body) = error_body(provider, status, message);
    // Names and fixed values through one non-inlined copy (issue 8:
    // module size).
    use crate::config::raw::owned;
    let mut headers = vec![(owned("content-type"), content_type)];
    let retry_after = verdict.retry_after_secs.max(1);
    if verdict.action == Action::Throttle {
        let mut secs = String::new();
        crate::decimal::push_u64(&mut secs, retry_after);
        headers.push((owned("retry-after"), secs));
    }
    // The OpenAI and Anthropic SDKs obey `x-should-retry` over their own
    // rules: let them wait out a short throttle, fail at once otherwise
    // (docs/clients.md).
    let sdk_retry = verdict.action == Action::Throttle && retry_after <= SDK_RETRY_MAX_SECS;
    headers.push((owned("x-should-retry"), owned(if sdk_retry { "true" } else { "false" })));
    if settings.expose_reasons {
        headers.push((owned(ACTION), owned(verdict.action.as_str())));
        headers.push((owned(SCORE), verdict.score_header()));
        headers.push((owned(REASONS), verdict.reasons_header()));
    }
    LocalReply { status, headers, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The headers' names and values, written out: `retry-after` in whole
    /// seconds (at least 1), `x-should-retry` true only for a throttle the
    /// SDKs may wait out.
    #[wasm_bindgen_test(unsupported = test)]
    fn denial_headers_are_written_out() {
        let settings = Settings::default();
        for (action, secs, expected) in [
            (
                Action::Throttle,
                0,
                vec![("retry-after", "1"), ("x-should-retry", "true")],
            ),
            (
                Action::Throttle,
                10,
                vec![("retry-after", "10"), ("x-should-retry", "true")],
            ),
            (
                Action::Throttle,
                11,
                vec![("retry-after", "11"), ("x-should-retry", "false")],
            ),
            (
                Action::Throttle,
                86_400,
                vec![("retry-after", "86400"), ("x-should-retry", "false")],
            ),
            (Action::Block, 30, vec![("x-should-retry", "false")]),
        ] {
            let verdict = Verdict {
                action,
                intended: action,
                score: 0.95,
                reasons: Vec::new(),
                retry_after_secs: secs,
            };
            let reply = local_reply(&settings, &verdict, Provider::OpenAi);
            let headers: Vec<(&str, &str)> = reply
                .headers
                .iter()
                .skip(1)
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            assert_eq!(headers, expected, "{action:?} {secs}");
            assert_eq!(reply.headers.first().map(|(n, _)| n.as_str()), Some("content-type"));
        }
    }
}
