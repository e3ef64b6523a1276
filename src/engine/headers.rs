//! The `x-distill-guard-*` request headers the filter adds when it tags.
//! Upstreams trust them, so the glue removes any a client sent.

use crate::config::Mode;
use crate::verdict::Verdict;

pub const PREFIX: &str = "x-distill-guard-";
/// What enforce mode does or would do: `tag`, `throttle`, `block`.
pub const ACTION: &str = "x-distill-guard-action";
pub const SCORE: &str = "x-distill-guard-score";
pub const REASONS: &str = "x-distill-guard-reasons";
/// `shadow` or `enforce`, so an upstream can tell a shadow-mode `block`
/// (forwarded) from an enforced tag.
pub const MODE: &str = "x-distill-guard-mode";

/// Filter state keys (readable in access logs as
/// `%FILTER_STATE(wasm.distill_guard.action:PLAIN)%` and so on).
pub const STATE_ACTION: &str = "wasm.distill_guard.action";
pub const STATE_SCORE: &str = "wasm.distill_guard.score";
pub const STATE_REASONS: &str = "wasm.distill_guard.reasons";
pub const STATE_IDENTITY: &str = "wasm.distill_guard.identity";
/// `action` is what was done (`allow`, `tag`, `throttle`, `block`);
/// `intended` what enforce mode does or would do (in shadow mode a would-be
/// block is `action` tag, `intended` block); `mode` `shadow` or `enforce`.
pub const STATE_INTENDED: &str = "wasm.distill_guard.intended";
pub const STATE_MODE: &str = "wasm.distill_guard.mode";

/// True for a header name the filter owns (lower-case input).
pub fn is_reserved(name: &str) -> bool {
    name.len() >= PREFIX.len() && name.get(..PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
}

pub fn tag_headers(v: &Verdict, mode: Mode) -> Vec<(&'static str, String)> {
    vec![
        (ACTION, v.intended.as_str().to_owned()),
        (SCORE, v.score_header()),
        (REASONS, v.reasons_header()),
        (MODE, mode.as_str().to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn reserved_names() {
        assert!(is_reserved("x-distill-guard-action"));
        assert!(is_reserved("X-Distill-Guard-Anything"));
        assert!(!is_reserved("x-distill"));
        assert!(!is_reserved("x-api-key"));
    }
}
