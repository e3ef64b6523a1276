//! `ln` and `exp` for detection, the same bits on every target.
//!
//! `f64::ln` and `f64::exp` call the platform's libm: glibc's in the native
//! tool (`replay`, `fleet-sync`), wasi-libc's in the Envoy module, Rust's
//! own on wasm32-unknown-unknown. They round differently in the last bit,
//! measured on a million random inputs in 0..50: glibc against the `libm`
//! crate ln 4.6% and exp 9.8% of them, and wasi-libc differs from glibc too.
//! A decision compares decayed counts, scores and estimates with thresholds,
//! so a last-bit difference could flip one, and `replay` would not say what
//! the proxy does. The `libm` crate is plain Rust: the same code, the same
//! bits, wherever it is compiled.

/// The natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Values where glibc's libm (the native tool's before) rounds the other
    /// way: pinned, so these tests fail natively, under wasm or both if
    /// `ln`/`exp` ever go back to a platform's libm.
    #[wasm_bindgen_test(unsupported = test)]
    fn the_same_bits_on_every_target() {
        let ln_cases = [
            (64.0 / 35.0, 0x3fe3_5028_ad9d_8c86_u64), // linear counting, 35 empty registers of 64
            (64.0 / 40.0, 0x3fde_148a_1a27_26ce),
            (64.0 / 48.0, 0x3fd2_6962_1134_db92),
            (16.0 / 13.0, 0x3fca_93ed_3c8a_d9e6),
        ];
        for (x, bits) in ln_cases {
            assert_eq!(ln(x).to_bits(), bits, "ln({x:?})");
        }
        let exp_cases = [
            (-24.029_393_702_474_59, 0x3dc4_2721_ffb0_b3b0_u64),
            (-29.504_483_359_709_603, 0x3d45_9db2_aa50_5a24),
            (-30.239_013_638_807_133, 0x3d34_bd5e_bb99_0dd4),
            (-2.949_764_831_102_652_5, 0x3faa_cde2_29c5_e6f0),
        ];
        for (x, bits) in exp_cases {
            assert_eq!(exp(x).to_bits(), bits, "exp({x:?})");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn close_to_std_everywhere() {
        let mut draws = crate::hash::TestDraws(7);
        for _ in 0..100_000 {
            let x = (draws.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 50.0;
            let (a, b) = (ln(x.max(f64::MIN_POSITIVE)), x.max(f64::MIN_POSITIVE).ln());
            assert!((a - b).abs() <= b.abs() * 4.0 * f64::EPSILON, "ln({x})");
            let (a, b) = (exp(-x), (-x).exp());
            assert!((a - b).abs() <= b * 4.0 * f64::EPSILON, "exp(-{x})");
        }
    }
}
