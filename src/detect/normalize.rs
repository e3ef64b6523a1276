//! Text normalisation for template fingerprints: lower case, digits to `#`,
//! punctuation to separators, whitespace collapsed; CJK runs split into
//! character bigrams (CJK has no spaces, so words would be whole sentences).
//!
//! Why: a template's slots are mostly numbers, names and short phrases;
//! normalising digits and punctuation makes `"Solve 17 + 4."` and
//! `"solve 23+9"` share their skeleton, while the words that carry the
//! template's structure stay intact. Tokens are hashed at once, so no string
//! per token is allocated: work is proportional to the text.

use crate::hash::fingerprint;

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
pub fn token_hashes(text: &str) -> Vec<u64> {
    tokens(text, true)
}

/// [`token_hashes`]; `ascii_fast` false reads every char by the Unicode
/// rules (the definition the fast path is tested against).
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
                flush(&mut word, &mut out);
            }
            continue;
        }
        if is_cjk(c) {
            flush(&mut word, &mut out);
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
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    end_cjk_run(&mut prev_cjk, &mut run, &mut out);
    out.truncate(MAX_TOKENS);
    out
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

fn flush(word: &mut String, out: &mut Vec<u64>) {
    if !word.is_empty() {
        out.push(fingerprint(word.as_bytes()));
        word.clear();
    }
}

/// Lower case with whitespace collapsed, for phrase matching; at most
/// `max_bytes` of input are read.
pub fn lower_collapsed(text: &str, max_bytes: usize) -> String {
    // Bytes, not chars, are pushed: only whole UTF-8 sequences go in, so the
    // final check always passes (and costs far less than a push per char).
    let mut out: Vec<u8> = Vec::with_capacity(text.len().min(max_bytes));
    let mut space = false;
    let mut rest = text;
    let mut at = 0usize;
    while at < max_bytes {
        // ASCII (most prompts) byte by byte without decoding chars: the
        // same whitespace set and lower case as the char path below.
        let ascii = rest.bytes().take(max_bytes - at).take_while(u8::is_ascii).count();
        for b in rest.bytes().take(ascii) {
            if matches!(b, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b' ') {
                space = !out.is_empty();
                continue;
            }
            if space {
                out.push(b' ');
                space = false;
            }
            out.push(b.to_ascii_lowercase());
        }
        at += ascii;
        rest = rest.get(ascii..).unwrap_or_default();
        let Some(c) = rest.chars().next() else { break };
        if at >= max_bytes {
            break;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(b' ');
                space = false;
            }
            for l in c.to_lowercase() {
                let mut buf = [0u8; 4];
                out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
            }
        }
        at += c.len_utf8();
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

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
}
