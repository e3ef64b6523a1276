//! Whether an identity sends one closed set of items again and again (an
//! evaluation company re-running a benchmark) or fresh items (a harvest):
//! its distinct texts against its requests, in one word of its record.
//!
//! The distinct texts are a 16-register HyperLogLog with 4-bit registers
//! (64 bits, about 26% standard error: plenty to tell "each text about
//! once" from "each text four times"). The count of requests it covers
//! sits in the low 32 bits of a second word; after [`PERIOD`] requests the
//! sketch starts again, and the strength it had is kept (as an `f32` in the
//! high 32 bits) until the new one has [`MIN_REQUESTS`].
//!
//! A closed set needs many distinct texts (at least 30 to count at all):
//! one generator prompt sampled again and again is a harvest loop, not a
//! benchmark, and stays what the template signals say it is.

use super::cadence::ramp_up;

/// Requests after which the sketch starts again.
pub const PERIOD: u32 = 2048;
/// Requests before the sketch's own estimate is used.
pub const MIN_REQUESTS: u32 = 64;

/// The identity's texts sketch: `registers` (16 × 4 bits) and `counts`
/// (bits 0-31: requests in the sketch; 32-63: `f32` strength of the last
/// period).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Texts {
    pub registers: u64,
    pub counts: u64,
}

impl Texts {
    fn requests(&self) -> u32 {
        (self.counts & 0xffff_ffff) as u32
    }

    fn previous(&self) -> f64 {
        let x = f64::from(f32::from_bits((self.counts >> 32) as u32));
        if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// The sketch with one more request of text hash `text`.
    pub fn with_text(self, text: u64) -> Texts {
        let mut t = if self.requests() >= PERIOD {
            Texts {
                registers: 0,
                counts: u64::from((self.strength() as f32).to_bits()) << 32,
            }
        } else {
            self
        };
        let j = (text & 15) * 4;
        let rank = (((text >> 4) | 1 << 59).trailing_zeros() as u64 + 1).min(15);
        if (t.registers >> j) & 15 < rank {
            t.registers = t.registers & !(15 << j) | rank << j;
        }
        t.counts = (t.counts & !0xffff_ffff) | u64::from(t.requests().saturating_add(1));
        t
    }

    /// Estimated distinct texts in the sketch.
    pub fn distinct(&self) -> f64 {
        let regs = (0..16).map(|j| (self.registers >> (j * 4)) & 15);
        let (sum, zeros) = regs.fold((0.0, 0u32), |(s, z), r| {
            (s + super::hll::pow2_neg(r as u8), z + u32::from(r == 0))
        });
        let raw = 0.673 * 256.0 / sum;
        if raw <= 40.0 && zeros > 0 {
            16.0 * crate::mathfn::ln(16.0 / f64::from(zeros))
        } else {
            raw
        }
    }

    /// How much the identity re-sends one closed set of many items, in
    /// [0, 1]: many distinct texts, each sent two to four times or more.
    pub fn strength(&self) -> f64 {
        let n = self.requests();
        if n < MIN_REQUESTS {
            return self.previous();
        }
        let d = self.distinct().max(1.0);
        ramp_up(d, 30.0, 100.0) * ramp_up(f64::from(n) / d, 2.0, 4.0)
    }

    /// Two hosts' sketches of one identity as one: registers by maximum,
    /// requests summed, the stronger previous period.
    pub fn merge(a: Texts, b: Texts) -> Texts {
        let mut registers = 0;
        for j in 0..16 {
            let r = ((a.registers >> (j * 4)) & 15).max((b.registers >> (j * 4)) & 15);
            registers |= r << (j * 4);
        }
        let n = a.requests().saturating_add(b.requests());
        let prev = a.previous().max(b.previous()) as f32;
        Texts {
            registers,
            counts: u64::from(prev.to_bits()) << 32 | u64::from(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::fingerprint;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn h(i: u64) -> u64 {
        fingerprint(&i.to_le_bytes())
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_closed_set_sent_again_is_told_from_fresh_items() {
        // A benchmark of 500 items, run four times.
        let bench = (0..2000u64).fold(Texts::default(), |t, i| t.with_text(h(i % 500)));
        let d = bench.distinct();
        assert!((300.0..800.0).contains(&d), "{d}");
        assert!(bench.strength() > 0.6, "{}", bench.strength());
        // Fresh items every time.
        let fresh = (0..2000u64).fold(Texts::default(), |t, i| t.with_text(h(i)));
        assert!(fresh.strength() < 0.1, "{}", fresh.strength());
        // One generator prompt sampled again and again is no benchmark.
        let lo = (0..2000u64).fold(Texts::default(), |t, i| t.with_text(h(i % 3)));
        assert_eq!(lo.strength(), 0.0);
        // Too few requests to say.
        assert_eq!(
            (0..20u64)
                .fold(Texts::default(), |t, i| t.with_text(h(i % 5)))
                .strength(),
            0.0
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_sketch_starts_again_and_keeps_what_it_knew() {
        let mut t = (0..PERIOD as u64).fold(Texts::default(), |t, i| t.with_text(h(i % 400)));
        let before = t.strength();
        t = t.with_text(h(1));
        assert_eq!(t.counts & 0xffff_ffff, 1);
        assert!((t.strength() - before).abs() < 1e-6, "kept until the new period says");
        let m = Texts::merge(t, Texts::default());
        assert_eq!(m, t);
    }
}
