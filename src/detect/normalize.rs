//! Text normalisation for template fingerprints: lower case, digits to `#`,
//! punctuation to separators, whitespace collapsed; CJK runs split into
//! character bigrams (CJK has no spaces, so words would be whole sentences).
//!
//! Why: a template's slots are mostly numbers, names and short phrases;
//! normalising digits and punctuation makes `"Solve 17 + 4."` and
//! `"solve 23+9"` share their skeleton, while the words that carry the
//! template's structure stay intact. Tokens are hashed at once, so no string
//! per token is allocated: work is proportional to the text.

use crate::hash::{fingerprint, fingerprint_short, FingerprintStream};

/// Most tokens read from one text: bounds the work on a huge prompt (the
/// body cap already bounds it; this keeps the per-request cost flat).
pub const MAX_TOKENS: usize = 4096;

/// True for the scripts written without spaces (Han, Kana, Hangul).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff      // Hiragana, Katakana
        | 0x3400..=0x4dbf    // CJK extension A
        | 0x4e00..=0x9fff    // CJK unified ideographs
        | 0xac00..=0xd7af    // Hangul syllables
        | 0xf900..=0xfaff    // compatibility ideographs
        | 0x20000..=0x2a6df) // extension B
}

/// Normalised token hashes of `text`, in order (at most [`MAX_TOKENS`]).
///
/// One pass over the bytes: ASCII (most prompts) by a class table, other
/// chars by the Unicode rules (the tests keep the char-by-char definition
/// this equals). A word's bytes go straight into its SipHash
/// ([`FingerprintStream`]), no string per word, and words of up to seven
/// bytes (most) are looked up in a cache first: prompts repeat their common
/// words, within one and across requests, and a hit costs a comparison
/// instead of six SipHash rounds. The cache is the thread's (one per Wasm
/// VM), kept from request to request: a word's entry is its whole text and
/// its fingerprint, so a hit gives what hashing gives. The values are
/// [`fingerprint`]'s of the normalised words.
#[inline(never)]
pub fn token_hashes(text: &str) -> Vec<u64> {
    SHORT_WORDS.with(|kept| {
        // Taken out for the pass (nothing else reads it meanwhile) and
        // put back; made on the thread's first text.
        let mut cache = kept.take();
        if cache.len() != CACHE {
            cache = vec![(0, 0); CACHE];
        }
        let (out, cache) = token_hashes_with(text, cache);
        kept.set(cache);
        out
    })
}

thread_local! {
    /// [`token_hashes`]' cache of short words: `CACHE` entries (32 KiB),
    /// never more, whatever the traffic.
    static SHORT_WORDS: std::cell::Cell<Vec<(u64, u64)>> = const { std::cell::Cell::new(Vec::new()) };
}

/// [`token_hashes`] with `cache` (a power of two of entries, any contents
/// it left), handed back with the pass's words in it.
fn token_hashes_with(text: &str, cache: Vec<(u64, u64)>) -> (Vec<u64>, Vec<(u64, u64)>) {
    let mut t = Tokens {
        // A chunk of eight bytes may add a few tokens past the cap.
        out: Vec::with_capacity((text.len() / 4 + 4).min(MAX_TOKENS + 8)),
        word: FingerprintStream::default(),
        ends_hash: false,
        cache,
    };
    let mut prev_cjk: Option<char> = None;
    let mut run = 0usize;
    let mut at = 0usize;
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(at) {
        // Tokens come out in order, so stopping once there are enough
        // keeps the same first MAX_TOKENS.
        if t.out.len() >= MAX_TOKENS {
            break;
        }
        if b.is_ascii() {
            if prev_cjk.is_some() {
                end_cjk_run(&mut prev_cjk, &mut run, &mut t.out);
            }
            // Eight bytes of letters and separators (most of a prompt) at
            // once: lower-cased in the word, each letter run handed to the
            // word's hash as one piece.
            if let Some(w) = bytes
                .get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map(u64::from_le_bytes)
            {
                if let Some((lowered, separators)) = letters_and_separators(w) {
                    t.chunk(lowered, separators);
                    at += 8;
                    continue;
                }
            }
            match ASCII_CLASS.get(usize::from(b)).copied().unwrap_or(SEPARATOR) {
                DIGIT => t.digit(),
                APOSTROPHE => {}
                SEPARATOR => t.flush(),
                lower => t.letter(lower),
            }
            at += 1;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|r| r.chars().next()) else {
            break;
        };
        at += c.len_utf8();
        if is_cjk(c) {
            t.flush();
            if let Some(p) = prev_cjk {
                t.out.push(cjk_hash(&[p, c]));
            }
            prev_cjk = Some(c);
            run += 1;
            continue;
        }
        end_cjk_run(&mut prev_cjk, &mut run, &mut t.out);
        if c.is_alphanumeric() {
            if c.is_numeric() {
                t.digit();
            } else {
                for l in crate::unicase::lower(c) {
                    let mut buf = [0u8; 4];
                    l.encode_utf8(&mut buf).bytes().for_each(|b| t.letter(b));
                }
            }
        } else if c != '\u{2019}' {
            // Apostrophes join ("let's" stays one word).
            t.flush();
        }
    }
    t.flush();
    end_cjk_run(&mut prev_cjk, &mut run, &mut t.out);
    t.out.truncate(MAX_TOKENS);
    (t.out, t.cache)
}

/// Entries of [`token_hashes`]' cache of short words (a power of two). It
/// was made and cleared for every text (up to 1,024 entries, one per
/// sixteen bytes of text), so each request hashed its words again.
const CACHE: usize = 2048;

/// [`ASCII_CLASS`] values that are not a lower-case letter.
const SEPARATOR: u8 = 0;
const DIGIT: u8 = b'#';
const APOSTROPHE: u8 = b'\'';

/// Per ASCII byte: its lower case for a letter, [`DIGIT`], [`APOSTROPHE`]
/// (joins: "let's" is one word), or [`SEPARATOR`] (ends a word).
#[allow(clippy::indexing_slicing)] // compile time only: a bad index fails the build
static ASCII_CLASS: [u8; 128] = {
    let mut t = [SEPARATOR; 128];
    let mut b = 0u8;
    while b < 128 {
        t[b as usize] = if b.is_ascii_digit() {
            DIGIT
        } else if b.is_ascii_alphabetic() {
            b.to_ascii_lowercase()
        } else if b == b'\'' {
            APOSTROPHE
        } else {
            SEPARATOR
        };
        b += 1;
    }
    t
};

/// The word being read and the hashes so far.
struct Tokens {
    out: Vec<u64>,
    word: FingerprintStream,
    /// The word's last byte is `#`: a run of digits collapses to one `#`
    /// (slot values vary in length).
    ends_hash: bool,
    /// Short words' final SipHash words and their fingerprints (0: empty;
    /// a word's length is in its top byte, so no word's key is 0).
    cache: Vec<(u64, u64)>,
}

impl Tokens {
    /// Eight lower-cased bytes of letters and separators: `separators`
    /// has the top bit of each separator byte.
    #[inline(always)]
    fn chunk(&mut self, lowered: u64, separators: u64) {
        let (mut rest, mut seps, mut left) = (lowered, separators, 8u32);
        while seps != 0 {
            // Letters up to the next separator, then the separator.
            let k = seps.trailing_zeros() / 8;
            if k > 0 {
                self.word.push_bytes(rest & ((1u64 << (8 * k)) - 1), k as usize);
                self.ends_hash = false;
            }
            self.flush();
            let used = 8 * (k + 1);
            rest = rest.checked_shr(used).unwrap_or(0);
            seps = seps.checked_shr(used).unwrap_or(0);
            left -= k + 1;
        }
        if left > 0 {
            self.word.push_bytes(rest, left as usize);
            self.ends_hash = false;
        }
    }

    #[inline(always)]
    fn letter(&mut self, b: u8) {
        self.word.push(b);
        self.ends_hash = false;
    }

    #[inline(always)]
    fn digit(&mut self) {
        if !self.ends_hash {
            self.word.push(b'#');
            self.ends_hash = true;
        }
    }

    #[inline(always)]
    fn flush(&mut self) {
        if self.word.is_empty() {
            return;
        }
        self.ends_hash = false;
        let hash = match self.word.take_short() {
            Some(key) => {
                // Fibonacci hashing: bits of the product's upper half.
                let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (self.cache.len() - 1);
                match self.cache.get_mut(slot) {
                    Some((k, h)) if *k == key => *h,
                    Some(entry) => {
                        let h = fingerprint_short(key);
                        *entry = (key, h);
                        h
                    }
                    None => fingerprint_short(key),
                }
            }
            None => self.word.take(),
        };
        self.out.push(hash);
    }
}

/// A CJK run of one character forms no bigram: it still counts as a token.
fn end_cjk_run(prev: &mut Option<char>, run: &mut usize, out: &mut Vec<u64>) {
    if let Some(p) = prev.take() {
        if *run == 1 {
            out.push(cjk_hash(&[p]));
        }
    }
    *run = 0;
}

/// Hash of one or two CJK characters by code point (a fixed 8-byte
/// encoding: no buffer that could be too small).
fn cjk_hash(chars: &[char]) -> u64 {
    let mut buf = [0u8; 8];
    for (dst, c) in buf.chunks_exact_mut(4).zip(chars) {
        dst.copy_from_slice(&(*c as u32).to_le_bytes());
    }
    fingerprint(&buf)
}

/// Lower case with whitespace collapsed, for phrase matching; at most
/// `max_bytes` of input are read.
pub fn lower_collapsed(text: &str, max_bytes: usize) -> String {
    String::from_utf8(lower_collapsed_bytes(text, max_bytes)).unwrap_or_default()
}

/// [`lower_collapsed`] as bytes (always UTF-8: only whole sequences go
/// in), for the callers that search or hash them, which then need no
/// UTF-8 check.
pub fn lower_collapsed_bytes(text: &str, max_bytes: usize) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Out::with_room(text.len().min(max_bytes));
    let mut space = false;
    let mut at = 0usize;
    while at < max_bytes {
        // Eight bytes of ordinary ASCII text (most of a prompt) at once,
        // lower-cased in the word and copied as a word: when the only
        // whitespace in them is single spaces that stay as they are (none
        // next to another or to a pending one, none leading the output; one
        // last is left pending).
        if let Some(word) = bytes
            .get(at..at + 8)
            .filter(|_| at + 8 <= max_bytes)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
            .filter(|w| w & HIGH == 0 && !has_byte_below(*w, b' '))
        {
            let spaces = zero_bytes(word ^ (ONES * u64::from(b' ')));
            let first = spaces & 0x80 != 0;
            if spaces & (spaces >> 8) == 0 && !(first && (space || out.is_empty())) {
                if space {
                    out.put([b' ']);
                }
                out.put(ascii_lower_word(word).to_le_bytes());
                // A space last is left pending, as the byte path leaves
                // it (whitespace may follow): written, then taken back.
                // One word in five ends so, and each took a step of the
                // byte path before.
                space = spaces >> 63 != 0;
                out.len -= usize::from(space);
                at += 8;
                continue;
            }
        }
        let Some(&b) = bytes.get(at) else { break };
        // ASCII byte by byte without decoding chars: the same whitespace set
        // and lower case as the char path below.
        if b.is_ascii() {
            if matches!(b, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b' ') {
                space = !out.is_empty();
            } else {
                if space {
                    out.put([b' ']);
                    space = false;
                }
                out.put([b.to_ascii_lowercase()]);
            }
            at += 1;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|r| r.chars().next()) else {
            break;
        };
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.put([b' ']);
                space = false;
            }
            for l in crate::unicase::lower(c) {
                let mut buf = [0u8; 4];
                out.put_slice(l.encode_utf8(&mut buf).as_bytes());
            }
        }
        at += c.len_utf8();
    }
    out.into_vec()
}

/// [`lower_collapsed_bytes`]' output: written in place, so eight bytes are
/// one store (a push or an extend per piece costs a call under V8). Lower
/// case can grow a char (`İ` to `i̇`), so room is made when it runs out.
struct Out {
    buf: Vec<u8>,
    len: usize,
}

impl Out {
    fn with_room(n: usize) -> Out {
        Out {
            buf: vec![0; n],
            len: 0,
        }
    }

    /// A piece of known size (inlined: its copy is a store).
    #[inline(always)]
    fn put<const N: usize>(&mut self, bytes: [u8; N]) {
        self.put_slice(&bytes);
    }

    #[inline(always)]
    fn put_slice(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            self.buf.resize(end.max(self.buf.len() * 2), 0);
        }
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn into_vec(mut self) -> Vec<u8> {
        self.buf.truncate(self.len);
        self.buf
    }
}

/// `w`'s eight bytes lower-cased and the top bit of each of its separator
/// bytes, when they are all ASCII letters or separators ([`ASCII_CLASS`]:
/// no digit, no apostrophe, nothing above 0x7f).
fn letters_and_separators(w: u64) -> Option<(u64, u64)> {
    if w & HIGH != 0 {
        return None;
    }
    let folded = w | (ONES * 0x20);
    let letters = in_range(folded, b'a', b'z');
    let digits = in_range(w, b'0', b'9');
    let apostrophes = zero_bytes(w ^ (ONES * u64::from(b'\'')));
    ((digits | apostrophes) == 0).then_some((w | (letters >> 2), HIGH & !letters))
}

/// The top bit of each byte of `w` (all below 0x80) from `lo` to `hi`
/// (0x20 < `lo` <= `hi` < 0x80): no carry crosses a byte.
fn in_range(w: u64, lo: u8, hi: u8) -> u64 {
    let from_lo = w.wrapping_add(ONES * (0x80 - u64::from(lo)));
    let past_hi = w.wrapping_add(ONES * (0x80 - u64::from(hi) - 1));
    from_lo & !past_hi & HIGH
}

/// The top bit of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// One in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Some byte of `w` (all below 0x80) is below `n` (at most 0x80).
fn has_byte_below(w: u64, n: u8) -> bool {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH != 0
}

/// The top bit of each zero byte of `w`, exactly (no carry crosses a byte).
fn zero_bytes(w: u64) -> u64 {
    !(((w & !HIGH) + !HIGH) | w) & HIGH
}

/// ASCII lower case of the eight bytes of `w` (all below 0x80): 0x20 added
/// to each byte from `A` to `Z`. No carry crosses a byte: each is below
/// 0x80 and at most 0x3f is added.
fn ascii_lower_word(w: u64) -> u64 {
    w | (in_range(w, b'A', b'Z') >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The definition [`token_hashes`] equals (the code before it read
    /// bytes and hashed words as they came); `ascii_fast` false reads every
    /// char by the Unicode rules.
    fn tokens(text: &str, ascii_fast: bool) -> Vec<u64> {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut prev_cjk: Option<char> = None;
        let mut run = 0usize;
        for c in text.chars() {
            if out.len() >= MAX_TOKENS {
                break;
            }
            if ascii_fast && c.is_ascii() {
                // Most prompts: the same rules as the general path below, with
                // the ASCII forms of its Unicode tests (for ASCII, alphanumeric
                // is letters and digits, numeric is digits).
                if prev_cjk.is_some() {
                    end_cjk_run(&mut prev_cjk, &mut run, &mut out);
                }
                if c.is_ascii_digit() {
                    if !word.ends_with('#') {
                        word.push('#');
                    }
                } else if c.is_ascii_alphabetic() {
                    word.push(c.to_ascii_lowercase());
                } else if c != '\'' {
                    flush_ref(&mut word, &mut out);
                }
                continue;
            }
            if is_cjk(c) {
                flush_ref(&mut word, &mut out);
                if let Some(p) = prev_cjk {
                    out.push(cjk_hash(&[p, c]));
                }
                prev_cjk = Some(c);
                run += 1;
                continue;
            }
            end_cjk_run(&mut prev_cjk, &mut run, &mut out);
            if c.is_alphanumeric() {
                if c.is_numeric() {
                    // Runs of digits collapse to one `#`: slot values vary in length.
                    if !word.ends_with('#') {
                        word.push('#');
                    }
                } else {
                    word.extend(c.to_lowercase());
                }
            } else if c == '\'' || c == '\u{2019}' {
                // Apostrophes join ("let's" stays one word).
            } else {
                flush_ref(&mut word, &mut out);
            }
        }
        flush_ref(&mut word, &mut out);
        end_cjk_run(&mut prev_cjk, &mut run, &mut out);
        out.truncate(MAX_TOKENS);
        out
    }

    fn flush_ref(word: &mut String, out: &mut Vec<u64>) {
        if !word.is_empty() {
            out.push(fingerprint(word.as_bytes()));
            word.clear();
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn case_digits_and_punctuation_normalise() {
        assert_eq!(token_hashes("Solve 17 + 4."), token_hashes("solve 23+9"));
        assert_eq!(
            token_hashes("Let's  think,\nstep by step!"),
            token_hashes("let's think step by step")
        );
        assert_ne!(token_hashes("solve x"), token_hashes("solve y"));
        assert_eq!(token_hashes("a b c").len(), 3);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn cjk_splits_into_bigrams() {
        // 请逐步推理 → 请逐 逐步 步推 推理
        assert_eq!(token_hashes("请逐步推理").len(), 4);
        assert_eq!(token_hashes("请逐步推理"), token_hashes("请逐步推理。"));
        // Mixed text keeps the Latin words.
        assert_eq!(token_hashes("用 Python 写").len(), 3);
        assert!(token_hashes("逐步").len() == 1);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn token_count_is_capped() {
        let long = "word ".repeat(MAX_TOKENS * 2);
        assert_eq!(token_hashes(&long).len(), MAX_TOKENS);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn collapsed_lowercase() {
        assert_eq!(
            lower_collapsed("  Think\n\n STEP   by step ", 1000),
            "think step by step"
        );
        assert_eq!(lower_collapsed("abcdef", 3), "abc");
    }

    /// The char-by-char definition the fast path must equal.
    fn reference(text: &str, max_bytes: usize) -> String {
        let mut out = String::new();
        let mut space = false;
        for (i, c) in text.char_indices() {
            if i >= max_bytes {
                break;
            }
            if c.is_whitespace() {
                space = !out.is_empty();
                continue;
            }
            if space {
                out.push(' ');
                space = false;
            }
            out.extend(c.to_lowercase());
        }
        out
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ascii_fast_path_equals_char_by_char() {
        let texts = [
            "",
            "   ",
            "Plain ASCII, Mixed CASE\t\x0bvertical\x0cfeed\r\n end ",
            "Ünïcödé ÉTAPE PAR ÉTAPE\u{a0}nbsp\u{85}nel\u{2003}em İstanbul ΣΑΣ",
            "请一步一步 详细推理, THEN Step-By-Step 推論の過程",
            "Распиши  ЦЕПОЧКУ рассуждений\n\n\tшаг за шагом",
            "\u{1F600} emoji  and \u{10400}DESERET",
        ];
        for t in texts {
            for max in 0..=t.len() + 2 {
                assert_eq!(lower_collapsed(t, max), reference(t, max), "{t:?} {max}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn word_pass_equals_char_by_char_on_random_text() {
        let mut rng = crate::hash::TestDraws(16);
        for round in 0..200 {
            let t = random_text(&mut rng, 1 + round % 40);
            // Every cap, so every alignment of the eight-byte words and
            // every cut inside a char.
            for max in 0..=t.len() + 9 {
                assert_eq!(
                    lower_collapsed_bytes(&t, max),
                    reference(&t, max).into_bytes(),
                    "{t:?} {max}"
                );
            }
        }
        // Every byte value in every position of a word, and every pattern
        // of spaces and tabs in one, after text, a space or nothing.
        for b in 0u8..0x80 {
            for pos in 0..8 {
                let mut t = *b"abcdEFGH";
                if let Some(x) = t.get_mut(pos) {
                    *x = b;
                }
                let t = String::from_utf8(t.to_vec()).unwrap_or_default();
                for t in [format!("x{t}{t}"), format!("{t}{t}")] {
                    for max in 0..=t.len() {
                        assert_eq!(
                            lower_collapsed_bytes(&t, max),
                            reference(&t, max).into_bytes(),
                            "{t:?} {max}"
                        );
                    }
                }
            }
        }
        for pattern in 0u32..1 << 16 {
            let word: String = (0..8)
                .map(|i| match pattern >> (2 * i) & 3 {
                    0 => 'a',
                    1 => 'Z',
                    2 => ' ',
                    _ => '\t',
                })
                .collect();
            for lead in ["", " ", "x", "x ", "xyz\n"] {
                // What follows decides a space left pending at the word's
                // end: written before a letter, merged with whitespace,
                // dropped at the end or the cap.
                for next in ["Q", " Q", "\tQ", "  ", ""] {
                    let t = format!("{lead}{word}{next}");
                    for max in [t.len(), lead.len() + 8] {
                        assert_eq!(
                            lower_collapsed_bytes(&t, max),
                            reference(&t, max).into_bytes(),
                            "{t:?} {max}"
                        );
                    }
                }
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ascii_tokens_equal_the_general_rules() {
        let mut all_ascii = String::new();
        for b in 0u8..0x80 {
            all_ascii.push(char::from(b));
            all_ascii.push_str(" a");
            all_ascii.push(char::from(b));
            all_ascii.push('1');
        }
        for t in [
            all_ascii.as_str(),
            "Let's Think STEP by step: 17 + 4 = 21, x2y3 it\u{2019}s 请a逐步b推理 ok 一 z",
            "Ünïcödé ÉTAPE ² ½ Ⅻ ٣ 用 Python 写 ステップ 단계별로 end.",
        ] {
            assert_eq!(token_hashes(t), tokens(t, false), "{t:?}");
        }
        let long = "Word 12 ".repeat(MAX_TOKENS);
        assert_eq!(token_hashes(&long), tokens(&long, false));
    }

    /// Random text over the cases the byte pass tells apart: letters of
    /// both cases, digits (runs collapse), apostrophes, separators, long
    /// words (past one and two SipHash words), non-ASCII letters, digits and
    /// spaces, CJK runs, and enough short words to evict cache entries.
    fn random_text(rng: &mut crate::hash::TestDraws, pieces: usize) -> String {
        const PIECES: &[&str] = &[
            "a",
            "B",
            "z",
            "Q",
            "7",
            "42",
            "'",
            " ",
            "  ",
            "\n",
            ",",
            "-",
            "#",
            "\u{2019}",
            "É",
            "ß",
            "İ",
            "Σ",
            "²",
            "٣",
            "\u{a0}",
            "\u{2003}",
            "请",
            "逐步",
            "推理",
            "ステップ",
            "단계",
            "\u{1F600}",
            "the",
            "Step",
            "abcdefg",
            "abcdefgh",
            "ABCDEFGHIJKLMNOPQ",
            "x1y2z3",
            "don't",
            "\u{7f}",
            "\t",
            "_",
        ];
        let mut s = String::new();
        for _ in 0..pieces {
            let r = rng.next_u64();
            if r % 4 == 0 {
                // A fresh short word: fills the cache with distinct keys.
                let len = 1 + (r >> 8) % 9;
                (0..len).for_each(|i| s.push(char::from(b'a' + ((r >> (16 + 3 * i)) % 26) as u8)));
            } else {
                s.push_str(PIECES.get((r >> 8) as usize % PIECES.len()).copied().unwrap_or(" "));
            }
        }
        s
    }

    /// The thread's cache, kept across texts, full of other texts' words
    /// and evicting them: the hashes are those of a fresh cache sized as
    /// before (one entry per sixteen bytes of text) and of the char
    /// definition, and the cache stays at its size.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_cache_kept_across_texts_changes_no_hash() {
        let old_size = |len: usize| (len / 16).next_power_of_two().clamp(16, 1024);
        let mut rng = crate::hash::TestDraws(21);
        for round in 0..200 {
            let t = random_text(&mut rng, 1 + round % 400);
            let fresh = token_hashes_with(&t, vec![(0, 0); old_size(t.len())]).0;
            assert_eq!(token_hashes(&t), fresh, "{t:?}");
            assert_eq!(fresh, tokens(&t, false), "{t:?}");
            SHORT_WORDS.with(|kept| {
                let cache = kept.take();
                assert_eq!(cache.len(), CACHE);
                kept.set(cache);
            });
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn byte_pass_equals_the_char_definition_on_random_text() {
        let mut rng = crate::hash::TestDraws(8);
        for round in 0..300 {
            let t = random_text(&mut rng, 1 + round % 60);
            // Every prefix that ends on a char boundary.
            for end in (0..=t.len()).filter(|e| t.is_char_boundary(*e)) {
                let p = t.get(..end).unwrap_or_default();
                assert_eq!(token_hashes(p), tokens(p, false), "{p:?}");
            }
        }
        // Every ASCII byte at every position of an eight-byte chunk, at
        // every alignment.
        for b in 0u8..0x80 {
            for pos in 0..8 {
                let mut w = *b"abcdEFGH";
                if let Some(x) = w.get_mut(pos) {
                    *x = b;
                }
                let w = String::from_utf8(w.to_vec()).unwrap_or_default();
                for lead in ["", "x", "xy z", "12", "a'b"] {
                    let t = format!("{lead}{w}{w} {w}");
                    assert_eq!(token_hashes(&t), tokens(&t, false), "{t:?}");
                }
            }
        }
        // Around the token cap, ending in every kind of piece.
        for round in 0..40 {
            let mut t = "w ".repeat(MAX_TOKENS - 3);
            t.push_str(&random_text(&mut rng, 4 + round));
            assert_eq!(token_hashes(&t), tokens(&t, false));
            assert_eq!(token_hashes(&t), tokens(&t, true));
        }
    }
}
