//! A small HyperLogLog (Flajolet et al. 2007): 64 one-byte registers, stored
//! as 8 little-endian words in a shared-data value.
//!
//! Why a sketch: "how many distinct accounts sent this template" must not
//! cost memory per account, and a sketch cannot be pushed out by a flood of
//! new accounts (a flood only raises the count). 64 registers give about
//! 13% standard error; linear counting keeps small counts (the range that
//! matters, 2 to 100) close to exact. Inputs must already be well-mixed
//! 64-bit hashes (SipHash outputs).

/// Registers per sketch.
pub const REGISTERS: usize = 64;
/// Words a sketch occupies in a stored value.
pub const WORDS: usize = REGISTERS / 8;
const INDEX_BITS: u32 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hll {
    regs: [u8; REGISTERS],
}

impl Default for Hll {
    fn default() -> Self {
        Hll { regs: [0; REGISTERS] }
    }
}

impl Hll {
    /// Adds a hashed item; returns true when the sketch changed.
    pub fn insert(&mut self, hash: u64) -> bool {
        let index = (hash & (REGISTERS as u64 - 1)) as usize;
        let rest = hash >> INDEX_BITS;
        // Rank: position of the first 1 bit in the remaining 58 bits.
        let rank = (rest.trailing_zeros().min(64 - INDEX_BITS) + 1) as u8;
        match self.regs.get_mut(index) {
            Some(r) if *r < rank => {
                *r = rank;
                true
            }
            _ => false,
        }
    }

    /// Union (register-wise maximum).
    pub fn merge(&self, other: &Hll) -> Hll {
        let mut out = *self;
        for (a, b) in out.regs.iter_mut().zip(other.regs.iter()) {
            *a = (*a).max(*b);
        }
        out
    }

    /// Estimated number of distinct items.
    pub fn estimate(&self) -> f64 {
        let zeros = self.regs.iter().filter(|r| **r == 0).count();
        linear_shortcut(zeros).unwrap_or_else(|| self.estimate_by_sum(zeros))
    }

    /// The estimate by its definition (raw harmonic mean, or linear counting
    /// in the small range).
    fn estimate_by_sum(&self, zeros: usize) -> f64 {
        let m = REGISTERS as f64;
        let sum: f64 = self.regs.iter().map(|r| pow2_neg(*r)).sum();
        let alpha = 0.709; // alpha_64
        let raw = alpha * m * m / sum;
        if raw <= 2.5 * m && zeros > 0 {
            linear_count(zeros)
        } else {
            raw
        }
    }

    pub fn is_empty(&self) -> bool {
        self.regs.iter().all(|r| *r == 0)
    }

    pub fn to_words(&self) -> [u64; WORDS] {
        let mut out = [0u64; WORDS];
        for (w, chunk) in out.iter_mut().zip(self.regs.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        out
    }

    pub fn from_words(words: &[u64]) -> Hll {
        let mut h = Hll::default();
        for (chunk, w) in h.regs.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        h
    }
}

/// Exactly `Hll::from_words(a).merge(&Hll::from_words(b)).estimate()`
/// (missing words read as empty registers), without building the three
/// sketches when the union has enough empty registers for linear counting
/// (most sketches): a register of the union is empty when it is in both,
/// so the union's empty registers are the zero bytes of `a | b`, counted a
/// word at a time (issue 8: the sketches' estimates were ~5% of a small
/// request's time under V8).
pub fn union_estimate(a: &[u64], b: &[u64]) -> f64 {
    let word = |s: &[u64], i: usize| s.get(i).copied().unwrap_or(0);
    let zeros: usize = (0..WORDS).map(|i| zero_bytes(word(a, i) | word(b, i))).sum();
    linear_shortcut(zeros).unwrap_or_else(|| Hll::from_words(a).merge(&Hll::from_words(b)).estimate_by_sum(zeros))
}

/// The estimate when the count of empty registers alone decides it. Each
/// empty register adds 1 to the sum, so with 19 or more the sum is at
/// least 19 and the raw estimate at most 0.709 * 64 * 64 / 19 (~153), under
/// 2.5 * 64: linear counting, known without the sum (most sketches: the
/// counts that matter are small).
fn linear_shortcut(zeros: usize) -> Option<f64> {
    (zeros >= 19).then(|| linear_count(zeros))
}

/// Zero bytes of `w` (empty registers), counted exactly.
fn zero_bytes(w: u64) -> usize {
    crate::api::bytescan::zero_bytes_exact(w).count_ones() as usize
}

/// Linear counting with `zeros` empty registers, `m ln(m / zeros)`.
fn linear_count(zeros: usize) -> f64 {
    let m = REGISTERS as f64;
    m * crate::mathfn::ln(m / zeros as f64)
}

/// 2^-r, exactly what `2f64.powi(-r)` returns, built from the exponent bits
/// instead of a call per register (every r in 0..=255 is a normal double).
/// Also the recurrence sketch's (`recurrence::Texts::distinct`), where
/// `f64::exp2` pulled in wasi-libc's and its 2 KB table.
pub(super) fn pow2_neg(r: u8) -> f64 {
    f64::from_bits((1023 - u64::from(r)) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::fingerprint;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn filled(range: std::ops::Range<u64>) -> Hll {
        let mut h = Hll::default();
        for i in range {
            h.insert(fingerprint(&i.to_le_bytes()));
        }
        h
    }

    /// The word-wise union estimate is the sketches' own, bit for bit, at
    /// every fill (empty, linear counting, the harmonic mean, full), for
    /// short slices too.
    #[wasm_bindgen_test(unsupported = test)]
    fn union_estimate_is_the_merged_sketchs_estimate() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [0u64, 1, 2, 5, 20, 40, 45, 50, 60, 100, 300, 3000] {
            for _ in 0..20 {
                let (mut a, mut b) = (Hll::default(), Hll::default());
                for _ in 0..n {
                    a.insert(next());
                }
                for _ in 0..n / 2 {
                    b.insert(next());
                }
                let (wa, wb) = (a.to_words(), b.to_words());
                let want = a.merge(&b).estimate();
                assert_eq!(union_estimate(&wa, &wb).to_bits(), want.to_bits(), "{n}");
                assert_eq!(union_estimate(&wb, &wa).to_bits(), want.to_bits(), "{n}");
                assert_eq!(union_estimate(&wa, &[]).to_bits(), a.estimate().to_bits(), "{n}");
                assert_eq!(
                    union_estimate(&wa[..3], &[]).to_bits(),
                    Hll::from_words(&wa[..3]).estimate().to_bits()
                );
            }
        }
        for w in [
            0u64,
            1,
            0x80,
            0xff00,
            u64::MAX,
            0x0100_0000_0000_0001,
            0x8000_0000_0000_0000,
        ] {
            assert_eq!(
                zero_bytes(w),
                w.to_le_bytes().iter().filter(|b| **b == 0).count(),
                "{w:x}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn small_counts_are_close_and_repeats_do_not_count() {
        assert_eq!(Hll::default().estimate(), 0.0);
        let mut h = Hll::default();
        for _ in 0..1000 {
            h.insert(fingerprint(b"same account"));
        }
        assert!((h.estimate() - 1.0).abs() < 0.1);
        for n in [5u64, 20, 60] {
            let e = filled(0..n).estimate();
            assert!((e - n as f64).abs() <= n as f64 * 0.3 + 1.0, "{n}: {e}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn large_counts_within_error() {
        for n in [500u64, 5000] {
            let e = filled(0..n).estimate();
            assert!((e - n as f64).abs() < n as f64 * 0.4, "{n}: {e}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn merge_is_union_and_words_round_trip() {
        let (a, b) = (filled(0..30), filled(20..50));
        let u = a.merge(&b).estimate();
        assert!((u - 50.0).abs() < 15.0, "{u}");
        assert_eq!(Hll::from_words(&a.to_words()), a);
        assert!(!a.is_empty() && Hll::default().is_empty());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_shortcut_equals_the_definition_at_every_count_of_empty_registers() {
        let mut draws = crate::hash::TestDraws(64);
        for zeros in 0..=REGISTERS {
            for _ in 0..50 {
                let mut h = Hll::default();
                // `zeros` empty registers, the others at random ranks.
                for (i, r) in h.regs.iter_mut().enumerate() {
                    let d = draws.next_u64();
                    *r = if i < zeros { 0 } else { 1 + (d % 40) as u8 };
                }
                assert_eq!(h.estimate().to_bits(), h.estimate_by_sum(zeros).to_bits(), "{zeros}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn pow2_neg_is_exact_for_every_register_value() {
        for r in 0..=u8::MAX {
            assert_eq!(pow2_neg(r).to_bits(), 2f64.powi(-i32::from(r)).to_bits(), "{r}");
        }
    }
}
