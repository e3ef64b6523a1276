//! Identity extraction: every credential source (bearer token, API-key
//! headers, `?key=`, a custom header, JWT claims), `x-forwarded-for` with
//! each number of trusted hops. Input: a request in the text form of
//! fuzz/src/lib.rs; its length picks the settings.
#![no_main]

use std::sync::OnceLock;

use distill_guard::config::{self, Settings};
use distill_guard::identity::{self, client_addr, jwt};
use distill_guard_fuzz::request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (meta, _) = request(data);
    let all = settings();
    let s = &all[data.len() % all.len()];
    let id = identity::resolve(s, &meta);
    let hex = id.key.split_once(':').map(|(_, h)| h).unwrap_or("");
    assert!(
        hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{}",
        id.key
    );
    for hops in [0, 1, 2, 16] {
        let _ = client_addr::client_ip(&meta, hops);
    }
    for (_, value) in &meta.headers {
        let token = value.strip_prefix("Bearer ").unwrap_or(value);
        for claim in ["sub", "email", "", "\u{0}"] {
            let _ = jwt::claim(token, claim);
        }
    }
});

fn settings() -> &'static [Settings] {
    static S: OnceLock<Vec<Settings>> = OnceLock::new();
    S.get_or_init(|| {
        [
            r#"{}"#,
            r#"{"identity": {"secret": "fuzz", "trusted_xff_hops": 1, "sources": [{"jwt_claim": "sub", "verified_by_envoy": true}, "authorization", "query_key"]}}"#,
            r#"{"identity": {"trusted_xff_hops": 3, "tls_fingerprint_header": "x-ja4", "sources": [{"header": "x-user-id"}, {"jwt_claim": "email", "header": "x-jwt", "verified_by_envoy": true}, "x-api-key", "x-goog-api-key", "api-key"]}}"#,
        ]
        .iter()
        .map(|c| config::load(c.as_bytes()).expect("fuzz settings are valid"))
        .collect()
    })
}
