//! The hand-written reader against serde's, which read the configuration
//! before it (issue 8): on every document of `read_corpus.txt` (good ones,
//! and every kind of error serde reported) both give the same settings or
//! the same error, path, message and position. serde stays as the oracle
//! here only; the Envoy module no longer carries it.

use super::raw::RawConfig;
use super::*;
use wasm_bindgen_test::wasm_bindgen_test;

/// The configuration as serde read it (the code `RawConfig::from_bytes` had).
fn serde_load(bytes: &[u8]) -> Result<Settings, ConfigError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Settings::try_from(RawConfig::default());
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ConfigError::new(".", "the configuration must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = match e.path().to_string() {
            p if p == "?" || p.is_empty() => ".".to_owned(),
            p => p,
        };
        ConfigError::new(path, e.into_inner().to_string())
    })?;
    de.end().map_err(|e| ConfigError::new(".", e.to_string()))?;
    Settings::try_from(raw)
}

fn outcome(r: Result<Settings, ConfigError>) -> String {
    match r {
        Ok(s) => format!("{s:?}"),
        Err(e) => e.to_string(),
    }
}

/// Documents where the two differ on purpose: a `jwt_claim` source that
/// names its `header` (serde's untagged enum took it for a plain header
/// source; see `jwt_claim_sources_keep_their_header`).
fn differs_on_purpose(doc: &str) -> bool {
    doc.contains("\"jwt_claim\": \"sub\"") && doc.contains("\"header\": \"x-jwt\"")
}

#[wasm_bindgen_test(unsupported = test)]
fn the_reader_reads_every_document_as_serde_did() {
    let mut docs: Vec<Vec<u8>> = include_str!("read_corpus.txt")
        .lines()
        .map(|l| l.replace("\\n", "\n").into_bytes())
        .collect();
    docs.extend([
        b"".to_vec(),
        b" \n\t\r ".to_vec(),
        b"{\"mode\": \"shad\x01ow\"}".to_vec(),
        b"{\"identity\": {\"secret\": \"\xff\xfe\"}}".to_vec(),
    ]);
    let mut compared = 0;
    for doc in &docs {
        let text = String::from_utf8_lossy(doc);
        if differs_on_purpose(&text) {
            continue;
        }
        assert_eq!(outcome(load(doc)), outcome(serde_load(doc)), "{text}");
        compared += 1;
    }
    assert!(compared > 150, "{compared}");
}

/// An empty or blank document is read as `{}` (the defaults built in one
/// place of the module): exactly `RawConfig::default()`, as before.
#[wasm_bindgen_test(unsupported = test)]
fn blank_documents_are_the_defaults() {
    let defaults = format!("{:?}", RawConfig::default());
    for doc in [&b""[..], b" ", b"\n\t\r  \n"] {
        assert_eq!(format!("{:?}", RawConfig::from_bytes(doc).unwrap()), defaults);
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn jwt_claim_sources_keep_their_header() {
    let s = load(br#"{"identity": {"sources": [{"jwt_claim": "sub", "verified_by_envoy": true, "header": "X-JWT"}]}}"#)
        .unwrap();
    assert_eq!(
        s.identity_sources,
        vec![IdentitySource::JwtClaim {
            header: "x-jwt".into(),
            claim: "sub".into()
        }]
    );
    // Naming a header does not skip the check that Envoy verifies the token.
    let e = load(br#"{"identity": {"organization": [{"header": "x-jwt", "jwt_claim": "org"}]}}"#).unwrap_err();
    assert_eq!(e.path, "identity.organization[0].verified_by_envoy");
}

/// Every field of the sections whose readers choose the field first and
/// then read once per value type, set alone to a value of its own: the
/// reader puts it where serde's derive did (a wrong index in the choice
/// would put it in a neighbour of the same type). Raw values, compared
/// before any range check.
#[wasm_bindgen_test(unsupported = test)]
fn every_field_lands_where_serde_put_it() {
    let detection_u64 = [
        "identity_slots",
        "template_slots",
        "network_slots",
        "window_secs",
        "skeleton_tokens",
        "share_min_accounts",
        "share_full_accounts",
        "infra_full_accounts",
        "long_output_tokens",
        "limit_window_secs",
        "identity_limit",
        "cluster_limit",
        "token_limit",
        "cluster_token_limit",
        "long_answer_tokens",
        "memory_half_life_secs",
        "cooldown_secs",
        "cooldown_max_secs",
        "cooldown_forget_secs",
    ];
    let mut docs: Vec<String> = detection_u64
        .iter()
        .enumerate()
        .map(|(k, f)| format!(r#"{{"detection": {{"{f}": {}}}}}"#, 7000 + k))
        .collect();
    for (section, field, value) in [
        ("detection", "enabled", "false"),
        ("detection", "limit_min_score", "0.123"),
        ("detection", "extra_phrases", r#"[{"phrase": "p", "weight": 0.5}]"#),
        ("fleet", "enabled", "true"),
        ("fleet", "cluster", r#""c1""#),
        ("fleet", "authority", r#""a1""#),
        ("fleet", "path", r#""/p1""#),
        ("fleet", "secret", r#""s1""#),
        ("fleet", "sync_secs", "7101"),
        ("fleet", "timeout_ms", "7102"),
        ("fleet", "max_records", "7103"),
        ("response", "throttle_status", "418"),
        ("response", "block_status", "419"),
        ("response", "retry_after_secs", "7201"),
        ("response", "reasoning_max_bytes", "7202"),
        ("response", "expose_reasons", "true"),
        ("response", "reasoning", r#""strip""#),
        ("body", "max_inspect_bytes", "7301"),
        ("body", "max_buffer_bytes", "7302"),
        ("body", "on_parse_error", r#""allow""#),
        ("body", "on_no_prompt_in_prefix", r#""allow""#),
        ("identity", "sources", r#"[{"header": "x-a"}]"#),
        ("identity", "organization", r#"[{"header": "x-b"}]"#),
        ("identity", "secret", r#""s2""#),
        ("identity", "trusted_xff_hops", "7"),
        ("identity", "tls_fingerprint_header", r#""x-tls""#),
        ("allowlist", "identities", r#"["k:1"]"#),
        ("allowlist", "client_cidrs", r#"["10.0.0.0/8"]"#),
        ("thresholds", "tag", "0.11"),
        ("thresholds", "throttle", "0.22"),
        ("thresholds", "block", "0.33"),
    ] {
        docs.push(format!(r#"{{"{section}": {{"{field}": {value}}}}}"#));
    }
    for doc in docs {
        let ours = format!("{:?}", RawConfig::from_bytes(doc.as_bytes()).unwrap());
        let serde: RawConfig = serde_json::from_str(&doc).unwrap();
        assert_eq!(ours, format!("{serde:?}"), "{doc}");
    }
}
