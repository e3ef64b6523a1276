//! Padding past the inspection cap (issue 10). A body that starts with
//! `{`, then whitespace or base64-looking filler past the cap, then the
//! real request, must be read as if the padding were not there; a body cut
//! off before any prompt is its own outcome with a policy of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Decision, Engine, Host};
use distill_guard::metrics::{Counter, MemoryMetrics};
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;
use distill_guard::verdict::Action;

const RULE: &str = r#""rules": [{"phrases": ["pineapple"], "action": "block"}], "detection": {"enabled": false}"#;

fn evaluate(config: &str, path: &str, body: &[u8], metrics: &MemoryMetrics) -> Decision {
    let engine = Engine::from_config(config.as_bytes()).unwrap();
    let store = MemoryStore::new();
    let clock = ManualClock::new(1_767_225_600.0);
    let meta = RequestMeta {
        method: "POST".into(),
        path: path.into(),
        authority: Some("llm.example".into()),
        headers: vec![("authorization".into(), "Bearer sk-pad".into())],
        source_ip: Some("198.51.100.20".parse().unwrap()),
    };
    let host = Host {
        store: &store,
        clock: &clock,
        metrics,
    };
    engine.evaluate(meta, body, &host)
}

const CHAT: &str = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"pineapple facts"}]}"#;

/// `{` + `pad` + the rest of `json`.
fn padded(json: &str, pad: &[u8]) -> Vec<u8> {
    let mut out = b"{".to_vec();
    out.extend_from_slice(pad);
    out.extend_from_slice(&json.as_bytes()[1..]);
    out
}

#[test]
fn whitespace_padding_past_the_cap_does_not_hide_the_prompt() {
    let config = format!(r#"{{"mode": "enforce", "identity": {{"secret": "s3cret"}}, {RULE}}}"#);
    let plain = evaluate(
        &config,
        "/v1/chat/completions",
        CHAT.as_bytes(),
        &MemoryMetrics::default(),
    );
    assert_eq!(plain.verdict.action, Action::Block);
    for pad in [b' ', b'\n', b'\t', b'\r'] {
        let body = padded(CHAT, &vec![pad; 300 * 1024]);
        let m = MemoryMetrics::default();
        let d = evaluate(&config, "/v1/chat/completions", &body, &m);
        assert_eq!(d.verdict.action, Action::Block, "padding {pad:?}: {:?}", d.verdict);
        assert_eq!(d.verdict.reasons, plain.verdict.reasons);
        assert_eq!(m.get(Counter::ParseFailure("malformed")), 0);
    }
}

#[test]
fn whitespace_between_every_token_is_compacted_too() {
    let config = format!(r#"{{"mode": "enforce", "identity": {{"secret": "s3cret"}}, {RULE}}}"#);
    let spaced = CHAT
        .replace(',', &format!("{},{}", " ".repeat(70_000), "\n".repeat(70_000)))
        .replace(':', &format!("\t{}:", " ".repeat(30_000)));
    assert!(spaced.len() > 300 * 1024);
    let d = evaluate(
        &config,
        "/v1/chat/completions",
        spaced.as_bytes(),
        &MemoryMetrics::default(),
    );
    assert_eq!(d.verdict.action, Action::Block, "{:?}", d.verdict);
}

#[test]
fn a_base64_blob_ahead_of_the_text_does_not_hide_it() {
    // An image sent inline before the question (a real multimodal shape,
    // and free padding: the upstream bills an image by its size in pixels,
    // not in base64 bytes).
    let config = format!(r#"{{"mode": "enforce", "identity": {{"secret": "s3cret"}}, {RULE}}}"#);
    let blob = "iVBORw0KGgo".repeat(40_000);
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{{"role":"user","content":[{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{blob}"}}}},{{"type":"text","text":"pineapple facts"}}]}}]}}"#
    );
    let d = evaluate(&config, "/v1/messages", body.as_bytes(), &MemoryMetrics::default());
    assert_eq!(d.verdict.action, Action::Block, "{:?}", d.verdict);
}

/// Past the cap with no prompt in view (here: a long list of tools before
/// the messages) is `no_prompt_in_prefix`, counted, and denied in enforce
/// mode by default.
fn tools_first() -> String {
    let tool = r#"{"type":"function","function":{"name":"f","description":"a tool that does one thing and describes it at length","parameters":{"type":"object"}}}"#;
    let tools = vec![tool; 4000].join(",");
    format!(r#"{{"model":"gpt-4o","tools":[{tools}],"messages":[{{"role":"user","content":"pineapple facts"}}]}}"#)
}

#[test]
fn no_prompt_in_prefix_is_its_own_outcome_and_denied_in_enforce_mode() {
    let body = tools_first();
    assert!(body.len() > 256 * 1024);
    let m = MemoryMetrics::default();
    let d = evaluate(
        r#"{"mode": "enforce", "identity": {"secret": "s3cret"}, "detection": {"enabled": false}}"#,
        "/v1/chat/completions",
        body.as_bytes(),
        &m,
    );
    assert_eq!(m.get(Counter::ParseFailure("no_prompt_in_prefix")), 1);
    assert_eq!(d.verdict.action, Action::Block, "{:?}", d.verdict);
    assert!(
        d.verdict.reasons.contains(&"no_prompt_in_prefix"),
        "{:?}",
        d.verdict.reasons
    );
}

#[test]
fn no_prompt_in_prefix_policy_can_be_relaxed_and_shadow_never_denies() {
    let body = tools_first();
    let relaxed = r#"{"mode": "enforce", "identity": {"secret": "s3cret"}, "body": {"on_no_prompt_in_prefix": "tag"}, "detection": {"enabled": false}}"#;
    let d = evaluate(
        relaxed,
        "/v1/chat/completions",
        body.as_bytes(),
        &MemoryMetrics::default(),
    );
    assert_eq!(d.verdict.action, Action::Tag);
    let shadow = r#"{"mode": "shadow", "detection": {"enabled": false}}"#;
    let d = evaluate(
        shadow,
        "/v1/chat/completions",
        body.as_bytes(),
        &MemoryMetrics::default(),
    );
    assert_eq!((d.verdict.action, d.verdict.intended), (Action::Tag, Action::Block));
}

#[test]
fn a_body_cut_after_its_prompt_is_read_as_before() {
    // A long prompt past the cap is the ordinary truncated case: prompt in
    // view, no `no_prompt_in_prefix`.
    let long = format!(
        r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"pineapple {}"}}]}}"#,
        "word ".repeat(100_000)
    );
    let m = MemoryMetrics::default();
    let config = format!(r#"{{"mode": "enforce", "identity": {{"secret": "s3cret"}}, {RULE}}}"#);
    let d = evaluate(&config, "/v1/chat/completions", long.as_bytes(), &m);
    assert_eq!(d.verdict.action, Action::Block);
    assert_eq!(m.get(Counter::BodyTruncated), 1);
    assert_eq!(m.get(Counter::ParseFailure("no_prompt_in_prefix")), 0);
}
