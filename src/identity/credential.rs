//! Pulls the credential for one configured source out of a request, in a
//! canonical form: one key is one identity however the client spells it
//! (percent-escapes in `?key=`, the `Bearer` scheme's case, tabs or runs of
//! spaces), so nobody splits their traffic across identities by spelling,
//! or lands it on someone else's.

use super::jwt;
use crate::config::IdentitySource;
use crate::request::RequestMeta;
use crate::small_sort::insertion_sort_by;

/// Longest credential considered; longer values are cut (they are hashed,
/// so this only bounds work).
const MAX_CREDENTIAL: usize = 4096;

/// The credential text for `source`, if the request carries one.
pub fn extract(source: &IdentitySource, meta: &RequestMeta) -> Option<String> {
    let value = match source {
        IdentitySource::Bearer => bearer(meta.header("authorization")?)?.to_owned(),
        IdentitySource::Header(name) => meta.header(name)?.trim().to_owned(),
        IdentitySource::QueryKey => query_key(&meta.path)?,
        IdentitySource::JwtClaim { header, claim } => {
            let raw = meta.header(header)?;
            let token = bearer(raw).unwrap_or(raw.trim());
            jwt::claim(token, claim)?
        }
    };
    if value.is_empty() {
        return None;
    }
    let mut end = value.len().min(MAX_CREDENTIAL);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Some(value.get(..end).unwrap_or_default().to_owned())
}

/// The token of `Bearer <token>` (scheme case-insensitive, separated by
/// any run of spaces or tabs).
fn bearer(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, token) = value.split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Most `key` parameters read from one query.
const MAX_KEY_PARAMS: usize = 8;

/// Gemini's `?key=`, percent-decoded (name and value, as the upstream reads
/// them). Repeated with the same value: that value. Repeated with different
/// values: all of them, sorted and joined, an identity of its own, since
/// the upstream may authenticate with either and neither may be charged.
fn query_key(path: &str) -> Option<String> {
    let (_, query) = path.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    let mut values: Vec<String> = query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (percent_decode(k) == "key").then(|| percent_decode(v))
        })
        .filter(|v| !v.is_empty())
        .take(MAX_KEY_PARAMS)
        .collect();
    sort_small(&mut values);
    values.dedup();
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(values.join("\n")),
    }
}

/// `values.sort_unstable()` for the few values of `query_key` (at most
/// `MAX_KEY_PARAMS`; no std sort in the module).
fn sort_small(values: &mut [String]) {
    insertion_sort_by(values, |a, b| a < b);
}

/// `%XX` escapes decoded; an invalid escape is kept as written; bytes that
/// are not UTF-8 become U+FFFD.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) if hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn sort_small_is_a_sort() {
        let words = ["", "a", "b", "ab", "key", "Key", "k\u{e9}y", "zz"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % (MAX_KEY_PARAMS as u64 + 1)) as usize;
            let values: Vec<String> = (0..len)
                .map(|i| words[((seed >> (3 * i)) % words.len() as u64) as usize].to_owned())
                .collect();
            let mut ours = values.clone();
            sort_small(&mut ours);
            let mut std_sorted = values;
            std_sorted.sort_unstable();
            assert_eq!(ours, std_sorted);
        }
    }

    fn meta(path: &str, headers: &[(&str, &str)]) -> RequestMeta {
        RequestMeta {
            path: path.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..RequestMeta::default()
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn each_source() {
        let m = meta(
            "/v1beta/models/gemini-2.0-flash:generateContent?alt=sse&key=AIza123",
            &[
                ("authorization", "bearer  tok "),
                ("x-api-key", " ant-1 "),
                ("api-key", "az"),
            ],
        );
        assert_eq!(extract(&IdentitySource::Bearer, &m).as_deref(), Some("tok"));
        assert_eq!(
            extract(&IdentitySource::Header("x-api-key".into()), &m).as_deref(),
            Some("ant-1")
        );
        assert_eq!(
            extract(&IdentitySource::Header("api-key".into()), &m).as_deref(),
            Some("az")
        );
        assert_eq!(extract(&IdentitySource::QueryKey, &m).as_deref(), Some("AIza123"));
        assert_eq!(extract(&IdentitySource::Header("x-goog-api-key".into()), &m), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn basic_auth_or_empty_bearer_is_no_bearer() {
        assert_eq!(
            extract(&IdentitySource::Bearer, &meta("/", &[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(
            extract(&IdentitySource::Bearer, &meta("/", &[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(extract(&IdentitySource::QueryKey, &meta("/x?key=", &[])), None);
    }

    /// One key is one identity, however the client spells it.
    #[wasm_bindgen_test(unsupported = test)]
    fn one_key_one_credential() {
        let q = |path: &str| extract(&IdentitySource::QueryKey, &meta(path, &[]));
        let plain = q("/m:generateContent?key=AIza-123_x");
        assert_eq!(plain.as_deref(), Some("AIza-123_x"));
        for path in [
            "/m:generateContent?key=AIza%2D123%5Fx",
            "/m:generateContent?key=%41%49%7a%61-123_x",
            "/m:generateContent?alt=sse&%6bey=AIza-123_x",
            "/m:generateContent?key=AIza-123_x&key=AIza%2d123_x",
            "/m:generateContent?key=AIza-123_x#frag",
        ] {
            assert_eq!(q(path), plain, "{path}");
        }
        // Two different keys in one query: an identity of its own, never
        // one of the two (the upstream may use either).
        let two = q("/m?key=AIza-victim&key=AIza-mine").unwrap();
        assert_ne!(Some(two.clone()), q("/m?key=AIza-victim"));
        assert_ne!(Some(two.clone()), q("/m?key=AIza-mine"));
        assert_eq!(Some(two), q("/m?key=AIza-mine&key=AIza-victim"));
        // A broken escape is kept as written.
        assert_eq!(q("/m?key=a%zzb").as_deref(), Some("a%zzb"));

        let b = |v: &str| extract(&IdentitySource::Bearer, &meta("/", &[("authorization", v)]));
        for v in [
            "Bearer sk-1",
            "bearer sk-1",
            "BEARER	sk-1",
            "  Bearer   sk-1  ",
            "Bearer 	 sk-1",
        ] {
            assert_eq!(b(v).as_deref(), Some("sk-1"), "{v:?}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn huge_credential_is_bounded() {
        let long = "é".repeat(5000);
        let got = extract(
            &IdentitySource::Header("x-api-key".into()),
            &meta("/", &[("x-api-key", &long)]),
        )
        .unwrap();
        assert!(got.len() <= MAX_CREDENTIAL);
    }
}
