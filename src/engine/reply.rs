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
    let mut headers = vec![("content-type".to_owned(), content_type)];
    let retry_after = verdict.retry_after_secs.max(1);
    if verdict.action == Action::Throttle {
        headers.push(("retry-after".to_owned(), retry_after.to_string()));
    }
    // The OpenAI and Anthropic SDKs obey `x-should-retry` over their own
    // rules: let them wait out a short throttle, fail at once otherwise
    // (docs/clients.md).
    let sdk_retry = verdict.action == Action::Throttle && retry_after <= SDK_RETRY_MAX_SECS;
    headers.push(("x-should-retry".to_owned(), sdk_retry.to_string()));
    if settings.expose_reasons {
        headers.push((ACTION.to_owned(), verdict.action.as_str().to_owned()));
        headers.push((SCORE.to_owned(), verdict.score_header()));
        headers.push((REASONS.to_owned(), verdict.reasons_header()));
    }
    LocalReply { status, headers, body }
}
