//! Pulls the credential for one configured source out of a request.

use super::jwt;
use crate::config::IdentitySource;
use crate::request::RequestMeta;

/// Longest credential considered; longer values are cut (they are hashed,
/// so this only bounds work).
const MAX_CREDENTIAL: usize = 4096;

/// The credential text for `source`, if the request carries one.
pub fn extract(source: &IdentitySource, meta: &RequestMeta) -> Option<String> {
    let value = match source {
        IdentitySource::Bearer => bearer(meta.header("authorization")?)?.to_owned(),
        IdentitySource::Header(name) => meta.header(name)?.trim().to_owned(),
        IdentitySource::QueryKey => query_param(&meta.path, "key")?.to_owned(),
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

/// The token of `Bearer <token>` (scheme case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let value = value.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A query parameter's raw value.
fn query_param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = path.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name && !v.is_empty()).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

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
