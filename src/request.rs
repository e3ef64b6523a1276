//! What the glue (or the replay) knows about a request before its body.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::engine::headers::is_reserved;

/// Request line and headers, as Envoy hands them to the filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestMeta {
    pub method: String,
    /// Path with query, as in `:path`.
    pub path: String,
    pub authority: Option<String>,
    /// Header names in lower case; repeated headers joined by `", "`.
    pub headers: Vec<(String, String)>,
    /// The downstream peer as Envoy sees it (`source.address`), no port.
    pub source_ip: Option<IpAddr>,
}

impl RequestMeta {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The request line and headers from the pairs Envoy hands the glue
    /// (pseudo-headers included, names in any case; `capacity`: how many
    /// there are, to size `headers` once): names lower-cased, repeated
    /// headers joined by `", "`, pseudo-headers and reserved
    /// (`x-distill-guard-*`) headers left out of `headers`. Borrowed pairs
    /// (`header_map`) are copied only where kept.
    pub fn from_header_pairs<'a>(
        pairs: impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
        capacity: usize,
        source_ip: Option<IpAddr>,
    ) -> RequestMeta {
        let mut meta = RequestMeta {
            source_ip,
            headers: Vec::with_capacity(capacity),
            ..RequestMeta::default()
        };
        for (name, value) in pairs {
            // Envoy's names are lower-case already: copied only if not.
            let name = lower_case(name);
            match &*name {
                ":method" => meta.method = value.into_owned(),
                ":path" => meta.path = value.into_owned(),
                ":authority" => meta.authority = Some(value.into_owned()),
                n if n.starts_with(':') || is_reserved(n) => {}
                n => match meta.headers.iter_mut().find(|(kept, _)| kept == n) {
                    Some((_, v)) => {
                        v.push_str(", ");
                        v.push_str(&value);
                    }
                    None => meta.headers.push((name.into_owned(), value.into_owned())),
                },
            }
        }
        meta
    }
}

/// `name` with ASCII upper case lowered, copied only when it has any.
fn lower_case(name: Cow<'_, str>) -> Cow<'_, str> {
    if !name.bytes().any(|b| b.is_ascii_uppercase()) {
        return name;
    }
    let mut owned = name.into_owned();
    owned.make_ascii_lowercase();
    Cow::Owned(owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The glue's reading before `from_header_pairs` (owned pairs, each
    /// name lowered in place): the definition the borrowed one is
    /// checked against.
    fn owned_meta(pairs: Vec<(String, String)>, source_ip: Option<IpAddr>) -> RequestMeta {
        let mut meta = RequestMeta {
            source_ip,
            ..RequestMeta::default()
        };
        for (mut name, value) in pairs {
            name.make_ascii_lowercase();
            match name.as_str() {
                ":method" => meta.method = value,
                ":path" => meta.path = value,
                ":authority" => meta.authority = Some(value),
                n if n.starts_with(':') || is_reserved(n) => {}
                _ => match meta.headers.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, v)) => {
                        v.push_str(", ");
                        v.push_str(&value);
                    }
                    None => meta.headers.push((name, value)),
                },
            }
        }
        meta
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn header_pairs_read_as_before() {
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let lists: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![
                (":authority", "127.0.0.1:10000"),
                (":path", "/v1/chat/completions"),
                (":method", "POST"),
                (":scheme", "http"),
                ("content-type", "application/json"),
                ("authorization", "Bearer sk-1"),
                ("x-forwarded-for", "100.64.1.10"),
                ("content-length", "1701"),
            ],
            vec![
                (":Method", "GET"),
                (":PATH", "/v1/models"),
                ("Accept", "a"),
                ("accept", "b"),
                ("ACCEPT", "c"),
                ("X-Distill-Guard-Action", "allow"),
                ("x-distill-guard-score", "0"),
                ("X-Forwarded-For", "1.2.3.4"),
                ("x-forwarded-for", "5.6.7.8"),
                (":authority", "a"),
                (":authority", "b"),
                ("", ""),
                ("Caf\u{e9}", "\u{fffd}"),
            ],
        ];
        for list in lists {
            let owned: Vec<(String, String)> = list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let want = owned_meta(owned, ip);
            for capacity in [0, list.len()] {
                let borrowed = list.iter().map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)));
                assert_eq!(RequestMeta::from_header_pairs(borrowed, capacity, ip), want, "{list:?}");
            }
        }
    }
}
