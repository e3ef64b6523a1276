//! Template fingerprints of a user turn that survive slot filling and small
//! edits.
//!
//! A campaign fills a few templates from large seed sets: the words around
//! the slot stay, the slot changes. So a template is recognised by
//! - skeleton hashes of the first and the last `k` normalised tokens (a slot
//!   in the middle leaves both intact; a slot at the start leaves the suffix,
//!   at the end the prefix);
//! - (available, not yet wired into scoring) a 64-bit SimHash over word
//!   shingles, cut into bands (LSH): two texts that differ in a few words
//!   agree on most bits, so they share at least one band with high
//!   probability. Correlating bands across accounts needs another table
//!   read per request, past the budget of eight shared-data calls, so
//!   `keys` does not compute it: a request pays only for what is scored.
//!
//! The whole normalised text's hash is kept too: how many *distinct* texts a
//! skeleton sees tells a template with varying slots (a campaign) from one
//! text pasted by many people (a persona prompt).

use crate::hash::{siphash24, siphash24_words, SipKey};

/// Texts with fewer tokens than this have no skeleton: "hi" or "thanks" are
/// shared by everyone and are not templates.
pub const MIN_TOKENS: usize = 4;

/// Tokens a SimHash reads (the first ones): near-duplicates of a template
/// show in its first thousand words, and a 256 KiB prompt should cost no
/// more than a long one (a shingle costs a SipHash and 64 additions).
pub const SIMHASH_TOKENS: usize = 1024;

/// SimHash bands (LSH): 4 bands of 16 bits.
pub const BANDS: usize = 4;

/// Domain keys so that prefix, suffix, text and band hashes of the same
/// tokens never collide with each other.
const PREFIX_KEY: SipKey = SipKey {
    k0: 0x7072_6566_6978_0001,
    k1: 0x6467_2d74_706c_0001,
};
const SUFFIX_KEY: SipKey = SipKey {
    k0: 0x7375_6666_6978_0002,
    k1: 0x6467_2d74_706c_0002,
};
const TEXT_KEY: SipKey = SipKey {
    k0: 0x7465_7874_0000_0003,
    k1: 0x6467_2d74_706c_0003,
};
const SHINGLE_KEY: SipKey = SipKey {
    k0: 0x7368_696e_676c_0004,
    k1: 0x6467_2d74_706c_0004,
};
const BAND_KEY: SipKey = SipKey {
    k0: 0x6261_6e64_0000_0005,
    k1: 0x6467_2d74_706c_0005,
};

/// The fingerprints of one text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateKeys {
    /// Skeleton of the first `k` tokens.
    pub prefix: u64,
    /// Skeleton of the last `k` tokens.
    pub suffix: u64,
    /// The whole normalised text.
    pub text: u64,
}

/// Fingerprints of a text already tokenised by
/// [`super::normalize::token_hashes`]; `None` when it is too short to be a
/// template.
pub fn keys(tokens: &[u64], k: usize) -> Option<TemplateKeys> {
    if tokens.len() < MIN_TOKENS {
        return None;
    }
    let k = k.max(1).min(tokens.len());
    let head = tokens.get(..k).unwrap_or(tokens);
    let tail = tokens.get(tokens.len() - k..).unwrap_or(tokens);
    Some(TemplateKeys {
        prefix: hash_tokens(PREFIX_KEY, head),
        suffix: hash_tokens(SUFFIX_KEY, tail),
        text: hash_tokens(TEXT_KEY, tokens),
    })
}

/// SipHash of the tokens' little-endian bytes (a word each, no copy).
fn hash_tokens(key: SipKey, tokens: &[u64]) -> u64 {
    siphash24_words(key, tokens)
}

/// Charikar's SimHash over word bigrams (single words for a one-token text)
/// of the first [`SIMHASH_TOKENS`] tokens.
pub fn simhash(tokens: &[u64]) -> u64 {
    let tokens = tokens.get(..SIMHASH_TOKENS).unwrap_or(tokens);
    let mut acc = [0i32; 64];
    let mut add = |h: u64| {
        // Branch-free (+1 for a set bit, -1 otherwise) so the compiler
        // vectorises it: this runs 64 times per shingle.
        for (bit, a) in acc.iter_mut().enumerate() {
            *a += ((h >> bit) & 1) as i32 * 2 - 1;
        }
    };
    if tokens.len() < 2 {
        tokens
            .iter()
            .for_each(|t| add(siphash24(SHINGLE_KEY, &t.to_le_bytes())));
    } else {
        for w in tokens.windows(2) {
            let mut b = [0u8; 16];
            for (dst, t) in b.chunks_exact_mut(8).zip(w) {
                dst.copy_from_slice(&t.to_le_bytes());
            }
            add(siphash24(SHINGLE_KEY, &b));
        }
    }
    acc.iter()
        .enumerate()
        .fold(0u64, |h, (bit, a)| if *a > 0 { h | (1 << bit) } else { h })
}

/// The LSH bucket keys of a SimHash: one per band, domain-separated by the
/// band's index so equal bits in different bands are different buckets.
pub fn bands(simhash: u64) -> [u64; BANDS] {
    let mut out = [0u64; BANDS];
    for (i, o) in out.iter_mut().enumerate() {
        let band = (simhash >> (i * 16)) & 0xffff;
        *o = siphash24(BAND_KEY, &((i as u64) << 16 | band).to_le_bytes());
    }
    out
}

/// Bits in which two SimHashes differ.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::normalize::token_hashes;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn k(text: &str) -> TemplateKeys {
        keys(&token_hashes(text), 8).unwrap()
    }

    const T: &str = "Imagine and articulate the internal reasoning behind a completed response to the following problem. {} Write it out step by step inside thinking tags and justify every step.";

    #[wasm_bindgen_test(unsupported = test)]
    fn slot_in_the_middle_keeps_prefix_and_suffix() {
        let a = k(&T.replace("{}", "A train leaves at 3 pm going 60 mph; when does it arrive?"));
        let b = k(&T.replace("{}", "Write a function that reverses a linked list in place."));
        assert_eq!(a.prefix, b.prefix);
        assert_eq!(a.suffix, b.suffix);
        assert_ne!(a.text, b.text);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn slot_at_either_end_keeps_the_other_skeleton() {
        let tail = " Think step by step and justify your steps before the final answer.";
        let a = k(&format!("What is the derivative of x^2 sin x?{tail}"));
        let b = k(&format!("How many primes are below one hundred?{tail}"));
        assert_eq!(a.suffix, b.suffix);
        assert_ne!(a.prefix, b.prefix);
        let head = "Solve the following competition problem and show all your work: ";
        let c = k(&format!("{head}a triangle has sides 3, 4 and 5."));
        let d = k(&format!("{head}find all integers n with n^2 = 2n."));
        assert_eq!(c.prefix, d.prefix);
        assert_ne!(c.suffix, d.suffix);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn short_texts_are_not_templates() {
        assert_eq!(keys(&token_hashes("hi there"), 8), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn simhash_is_close_for_small_edits_and_far_otherwise() {
        let base = "I want you to act as a linux terminal. I will type commands and you will reply with what the terminal should show. Only reply with the terminal output inside one unique code block, and nothing else.";
        let edited = base
            .replace("nothing else", "nothing more")
            .replace("I will type", "I'll type");
        let other = "Write a sonnet about the sea in the style of Shakespeare, with a volta in the ninth line and a rhyming couplet.";
        let h = |t: &str| simhash(&token_hashes(t));
        let (a, b, c) = (h(base), h(&edited), h(other));
        assert!(distance(a, b) < 12, "edit distance {}", distance(a, b));
        assert!(distance(a, c) > 20, "unrelated distance {}", distance(a, c));
        // Close hashes share a band much more often than not: here at least one.
        let (ba, bb) = (bands(a), bands(b));
        assert!(ba.iter().zip(bb.iter()).any(|(x, y)| x == y) || distance(a, b) > 8);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn golden_values_are_pinned() {
        // Stored in shared data across workers and releases.
        let t = k("let's think step by step about this");
        assert_eq!(format!("{:016x}", t.prefix), GOLDEN_PREFIX);
    }
    const GOLDEN_PREFIX: &str = "013f21aaf7aed440";

    #[wasm_bindgen_test(unsupported = test)]
    fn simhash_reads_a_bounded_prefix() {
        let head = token_hashes(&"alpha beta gamma delta ".repeat(SIMHASH_TOKENS / 4));
        let mut a = head.clone();
        a.extend(token_hashes(&"one two three ".repeat(500)));
        let mut b = head.clone();
        b.extend(token_hashes(&"four five ".repeat(900)));
        assert_eq!(simhash(&a), simhash(&b));
        assert_eq!(simhash(&a), simhash(&head));
        // The rest of the text still tells the texts apart.
        let (ka, kb) = (keys(&a, 8).unwrap(), keys(&b, 8).unwrap());
        assert_ne!(ka.text, kb.text);
    }
}
