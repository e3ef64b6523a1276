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
    is_reserved_bytes(name.as_bytes())
}

/// [`is_reserved`] of a name as the host's bytes, undecoded (the glue asks
/// it of every request header): the prefix is ASCII, so a name's bytes
/// start with it exactly when its text (lossily decoded or not) does.
pub fn is_reserved_bytes(name: &[u8]) -> bool {
    name.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX.as_bytes()))
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

    /// Against the text definition it replaced, on names cut mid-char at
    /// the prefix's end and names that are no UTF-8 (as text: lossily).
    #[wasm_bindgen_test(unsupported = test)]
    fn reserved_bytes_as_the_text_test() {
        let old = |name: &str| {
            name.len() >= PREFIX.len() && name.get(..PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        };
        let names: [&[u8]; 10] = [
            b"x-distill-guard-",
            b"X-DISTILL-GUARD-score",
            b"x-distill-guard",
            b"x-distill-guar\xc3\xa9-x",
            "x-distill-guard\u{e9}x".as_bytes(),
            b"x-distill-guard-\xff",
            b"\xffx-distill-guard-a",
            b"x-distill-gua\xffd-a",
            b"",
            b"content-type",
        ];
        for name in names {
            let text = String::from_utf8_lossy(name);
            assert_eq!(is_reserved_bytes(name), old(&text), "{text:?}");
            assert_eq!(is_reserved(&text), old(&text), "{text:?}");
        }
    }
}
