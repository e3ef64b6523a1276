//! Every configuration error names its field and says what is wrong.

use super::*;
use wasm_bindgen_test::wasm_bindgen_test;

fn err(doc: &str) -> ConfigError {
    match load(doc.as_bytes()) {
        Ok(_) => panic!("accepted: {doc}"),
        Err(e) => e,
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn empty_and_minimal_documents_take_defaults() {
    for doc in ["", "  \n", "{}"] {
        let s = load(doc.as_bytes()).unwrap();
        assert_eq!(s.mode, Mode::Shadow);
        assert_eq!(s.max_inspect_bytes, 256 * 1024);
        assert!(s.default_secret);
        assert_eq!(s.identity_sources.len(), 5);
        assert_eq!(s.namespace, "dg");
        assert_eq!(s.detection.namespace, "dg");
    }
    let s = load(br#"{"mode": "enforce", "identity": {"secret": "t1-secret"}, "shared_data": {"namespace": "t1"}}"#)
        .unwrap();
    assert_eq!(s.mode, Mode::Enforce);
    assert_eq!(s.detection.namespace, "t1");
}

#[wasm_bindgen_test(unsupported = test)]
fn verified_jwt_claims_are_accepted() {
    let s = load(br#"{"identity": {"sources": [{"jwt_claim": "sub", "verified_by_envoy": true}]}}"#).unwrap();
    assert_eq!(
        s.identity_sources,
        vec![IdentitySource::JwtClaim {
            header: "authorization".into(),
            claim: "sub".into()
        }]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn error_table() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"{"mode": "enforcing"}"#, "mode", "unknown variant `enforcing`"),
        (r#"{"mod": "shadow"}"#, "mod", "unknown field `mod`"),
        (
            r#"{"identity": {"secrets": "x"}}"#,
            "identity.secrets",
            "unknown field `secrets`",
        ),
        (r#"{"identity": {"sources": []}}"#, "identity.sources", "at least one"),
        (
            r#"{"identity": {"sources": ["authorization", "cookie"]}}"#,
            "identity.sources[1]",
            "unknown credential `cookie`",
        ),
        (
            r#"{"identity": {"sources": [{"header": "x y"}]}}"#,
            "identity.sources[0].header",
            "not a valid header name",
        ),
        (
            r#"{"mode": "enforce"}"#,
            "identity.secret",
            "enforce mode needs a secret of your own",
        ),
        (
            r#"{"mode": "enforce", "identity": {"secret": "distill-guard default identity secret"}}"#,
            "identity.secret",
            "enforce mode needs a secret of your own",
        ),
        (
            r#"{"mode": "enforce", "identity": {"secret": ""}}"#,
            "identity.secret",
            "enforce mode needs a secret of your own",
        ),
        (
            r#"{"identity": {"sources": [{"jwt_claim": "sub"}]}}"#,
            "identity.sources[0].verified_by_envoy",
            "signature is not checked",
        ),
        (
            r#"{"identity": {"sources": [{"jwt_claim": "sub", "verified_by_envoy": false}]}}"#,
            "identity.sources[0].verified_by_envoy",
            "jwt_authn",
        ),
        (
            r#"{"identity": {"sources": [{"jwt_claim": ""}]}}"#,
            "identity.sources[0].jwt_claim",
            "must name a claim",
        ),
        (
            r#"{"identity": {"trusted_xff_hops": 99}}"#,
            "identity.trusted_xff_hops",
            "at most 16",
        ),
        (
            r#"{"identity": {"tls_fingerprint_header": "x:ja4"}}"#,
            "identity.tls_fingerprint_header",
            "not a valid header name",
        ),
        (
            r#"{"body": {"max_inspect_bytes": 10}}"#,
            "body.max_inspect_bytes",
            "between 1024",
        ),
        (
            r#"{"body": {"max_inspect_bytes": -1}}"#,
            "body.max_inspect_bytes",
            "invalid value",
        ),
        (
            r#"{"body": {"max_inspect_bytes": 2097152}}"#,
            "body.max_inspect_bytes",
            "above body.max_buffer_bytes (1048576): Envoy would stop reading",
        ),
        (
            r#"{"body": {"max_buffer_bytes": 16777216}}"#,
            "body.max_buffer_bytes",
            "between 1024 and 8388608",
        ),
        (
            r#"{"body": {"on_no_prompt_in_prefix": "throttle"}}"#,
            "body.on_no_prompt_in_prefix",
            "unknown variant `throttle`",
        ),
        (
            r#"{"body": {"on_parse_error": "drop"}}"#,
            "body.on_parse_error",
            "unknown variant `drop`",
        ),
        (
            r#"{"response": {"throttle_status": 200}}"#,
            "response.throttle_status",
            "400-599",
        ),
        (
            r#"{"response": {"block_status": 700}}"#,
            "response.block_status",
            "400-599",
        ),
        (
            r#"{"response": {"retry_after_secs": 0}}"#,
            "response.retry_after_secs",
            "between 1 and 86400",
        ),
        (
            r#"{"metrics": {"flush_interval_ms": 60001}}"#,
            "metrics.flush_interval_ms",
            "at most 60000",
        ),
        (r#"{"thresholds": {"tag": 0}}"#, "thresholds.tag", "(0, 1]"),
        (r#"{"thresholds": {"block": 1.5}}"#, "thresholds.block", "(0, 1]"),
        (
            r#"{"thresholds": {"tag": 0.8, "throttle": 0.5}}"#,
            "thresholds",
            "tag <= throttle <= block",
        ),
        (
            r#"{"allowlist": {"identities": ["sk-raw-key"]}}"#,
            "allowlist.identities[0]",
            "never a raw credential",
        ),
        (
            r#"{"allowlist": {"client_cidrs": ["10.0.0.0/8", "10.0.0.0/33"]}}"#,
            "allowlist.client_cidrs[1]",
            "prefix must be 0-32",
        ),
        (
            r#"{"allowlist": {"client_cidrs": ["nonsense"]}}"#,
            "allowlist.client_cidrs[0]",
            "not an address",
        ),
        (
            r#"{"rules": [{"phrases": [], "action": "block"}]}"#,
            "rules[0].phrases",
            "non-empty",
        ),
        (
            r#"{"rules": [{"phrases": ["x"], "action": "kill"}]}"#,
            "rules[0].action",
            "unknown variant `kill`",
        ),
        (
            r#"{"rules": [{"phrases": ["x"], "action": "tag", "reason": "Bad Code"}]}"#,
            "rules[0].reason",
            "[a-z0-9_]",
        ),
        (
            r#"{"shared_data": {"namespace": "a:b"}}"#,
            "shared_data.namespace",
            "[A-Za-z0-9_-]",
        ),
        (
            r#"{"limits": {"identity_requests_per_minute": "ten"}}"#,
            "limits.identity_requests_per_minute",
            "invalid type",
        ),
        (r#"{"mode": "shadow"} trailing"#, ".", "trailing characters"),
        ("[1, 2]", ".", "must be a JSON object"),
        ("{mode: enforce", ".", "line 1 column 2"),
        ("\"enforce\"", ".", "must be a JSON object"),
    ];
    for (doc, path, needle) in cases {
        let e = err(doc);
        assert_eq!(e.path, *path, "{doc}: {e}");
        assert!(e.message.contains(needle), "{doc}: `{}` lacks `{needle}`", e.message);
        assert!(
            e.to_string().starts_with(&format!("invalid configuration at `{path}`")),
            "{e}"
        );
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn cidrs_match_their_blocks() {
    let s = load(br#"{"allowlist": {"client_cidrs": ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]}}"#).unwrap();
    let hit = |ip: &str| s.allow_cidrs.iter().any(|c| c.contains(ip.parse().unwrap()));
    assert!(hit("192.0.2.255"));
    assert!(!hit("192.0.3.1"));
    assert!(hit("2001:db8:ffff::1"));
    assert!(!hit("2001:db9::1"));
    assert!(hit("198.51.100.7"));
    assert!(!hit("198.51.100.8"));
}

#[wasm_bindgen_test(unsupported = test)]
fn reloading_a_rule_reuses_its_reason_code() {
    let doc = br#"{"rules": [{"phrases": ["x"], "action": "tag", "reason": "known_campaign"}]}"#;
    let (a, b) = (load(doc).unwrap(), load(doc).unwrap());
    assert_eq!(a.rules[0].reason, "known_campaign");
    // The same allocation, not a fresh leak per load.
    assert!(std::ptr::eq(a.rules[0].reason, b.rules[0].reason));
}

#[wasm_bindgen_test(unsupported = test)]
fn organization_sources_are_headers_or_verified_claims() {
    let s = load(br#"{"identity": {"organization": [{"header": "OpenAI-Organization"}, {"jwt_claim": "org_id", "verified_by_envoy": true}]}}"#)
        .unwrap();
    assert_eq!(
        s.organization_sources,
        vec![
            IdentitySource::Header("openai-organization".into()),
            IdentitySource::JwtClaim {
                header: "authorization".into(),
                claim: "org_id".into()
            }
        ]
    );
    assert!(load(b"{}").unwrap().organization_sources.is_empty());
    assert_eq!(
        err(r#"{"identity": {"organization": [{"jwt_claim": "org_id"}]}}"#).path,
        "identity.organization[0].verified_by_envoy"
    );
    assert_eq!(
        err(r#"{"identity": {"organization": ["openai-organization"]}}"#).path,
        "identity.organization[0]"
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn cooldowns_default_on_and_follow_the_throttle_threshold() {
    let s = load(br#"{"thresholds": {"throttle": 0.8}}"#).unwrap();
    assert_eq!(s.detection.deny_score, 0.8);
    assert_eq!(s.detection.cooldown.base_secs, 600);
    let off = load(br#"{"detection": {"cooldown_secs": 0}}"#).unwrap();
    assert_eq!(off.detection.cooldown.base_secs, 0);
}

#[wasm_bindgen_test(unsupported = test)]
fn reasoning_is_kept_unless_strip_is_configured() {
    let s = load(b"{}").unwrap();
    assert!(!s.strip_reasoning);
    assert_eq!(s.reasoning_max_bytes, 4 * 1024 * 1024);
    let s = load(br#"{"response": {"reasoning": "strip", "reasoning_max_bytes": 65536}}"#).unwrap();
    assert!(s.strip_reasoning);
    assert_eq!(s.reasoning_max_bytes, 65536);
    assert!(!load(br#"{"response": {"reasoning": "keep"}}"#).unwrap().strip_reasoning);
}

#[wasm_bindgen_test(unsupported = test)]
fn reasoning_settings_are_checked() {
    let e = err(r#"{"response": {"reasoning": "hide"}}"#);
    assert_eq!(e.path, "response.reasoning");
    assert!(e.message.contains("unknown variant `hide`"), "{}", e.message);
    for bad in [1024, 128 * 1024 * 1024] {
        let e = err(&format!(r#"{{"response": {{"reasoning_max_bytes": {bad}}}}}"#));
        assert_eq!(e.path, "response.reasoning_max_bytes");
        assert_eq!(e.message, "must be between 65536 and 67108864");
    }
}

/// The range table's bounds: each field's lowest and highest value
/// accepted, one below and one above refused at its own path, and a
/// refusal reported in the fields' order.
#[wasm_bindgen_test(unsupported = test)]
fn ranges_are_inclusive_and_checked_in_order() {
    for (section, field, lo, hi) in [
        ("body", "max_inspect_bytes", 1024, 1024 * 1024),
        ("body", "max_buffer_bytes", 1024, 8 * 1024 * 1024),
        ("response", "throttle_status", 400, 599),
        ("response", "block_status", 400, 599),
        ("response", "retry_after_secs", 1, 86_400),
        ("metrics", "flush_interval_ms", 0, 60_000),
        ("response", "reasoning_max_bytes", 65_536, 64 * 1024 * 1024),
    ] {
        // The smallest buffer holds the smallest cap.
        let cap = if field == "max_buffer_bytes" {
            r#""max_inspect_bytes": 1024, "#
        } else {
            ""
        };
        let doc = |v: u64| format!(r#"{{"{section}": {{{cap}"{field}": {v}}}}}"#);
        for ok in [lo, hi] {
            assert!(load(doc(ok).as_bytes()).is_ok(), "{section}.{field} = {ok}");
        }
        for bad in [lo.wrapping_sub(1), hi + 1] {
            if bad == u64::MAX {
                continue;
            }
            let e = err(&doc(bad));
            assert_eq!(e.path, format!("{section}.{field}"), "{bad}");
        }
    }
    let e = err(r#"{"metrics": {"flush_interval_ms": 60001}, "response": {"block_status": 1, "retry_after_secs": 0}}"#);
    assert_eq!(e.path, "response.block_status");
    let e = err(r#"{"response": {"reasoning_max_bytes": 1, "retry_after_secs": 0}}"#);
    assert_eq!(e.path, "response.retry_after_secs");
    let s = load(br#"{"identity": {"tls_fingerprint_header": "X-JA4"}}"#).unwrap();
    assert_eq!(s.tls_fingerprint_header.as_deref(), Some("x-ja4"));
}
