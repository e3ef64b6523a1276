//! Specified, seeded hashes for everything that is stored, shared between
//! Envoy workers, or compared across processes and releases.
//!
//! The standard library's hasher is randomly keyed per process and `ahash`
//! does not promise a stable output across versions, so neither may name a
//! shared-data slot or an identity. SipHash-2-4 (Aumasson & Bernstein) is a
//! keyed PRF with published test vectors: it serves both as the keyed hash
//! that turns credentials into identity keys and as the fingerprint hash
//! (under fixed, public keys). Golden values are pinned in the tests below.

/// A 128-bit SipHash key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipKey {
    pub k0: u64,
    pub k1: u64,
}

impl SipKey {
    /// Derives a key from arbitrary secret bytes (a configured secret of any
    /// length): SipHash under two fixed domain keys.
    pub fn derive(secret: &[u8]) -> SipKey {
        SipKey {
            k0: siphash24(DERIVE_A, secret),
            k1: siphash24(DERIVE_B, secret),
        }
    }
}

const DERIVE_A: SipKey = SipKey {
    k0: 0x6469_7374_696c_6c2d,
    k1: 0x6775_6172_642d_6b30,
};
const DERIVE_B: SipKey = SipKey {
    k0: 0x6469_7374_696c_6c2d,
    k1: 0x6775_6172_642d_6b31,
};

/// The public key used for fingerprints (templates, user agents, address
/// blocks): they must agree across workers and between the filter and the
/// offline replay, and carry no secret.
pub const FINGERPRINT_KEY: SipKey = SipKey {
    k0: 0x0706_0504_0302_0100,
    k1: 0x0f0e_0d0c_0b0a_0908,
};

/// SipHash-2-4 of `data` under `key`.
pub fn siphash24(key: SipKey, data: &[u8]) -> u64 {
    let mut s = SipState::new(key);
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        s.compress(u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 8];
    for (dst, src) in last.iter_mut().zip(rest) {
        *dst = *src;
    }
    // The final word carries the message length (mod 256) in its top byte.
    let last_word = u64::from_le_bytes(last) | ((data.len() as u64 & 0xff) << 56);
    s.compress(last_word);
    s.finish()
}

/// Fingerprint hash of a string under the public [`FINGERPRINT_KEY`].
pub fn fingerprint(data: &[u8]) -> u64 {
    siphash24(FINGERPRINT_KEY, data)
}

/// [`siphash24`] of the little-endian bytes of `words`, without building
/// them: each word is one compression, as it is for its eight bytes.
pub fn siphash24_words(key: SipKey, words: &[u64]) -> u64 {
    let mut s = SipState::new(key);
    for w in words {
        s.compress(*w);
    }
    s.compress(((words.len() as u64 * 8) & 0xff) << 56);
    s.finish()
}

/// [`fingerprint`] of bytes given one at a time (a word being read), so
/// no buffer holds them: full words are compressed as they fill.
pub struct FingerprintStream {
    state: SipState,
    tail: u64,
    len: usize,
}

impl Default for FingerprintStream {
    fn default() -> Self {
        FingerprintStream {
            state: SipState::new(FINGERPRINT_KEY),
            tail: 0,
            len: 0,
        }
    }
}

impl FingerprintStream {
    /// Appends one byte.
    #[inline(always)]
    pub fn push(&mut self, b: u8) {
        self.tail |= u64::from(b) << (8 * (self.len & 7));
        self.len += 1;
        if self.len & 7 == 0 {
            self.state.compress(self.tail);
            self.tail = 0;
        }
    }

    /// Appends the `n` (1 to 8) low bytes of `bytes` (the rest zero), as
    /// `n` calls of [`Self::push`] would.
    #[inline(always)]
    pub fn push_bytes(&mut self, bytes: u64, n: usize) {
        let used = self.len & 7;
        self.tail |= bytes << (8 * used);
        self.len += n;
        if used + n >= 8 {
            self.state.compress(self.tail);
            self.tail = bytes.checked_shr(8 * (8 - used) as u32).unwrap_or(0);
        }
    }

    /// Bytes appended since the last [`Self::take`].
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to seven bytes appended so far as [`siphash24`]'s final word
    /// (bytes, then the length in the top byte): the whole message, which
    /// [`fingerprint_short`] hashes. `None` for eight bytes or more.
    pub fn short_word(&self) -> Option<u64> {
        (self.len < 8).then_some(self.tail | (self.len as u64) << 56)
    }

    /// [`Self::short_word`], and a new message when it is `Some` (the
    /// state is untouched until eight bytes are in).
    #[inline(always)]
    pub fn take_short(&mut self) -> Option<u64> {
        let word = self.short_word()?;
        (self.tail, self.len) = (0, 0);
        Some(word)
    }

    /// The fingerprint of the bytes appended so far; starts a new message.
    pub fn take(&mut self) -> u64 {
        let mut s = std::mem::take(self);
        s.state.compress(s.tail | ((s.len as u64 & 0xff) << 56));
        s.state.finish()
    }
}

/// [`fingerprint`] of a message of at most seven bytes, given as its final
/// word ([`FingerprintStream::short_word`]).
pub fn fingerprint_short(word: u64) -> u64 {
    let mut s = SipState::new(FINGERPRINT_KEY);
    s.compress(word);
    s.finish()
}

/// Deterministic draws for tests on every target (the simulator's
/// generator is not built for wasm): SipHash of a counter.
#[cfg(test)]
pub struct TestDraws(pub u64);

#[cfg(test)]
impl TestDraws {
    pub fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        fingerprint(&self.0.to_le_bytes())
    }
}

struct SipState {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
}

impl SipState {
    fn new(key: SipKey) -> SipState {
        SipState {
            v0: key.k0 ^ 0x736f_6d65_7073_6575,
            v1: key.k1 ^ 0x646f_7261_6e64_6f6d,
            v2: key.k0 ^ 0x6c79_6765_6e65_7261,
            v3: key.k1 ^ 0x7465_6462_7974_6573,
        }
    }

    #[inline(always)]
    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    #[inline(always)]
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.round();
        self.v0 ^= m;
    }

    fn finish(mut self) -> u64 {
        self.v2 ^= 0xff;
        self.round();
        self.round();
        self.round();
        self.round();
        self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Key 00 01 .. 0f, as in the SipHash paper's appendix.
    const PAPER_KEY: SipKey = FINGERPRINT_KEY;

    #[wasm_bindgen_test(unsupported = test)]
    fn matches_the_reference_test_vectors() {
        // vectors[0] and vectors[15] of the reference implementation
        // (message = 00 01 02 .. len-1), read as little-endian u64.
        assert_eq!(siphash24(PAPER_KEY, &[]), 0x726f_db47_dd0e_0e31);
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(siphash24(PAPER_KEY, &msg), 0xa129_ca61_49be_45e5);
        let msg8: Vec<u8> = (0u8..8).collect();
        assert_eq!(siphash24(PAPER_KEY, &msg8), 0x93f5_f579_9a93_2462);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn derived_keys_are_pinned() {
        // Golden values: changing them changes every identity key in the
        // field, which operators' allowlists depend on.
        let k = SipKey::derive(b"distill-guard");
        assert_eq!(format!("{:016x}{:016x}", k.k0, k.k1), GOLDEN_DERIVED);
    }

    const GOLDEN_DERIVED: &str = "35ea3830dace1ef178aec6629394d163";

    #[wasm_bindgen_test(unsupported = test)]
    fn streams_and_words_equal_the_byte_hash() {
        let data: Vec<u8> = (0u8..=255).map(|b| b.wrapping_mul(167).wrapping_add(13)).collect();
        for n in 0..data.len() {
            let msg = data.get(..n).unwrap_or_default();
            let mut s = FingerprintStream::default();
            msg.iter().for_each(|b| s.push(*b));
            assert_eq!(s.len(), n);
            if let Some(w) = s.short_word() {
                assert_eq!(fingerprint_short(w), fingerprint(msg), "{n}");
            }
            assert_eq!(s.take(), fingerprint(msg), "{n}");
            // In pieces of every size from 1 to 8, at every offset.
            for piece in 1..=8 {
                let mut s = FingerprintStream::default();
                for part in msg.chunks(piece) {
                    let mut word = [0u8; 8];
                    word.iter_mut().zip(part).for_each(|(d, b)| *d = *b);
                    s.push_bytes(u64::from_le_bytes(word), part.len());
                }
                assert_eq!(s.len(), n);
                let short = s.short_word();
                assert_eq!(s.take_short(), short);
                match short {
                    Some(w) => assert!(fingerprint_short(w) == fingerprint(msg) && s.is_empty()),
                    None => assert_eq!(s.take(), fingerprint(msg), "{n} {piece}"),
                }
            }
            // `take` starts over.
            assert!(s.is_empty() && s.take() == fingerprint(&[]));
        }
        for n in 0..40u64 {
            let words: Vec<u64> = (0..n).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            assert_eq!(siphash24_words(PAPER_KEY, &words), siphash24(PAPER_KEY, &bytes), "{n}");
        }
    }
}
