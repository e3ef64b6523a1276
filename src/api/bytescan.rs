//! Word-at-a-time byte searches for the loops that walk a whole body
//! ([`super::compact`], [`super::truncated`], the JSON reader's strings in
//! [`crate::json::reader`]): eight bytes per step instead
//! of one, which matters most under V8, where a byte loop costs several
//! times what it costs natively. Plain integer arithmetic (no SIMD), so the
//! same code runs natively and in Wasm.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The eight bytes of `bytes` from `at`, little-endian (0 past the end).
pub fn word(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at.saturating_add(8))
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The high bit of each byte of `w` equal to `b`. The lowest flagged byte
/// is always a true match; a byte just above a match may be flagged too if
/// it equals `b ^ 0x01`.
pub fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The end of a JSON string's plain text in a word: its quote, and with
/// `CONTROLS` the control bytes (below 0x20) too, in the one comparison
/// that finds the quote alone: with every byte flipped by 0x02, exactly
/// the bytes below 0x20 and the quote (0x22 ^ 0x02 = 0x20) are below 0x21;
/// flipped by 0x22, only the quote is below 0x01. So testing for control
/// bytes costs nothing more per word ([`super::compact`] tests for them
/// only while a string may still be plain). The lowest flagged byte is
/// always a true match (a byte above one may be flagged too, as the borrow
/// runs on). A constant parameter, so that each loop's constants are
/// immediates (V8 kept them in registers and spilled).
#[inline(always)]
pub fn quote_flags<const CONTROLS: bool>(w: u64) -> u64 {
    let (flip, below) = if CONTROLS { (0x02, 0x21) } else { (0x22, 0x01) };
    let x = w ^ (ONES * flip);
    x.wrapping_sub(ONES * below) & !x & HIGHS
}

/// The high bit of exactly the zero bytes of `w`, with no false flags
/// (unlike [`bytes_equal`]): no carry crosses a byte, since each byte is
/// added to 0x7f only after its own high bit is cleared. For loops that
/// count or rewrite every match, not only the first.
#[inline(always)]
pub fn zero_bytes_exact(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((w & LOW7) + LOW7) | w | LOW7)
}

/// Index of the first `"` or `\` in `bytes`.
pub fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    find(
        bytes,
        |w| bytes_equal(w, b'"') | bytes_equal(w, b'\\'),
        |b| b == b'"' || b == b'\\',
    )
}

/// Index of the first `"`, `\` or control byte (below 0x20) in `bytes`:
/// where the plain run of a JSON string's text ends.
pub fn find_string_special(bytes: &[u8]) -> Option<usize> {
    find(
        bytes,
        |w| quote_flags::<true>(w) | bytes_equal(w, b'\\'),
        |b| b == b'"' || b == b'\\' || b < 0x20,
    )
}

/// Index of the first occurrence of `needle` in `hay`: `str::find` on
/// UTF-8 text and a UTF-8 needle (a match of one always starts on a char
/// boundary). Eight starts at a time are tested on the needle's first and
/// last bytes (two word loads), and only starts where both agree are
/// compared whole: a text has to hold both at the needle's distance for a
/// start to cost more than the word step, so a body of one repeated byte
/// or of the needle's prefix over and over costs no more than plain text.
/// Not `str::find`: core's two-way searcher brings its string slicing
/// panic, and with it `{:?}` of a char and the Unicode printable and
/// grapheme-extend tables (~8 KB of the Envoy module, issue 8).
#[inline(never)]
pub fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else {
        return Some(0);
    };
    let n = needle.len();
    let mut at = 0;
    // While the words at `at` and `at + n - 1` are whole.
    while at + n + 7 <= hay.len() {
        // Every true match of each byte is flagged (a false flag only sits
        // just above a true one), so testing every flagged start in order
        // finds the first match.
        let mut m = bytes_equal(word(hay, at), first) & bytes_equal(word(hay, at + n - 1), last);
        while m != 0 {
            let start = at + (m.trailing_zeros() / 8) as usize;
            if hay.get(start..start + n) == Some(needle) {
                return Some(start);
            }
            m &= m - 1;
        }
        at += 8;
    }
    // The last few starts (fewer than eight), one by one.
    while at + n <= hay.len() {
        if hay.get(at) == Some(&first) && hay.get(at..at + n) == Some(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// The first byte `is` accepts, eight at a time while `flags` (whose
/// lowest flagged byte is always a true match) finds none.
#[inline(always)]
fn find(bytes: &[u8], flags: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let m = flags(word(bytes, at));
        if m != 0 {
            // The lowest flagged byte of each mask is exact, so the lowest
            // of all is the first match.
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes.get(at..)?.iter().position(|&b| is(b)).map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn finds_what_a_byte_search_finds() {
        let alphabet = b"ab \"\\!#\x01\x21\x22\x5c\x5d\xc3\xa9\x80\xff\x00\x1f\x20\x9f";
        let mut seed = 7u64;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        // Mostly plain bytes, so matches land anywhere.
                        let r = (seed >> 33) as usize;
                        if r % 5 == 0 {
                            alphabet[r / 5 % alphabet.len()]
                        } else {
                            b'a' + (r % 26) as u8
                        }
                    })
                    .collect();
                let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\');
                assert_eq!(find_quote_or_backslash(&bytes), expected, "{bytes:?}");
                let special = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
                assert_eq!(find_string_special(&bytes), special, "{bytes:?}");
            }
        }
    }

    /// Every byte value at every position after plain bytes and before
    /// any: the lowest flagged byte is the first quote (or control byte,
    /// when asked), and nothing is flagged without one.
    #[wasm_bindgen_test(unsupported = test)]
    fn quote_test_finds_the_first_quote_or_control_byte() {
        for controls in [false, true] {
            let flags = |w| {
                if controls {
                    quote_flags::<true>(w)
                } else {
                    quote_flags::<false>(w)
                }
            };
            let is = |b: u8| b == b'"' || (controls && b < 0x20);
            for b in 0..=255u8 {
                for k in 0..8 {
                    for after in [b'a', 0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x80, 0xff] {
                        let mut bytes = [b'x'; 8];
                        bytes[k] = b;
                        bytes[k + 1..].fill(after);
                        let m = flags(u64::from_le_bytes(bytes));
                        let first = bytes.iter().position(|&c| is(c));
                        let flagged = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
                        assert_eq!(flagged, first, "{bytes:x?} {controls}");
                    }
                }
            }
        }
    }

    /// `str::find` as the oracle: random texts over a small alphabet (so
    /// partial matches abound), needles cut from them and made up, empty
    /// ones, longer than the text, at either end, and non-ASCII.
    #[wasm_bindgen_test(unsupported = test)]
    fn find_bytes_finds_what_str_find_finds() {
        let alphabet = ["a", "b", "ab", " ", "é", "<", "/", "think>", "\n"];
        let mut seed = 11u64;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n.max(1)
        };
        for len in 0..60 {
            for _ in 0..40 {
                let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
                let mut needles: Vec<String> = vec![String::new(), "</think>".into(), "aab".into(), "é".into()];
                needles.push(format!("{text}a"));
                for _ in 0..6 {
                    let (a, b) = (next(text.len() + 1), next(text.len() + 1));
                    if let Some(cut) = text.get(a.min(b)..a.max(b)) {
                        needles.push(cut.to_owned());
                    }
                    let made: String = (0..next(5) + 1).map(|_| alphabet[next(alphabet.len())]).collect();
                    needles.push(made);
                }
                for n in &needles {
                    assert_eq!(
                        find_bytes(text.as_bytes(), n.as_bytes()),
                        text.find(n.as_str()),
                        "{text:?} {n:?}"
                    );
                }
            }
        }
    }

    /// Every byte value at every position, beside neighbours that trip the
    /// inexact test (0x01, 0x80, 0xff): exactly the zero bytes are flagged.
    #[wasm_bindgen_test(unsupported = test)]
    fn zero_bytes_exact_flags_exactly_the_zero_bytes() {
        for b in 0..=255u8 {
            for k in 0..8 {
                for fill in [0x01u8, 0x80, 0xff, 0x00] {
                    let mut bytes = [fill; 8];
                    bytes[k] = b;
                    let m = zero_bytes_exact(u64::from_le_bytes(bytes));
                    for (j, &byte) in bytes.iter().enumerate() {
                        assert_eq!(m >> (8 * j) & 0xff, if byte == 0 { 0x80 } else { 0 }, "{bytes:x?}");
                    }
                }
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn flags_only_matches_and_the_documented_neighbour() {
        for b in [b' ', b'"', b'\\'] {
            let bytes = [b'x', b, b ^ 1, b'y', 0xff, b, 0x80, b ^ 1];
            let m = bytes_equal(u64::from_le_bytes(bytes), b);
            for (k, &byte) in bytes.iter().enumerate() {
                let flagged = m >> (8 * k + 7) & 1 == 1;
                if byte == b {
                    assert!(flagged, "{b} at {k}");
                } else if flagged {
                    assert_eq!(byte, b ^ 1, "{b} at {k}");
                }
            }
        }
    }
}
