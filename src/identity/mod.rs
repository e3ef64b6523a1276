//! Who sent a request: an identity key derived from a credential with a
//! keyed hash, plus the client attributes that correlate accounts (address,
//! TLS fingerprint, user agent). Raw credentials never leave this module.

mod base64url;
pub mod client_addr;
pub mod credential;
pub mod jwt;

use std::net::IpAddr;

use crate::config::Settings;
use crate::hash::{fingerprint, siphash24};
use crate::request::RequestMeta;

/// How the identity was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityKind {
    /// From a configured credential.
    Credential,
    /// No credential: keyed by client address.
    Anonymous,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// `k:<16 hex>` for a credential, `anon:<16 hex>` for an address; safe to
    /// log, print and put in headers: a keyed hash, never the credential.
    pub key: String,
    /// The 64-bit hash behind `key`, for slotting into tables.
    pub hash: u64,
    pub kind: IdentityKind,
    /// The client address (downstream peer, or the configured trusted
    /// `x-forwarded-for` hop).
    pub client_ip: Option<IpAddr>,
    /// Fingerprint of the TLS client fingerprint header's value.
    pub tls_fingerprint: Option<u64>,
    /// Fingerprint of the `user-agent` header.
    pub user_agent: Option<u64>,
    /// Keyed hash of the caller's organisation (`identity.organization`),
    /// when the request names one: its keys are one account in template
    /// clusters.
    pub organization: Option<u64>,
}

/// Resolves a request's identity under the settings.
pub fn resolve(settings: &Settings, meta: &RequestMeta) -> Identity {
    resolve_from(settings, meta, client_addr::client_ip(meta, settings.trusted_xff_hops))
}

/// [`resolve`] with the client's address already found
/// ([`client_addr::client_ip_asking_peer`]: the glue reads
/// `x-forwarded-for` before the engine, to know whether to ask Envoy for
/// the peer address).
pub fn resolve_from(settings: &Settings, meta: &RequestMeta, client_ip: Option<IpAddr>) -> Identity {
    let credential = settings
        .identity_sources
        .iter()
        .find_map(|source| credential::extract(source, meta));
    let (kind, prefix, hash) = match credential {
        Some(secret) => (
            IdentityKind::Credential,
            "k",
            siphash24(settings.identity_key, secret.as_bytes()),
        ),
        None => {
            let addr = client_ip.map(crate::netaddr::ip_text).unwrap_or_default();
            // Domain-separated from credentials so an address can never
            // collide with a token of the same text.
            let mut material = b"addr:".to_vec();
            material.extend_from_slice(addr.as_bytes());
            (
                IdentityKind::Anonymous,
                "anon",
                siphash24(settings.identity_key, &material),
            )
        }
    };
    let tls_fingerprint = settings
        .tls_fingerprint_header
        .as_deref()
        .and_then(|h| meta.header(h))
        .filter(|v| !v.is_empty())
        .map(|v| fingerprint(v.as_bytes()));
    let user_agent = meta
        .header("user-agent")
        .filter(|v| !v.is_empty())
        .map(|v| fingerprint(v.as_bytes()));
    // Domain-separated from credentials and addresses.
    let organization = settings
        .organization_sources
        .iter()
        .find_map(|source| credential::extract(source, meta))
        .filter(|v| !v.is_empty())
        .map(|v| {
            let mut material = b"org:".to_vec();
            material.extend_from_slice(v.as_bytes());
            siphash24(settings.identity_key, &material)
        });
    Identity {
        organization,
        key: key_text(prefix, hash),
        hash,
        kind,
        client_ip,
        tls_fingerprint,
        user_agent,
    }
}

/// The identity key a credential maps to under a secret (the CLI's
/// `identity` command, for building allowlists).
pub fn key_for_credential(settings: &Settings, credential: &str) -> String {
    key_text("k", siphash24(settings.identity_key, credential.as_bytes()))
}

/// `<prefix>:<hash as 16 hex digits>`, written by hand (on every request).
fn key_text(prefix: &str, hash: u64) -> String {
    let mut key = String::with_capacity(prefix.len() + 17);
    key.push_str(prefix);
    key.push(':');
    crate::decimal::push_hex16(&mut key, hash);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn meta(headers: &[(&str, &str)]) -> RequestMeta {
        RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            source_ip: Some("203.0.113.9".parse().unwrap()),
            ..RequestMeta::default()
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn credential_becomes_keyed_hash_and_never_appears() {
        let s = config::load(br#"{"identity": {"secret": "s3cret"}}"#).unwrap();
        let id = resolve(&s, &meta(&[("authorization", "Bearer sk-live-abc")]));
        assert_eq!(id.kind, IdentityKind::Credential);
        assert!(id.key.starts_with("k:") && id.key.len() == 18, "{}", id.key);
        assert!(!id.key.contains("sk-live"));
        assert_eq!(id.key, key_for_credential(&s, "sk-live-abc"));
        // Another secret, another key: keys are not portable across deployments.
        let s2 = config::load(br#"{"identity": {"secret": "other"}}"#).unwrap();
        assert_ne!(
            resolve(&s2, &meta(&[("authorization", "Bearer sk-live-abc")])).key,
            id.key
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn identity_key_is_pinned() {
        // Golden value: operators' allowlists hold these keys.
        let s = config::load(br#"{"identity": {"secret": "s3cret"}}"#).unwrap();
        assert_eq!(key_for_credential(&s, "sk-live-abc"), GOLDEN_KEY);
    }
    const GOLDEN_KEY: &str = "k:9daa1b3c49272d15";

    #[wasm_bindgen_test(unsupported = test)]
    fn sources_are_tried_in_order() {
        let s = config::load(br#"{"identity": {"sources": ["x-api-key", "authorization"]}}"#).unwrap();
        let both = resolve(&s, &meta(&[("authorization", "Bearer A"), ("x-api-key", "B")]));
        assert_eq!(both.key, key_for_credential(&s, "B"));
        let bearer_only = resolve(&s, &meta(&[("authorization", "Bearer A")]));
        assert_eq!(bearer_only.key, key_for_credential(&s, "A"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn no_credential_is_anonymous_by_address() {
        let s = Settings::default();
        let a = resolve(&s, &meta(&[]));
        assert_eq!(a.kind, IdentityKind::Anonymous);
        assert!(a.key.starts_with("anon:"));
        assert_eq!(a.client_ip, Some("203.0.113.9".parse().unwrap()));
    }

    /// The glue's one read of `x-forwarded-for` gives the identity that
    /// reading it again in `resolve` gave, anonymous or not.
    #[wasm_bindgen_test(unsupported = test)]
    fn the_address_found_by_the_glue_resolves_as_before() {
        for hops in [0, 1, 2] {
            let s = config::load(format!(r#"{{"identity": {{"trusted_xff_hops": {hops}}}}}"#).as_bytes()).unwrap();
            let cases: [&[(&str, &str)]; 4] = [
                &[],
                &[("x-forwarded-for", "198.51.100.7, 192.0.2.1")],
                &[("x-forwarded-for", "garbage"), ("authorization", "Bearer sk-1")],
                &[("authorization", "Bearer sk-1"), ("x-forwarded-for", "192.0.2.1")],
            ];
            for headers in cases {
                let mut m = meta(headers);
                let before = resolve(&s, &m);
                let peer = m.source_ip.take();
                let ip = client_addr::client_ip_asking_peer(&mut m, s.trusted_xff_hops, || peer);
                assert_eq!(resolve_from(&s, &m, ip), before, "{hops} {headers:?}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn client_attributes_are_fingerprinted() {
        let s = config::load(br#"{"identity": {"tls_fingerprint_header": "X-JA4"}}"#).unwrap();
        let id = resolve(
            &s,
            &meta(&[
                ("x-ja4", "t13d1516h2_8daaf6152771_b186095e22b6"),
                ("user-agent", "OpenAI/Python 1.40.0"),
            ]),
        );
        assert_eq!(
            id.tls_fingerprint,
            Some(fingerprint(b"t13d1516h2_8daaf6152771_b186095e22b6"))
        );
        assert_eq!(id.user_agent, Some(fingerprint(b"OpenAI/Python 1.40.0")));
    }
}
