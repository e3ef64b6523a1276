//! A header map as the proxy-wasm ABI hands it over
//! (`proxy_get_header_map_pairs`), read in place: a u32 count, a (name
//! length, value length) u32 pair per header, then each name and value
//! followed by a NUL, all little-endian.
//!
//! Why in place (issue 8): the glue used to decode every pair into two
//! owned `String`s (36 allocations for a request's and its answer's
//! headers), then kept a few of them. Here a name or value is text
//! borrowed from the host's buffer, decoded lossily (a byte that is not
//! UTF-8 becomes U+FFFD, never trusted, never a panic) and copied only
//! where a caller keeps it. Pure: tested natively; the glue owns the
//! buffer (`filter::abi`).

use std::borrow::Cow;

/// The host's encoded header map (empty: no headers).
#[derive(Default)]
pub struct HeaderMap {
    bytes: Vec<u8>,
}

/// Little-endian u32 at `at`, as a length.
fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let w: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(w)).ok()
}

/// `String::from_utf8_lossy`, through `str::from_utf8` first: it checks
/// ASCII (every header Envoy hands over, nearly) a word at a time, where
/// the lossy decoder steps a byte at a time.
pub fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(valid) => Cow::Borrowed(valid),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

impl HeaderMap {
    /// The host's bytes (empty: no headers).
    pub fn new(bytes: Vec<u8>) -> HeaderMap {
        HeaderMap { bytes }
    }

    /// The pairs, in order, as raw bytes. A malformed buffer yields the
    /// pairs read so far.
    pub fn raw_pairs(&self) -> RawPairs<'_> {
        let n = u32_at(&self.bytes, 0).unwrap_or(0);
        RawPairs {
            b: &self.bytes,
            n,
            i: 0,
            at: n.saturating_mul(8).saturating_add(4),
        }
    }

    /// The pairs, in order, lossily decoded (borrowed when UTF-8).
    pub fn pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        self.raw_pairs().map(|(k, v)| (text(k), text(v)))
    }

    /// How many pairs the map says it holds, bounded by what its bytes can
    /// hold (each pair takes at least 10): a capacity to size a copy by.
    pub fn len_hint(&self) -> usize {
        u32_at(&self.bytes, 0).unwrap_or(0).min(self.bytes.len() / 10)
    }

    /// The first value whose name is `name` (ASCII case ignored).
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.find(name, |k, n| k.eq_ignore_ascii_case(n))
    }

    /// The first value whose name is exactly `name`.
    pub fn get_exact(&self, name: &str) -> Option<Cow<'_, str>> {
        self.find(name, |k, n| k == n)
    }

    /// For an ASCII `name` (every name the glue asks for) the names are
    /// compared as bytes, undecoded: a name that is not UTF-8 decodes with
    /// U+FFFD and equals no ASCII name either way. Any other `name` is
    /// compared with the decoded names, as they were before.
    fn find(&self, name: &str, same: impl Fn(&[u8], &[u8]) -> bool) -> Option<Cow<'_, str>> {
        let ascii = name.is_ascii();
        self.raw_pairs()
            .find(|(k, _)| match ascii {
                true => same(k, name.as_bytes()),
                false => same(text(k).as_bytes(), name.as_bytes()),
            })
            .map(|(_, v)| text(v))
    }
}

/// [`HeaderMap::raw_pairs`].
pub struct RawPairs<'a> {
    b: &'a [u8],
    n: usize,
    i: usize,
    /// Where the next name starts.
    at: usize,
}

impl<'a> Iterator for RawPairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.i >= self.n {
            return None;
        }
        let s = self.i.saturating_mul(8).saturating_add(4);
        let (Some(kl), Some(vl)) = (u32_at(self.b, s), u32_at(self.b, s.saturating_add(4))) else {
            self.i = self.n;
            return None;
        };
        let name = self.b.get(self.at..self.at.saturating_add(kl));
        let value_at = self.at.saturating_add(kl).saturating_add(1);
        let value = self.b.get(value_at..value_at.saturating_add(vl));
        let (Some(name), Some(value)) = (name, value) else {
            self.i = self.n;
            return None;
        };
        self.at = value_at.saturating_add(vl).saturating_add(1);
        self.i += 1;
        Some((name, value))
    }
}

/// The ABI's encoding of `pairs` (what `proxy_send_local_response` takes).
pub fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The glue's decoding before this module (every pair two owned
    /// `String`s): the definition the borrowed reading is checked against.
    fn owned_pairs(b: &[u8]) -> Vec<(String, String)> {
        let Some(n) = u32_at(b, 0) else { return Vec::new() };
        let mut out = Vec::with_capacity(n.min(b.len() / 10));
        let mut p = n.saturating_mul(8).saturating_add(4);
        for i in 0..n {
            let s = i.saturating_mul(8).saturating_add(4);
            let (Some(kl), Some(vl)) = (u32_at(b, s), u32_at(b, s.saturating_add(4))) else {
                break;
            };
            let key = b.get(p..p.saturating_add(kl));
            p = p.saturating_add(kl).saturating_add(1);
            let value = b.get(p..p.saturating_add(vl));
            p = p.saturating_add(vl).saturating_add(1);
            let (Some(k), Some(v)) = (key, value) else {
                break;
            };
            out.push((
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ));
        }
        out
    }

    fn raw(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (k, v) in pairs {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        }
        for (k, v) in pairs {
            out.extend_from_slice(k);
            out.push(0);
            out.extend_from_slice(v);
            out.push(0);
        }
        out
    }

    fn cases() -> Vec<Vec<u8>> {
        let request: Vec<(&[u8], &[u8])> = vec![
            (b":authority", b"127.0.0.1:10000"),
            (b":path", b"/v1/chat/completions"),
            (b":method", b"POST"),
            (b"Content-Type", b"application/json"),
            (b"authorization", b"Bearer sk-\xff\xfe"),
            (b"x-\xc3(bad", b"v"),
            (b"", b""),
            (b"accept", b"a"),
            (b"accept", b"b"),
        ];
        let mut cases = vec![Vec::new(), vec![1, 0], raw(&request), raw(&[])];
        let whole = raw(&request);
        // Cut at every byte: a malformed buffer yields what it can.
        for cut in 0..whole.len() {
            cases.push(whole.get(..cut).unwrap_or_default().to_vec());
        }
        // A count larger than the pairs the bytes hold.
        let mut lying = whole.clone();
        lying.splice(0..4, 1000u32.to_le_bytes());
        cases.push(lying);
        cases
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn pairs_read_as_the_owned_decoding_did() {
        for bytes in cases() {
            let want = owned_pairs(&bytes);
            let map = HeaderMap::new(bytes.clone());
            let got: Vec<(String, String)> = map.pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            assert_eq!(got, want, "{bytes:?}");
            assert_eq!(map.len_hint(), u32_at(&bytes, 0).unwrap_or(0).min(bytes.len() / 10));
            for name in [
                ":path",
                "content-type",
                "CONTENT-TYPE",
                "accept",
                "x-\u{fffd}(bad",
                "",
                "missing",
            ] {
                let old = want
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str());
                assert_eq!(map.get(name).as_deref(), old, "{name} in {bytes:?}");
                let old = want.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
                assert_eq!(map.get_exact(name).as_deref(), old, "{name} in {bytes:?}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn encode_is_read_back() {
        let pairs = vec![
            ("retry-after".to_owned(), "30".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        assert_eq!(owned_pairs(&encode(&pairs)), pairs);
        let map = HeaderMap::new(encode(&pairs));
        assert_eq!(map.get("Retry-After").as_deref(), Some("30"));
    }
}
