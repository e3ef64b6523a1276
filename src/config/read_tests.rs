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
