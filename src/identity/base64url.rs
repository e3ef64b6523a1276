//! base64url without padding, decoded by hand (a JWT's payload).
//!
//! The `base64` crate's general-purpose engine was ~2.7 KB of the Envoy
//! module for this one call (issue 8: module size); the native tool still
//! uses the crate for traces and reports. What this accepts and refuses is
//! `base64::engine::general_purpose::URL_SAFE_NO_PAD`'s, which the tests
//! check on every length and kind of malformed input: the alphabet
//! `A-Za-z0-9-_`, no `=`, no length of 4n+1, and the unused low bits of a
//! final partial group zero (no second spelling of the same bytes).

/// The six bits of one symbol, or `None` for a byte outside the alphabet.
fn sextet(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// The bytes `text` encodes, or `None` when it is not canonical unpadded
/// base64url.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let input = text.as_bytes();
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut groups = input.chunks_exact(4);
    for group in &mut groups {
        let mut bits = 0u32;
        for &b in group {
            bits = bits << 6 | sextet(b)?;
        }
        let [_, a, b, c] = bits.to_be_bytes();
        out.extend_from_slice(&[a, b, c]);
    }
    let rest = groups.remainder();
    let mut bits = 0u32;
    for &b in rest {
        bits = bits << 6 | sextet(b)?;
    }
    // Two symbols carry one byte and 4 spare bits, three carry two bytes
    // and 2 spare bits; the spare bits must be zero.
    let (bytes, spare) = match rest.len() {
        0 => return Some(out),
        2 => (1, 4),
        3 => (2, 2),
        _ => return None,
    };
    if bits & ((1 << spare) - 1) != 0 {
        return None;
    }
    let value = bits >> spare;
    out.extend_from_slice(value.to_be_bytes().get(4 - bytes..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn oracle(text: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(text).ok()
    }

    fn same(text: &str) {
        assert_eq!(decode(text), oracle(text), "{text:?}");
    }

    /// Every byte string up to 40 bytes long (pseudo-random contents),
    /// encoded by the crate, decodes to itself.
    #[wasm_bindgen_test(unsupported = test)]
    fn round_trips_every_length() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..=40 {
            for _ in 0..8 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (seed >> 56) as u8
                    })
                    .collect();
                let text = URL_SAFE_NO_PAD.encode(&bytes);
                assert_eq!(decode(&text).as_deref(), Some(&bytes[..]), "{text}");
            }
        }
    }

    /// Every text of up to three symbols over the alphabet plus a few
    /// bytes outside it: the same accepted, the same bytes, the same
    /// refused (lengths 4n+1, non-zero spare bits, `=`, `+`, `/`, spaces,
    /// non-ASCII).
    #[wasm_bindgen_test(unsupported = test)]
    fn short_texts_match_the_crate() {
        let mut symbols: Vec<char> = ('A'..='Z').chain('a'..='z').chain('0'..='9').collect();
        symbols.extend(['-', '_', '=', '+', '/', ' ', '.', '\n', 'é', '\0']);
        same("");
        for a in &symbols {
            same(&a.to_string());
            for b in &symbols {
                same(&format!("{a}{b}"));
                for c in &symbols {
                    same(&format!("{a}{b}{c}"));
                }
            }
        }
    }

    /// Longer texts: every final group after a valid prefix, a bad byte at
    /// each position, padding anywhere.
    #[wasm_bindgen_test(unsupported = test)]
    fn long_texts_match_the_crate() {
        let prefix = URL_SAFE_NO_PAD.encode(b"{\"sub\":\"user-42\",\"org\":7}");
        for tail in [
            "", "A", "AA", "AB", "AQ", "AAA", "AAB", "AAE", "AAAA", "_w", "__8", "___",
        ] {
            same(&format!("{prefix}{tail}"));
        }
        for i in 0..prefix.len() {
            for bad in ['=', '+', '/', '*', '~'] {
                let mut t = prefix.clone();
                t.replace_range(i..=i, &bad.to_string());
                same(&t);
                let mut t = prefix.clone();
                t.insert(i, bad);
                same(&t);
            }
        }
        same(&format!("{prefix}="));
        same(&format!("{prefix}=="));
        same(&format!("{prefix}A=="));
    }
}
