//! Reads one claim from a JWT's payload. No signature check: that belongs to
//! Envoy's `jwt_authn` filter in front of this one. A token that is not a
//! JWT simply has no claim.

use super::base64url;
use crate::json::Value;

/// Payloads larger than this are not decoded (bounds the work per request).
const MAX_PAYLOAD: usize = 8192;

/// The claim's value as text: strings as they are, integers and booleans
/// printed, a float as it is written in the token (serde_json, which read
/// claims before, printed `1e3` as `1000.0`); objects, arrays and null are
/// no identity.
pub fn claim(token: &str, name: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?; // a JWS has three parts
    if payload.len() > MAX_PAYLOAD {
        return None;
    }
    let bytes = base64url::decode(payload.trim_end_matches('='))?;
    match Value::parse(&bytes)?.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.text()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn token(payload: &str) -> String {
        format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn reads_claims() {
        let t = token(r#"{"sub":"user-42","org":7,"admin":true,"aud":["a"]}"#);
        assert_eq!(claim(&t, "sub").as_deref(), Some("user-42"));
        assert_eq!(claim(&t, "org").as_deref(), Some("7"));
        assert_eq!(claim(&t, "admin").as_deref(), Some("true"));
        assert_eq!(claim(&t, "aud"), None);
        assert_eq!(claim(&t, "missing"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn garbage_is_no_claim() {
        for t in [
            "",
            "abc",
            "a.b",
            "a.!!!.c",
            "a.b.c",
            &token("not json"),
            &format!("a.{}.c", "A".repeat(MAX_PAYLOAD + 4)),
        ] {
            assert_eq!(claim(t, "sub"), None, "{t:.40}");
        }
    }
}
