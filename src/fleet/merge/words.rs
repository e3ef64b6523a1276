//! Word helpers the merge rules share: bounded reads and writes of a
//! record's words, byte-wise maximum (sketch registers), and values kept
//! per period (minute bitmaps).

pub(super) fn get(w: &[u64], i: usize) -> u64 {
    w.get(i).copied().unwrap_or(0)
}

pub(super) fn set(w: &mut [u64], i: usize, v: u64) {
    if let Some(x) = w.get_mut(i) {
        *x = v;
    }
}

/// Byte-wise maximum of two words (eight HyperLogLog registers each).
/// Registers hold ranks up to 59, so when no byte has its top bit set the
/// lanes compare without borrows (SWAR); otherwise byte by byte.
pub(super) fn max_bytes(x: u64, y: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if (x | y) & HIGH == 0 {
        // Lane bit 7 set where x >= y.
        let ge = ((x | HIGH) - y) & HIGH;
        let mask = (ge >> 7) * 0xff;
        return (x & mask) | (y & !mask);
    }
    let (x, y) = (x.to_le_bytes(), y.to_le_bytes());
    let mut out = [0u8; 8];
    for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
        *o = a.max(b);
    }
    u64::from_le_bytes(out)
}

/// `(value, period)` pairs: combined when in the same period, else the
/// later period's.
pub(super) fn same_or_later(a: (u64, u64), b: (u64, u64), combine: impl Fn(u64, u64) -> u64) -> (u64, u64) {
    match a.1.cmp(&b.1) {
        std::cmp::Ordering::Equal => (combine(a.0, b.0), a.1),
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Greater => a,
    }
}
