//! Canonical Huffman codes (RFC 1951 §3.2.2): a code is given by its
//! symbols' code lengths alone, so the table is the number of codes of each
//! length and the symbols in code order, and a code is decoded one bit at a
//! time by walking the lengths upward (codes of one length are consecutive
//! numbers, each length's first code follows the previous length's last).
//! A lookup table indexed by the next bits would decode faster, but would
//! be larger in code and memory, and decompression runs only for
//! compressed bodies, within the inspection bound.

use super::bits::{Bits, Halt};

/// Longest code (§3.2.7: code lengths are 0..=15).
const MAX_LEN: usize = 15;

pub struct Huffman {
    /// `count[len]`: codes of that length (`count[0]` unused).
    count: [u16; MAX_LEN + 1],
    /// Symbols ordered by code: by length, then by symbol value.
    symbol: [u16; 288],
}

impl Huffman {
    pub const fn new() -> Huffman {
        Huffman {
            count: [0; MAX_LEN + 1],
            symbol: [0; 288],
        }
    }

    /// The code with these symbol lengths (each at most 15, at most 288
    /// symbols). False when the lengths describe no prefix code: more codes
    /// than the bits allow (over-subscribed), or fewer (incomplete), which
    /// zlib and miniz accept only for a literal/length or distance code of
    /// at most one 1-bit code (`lone`): a block without matches, or one
    /// symbol alone.
    pub fn build(&mut self, lens: &[u8], lone: bool) -> bool {
        self.count = [0; MAX_LEN + 1];
        for &len in lens {
            if let Some(c) = self.count.get_mut(usize::from(len)) {
                *c += 1;
            }
        }
        // Where each length's symbols start in `symbol`, and the unused
        // code space: `left` codes of the current length still free.
        let mut start = [0u16; MAX_LEN + 2];
        let mut left: i32 = 1;
        let mut longer = false;
        for len in 1..=MAX_LEN {
            let count = self.count.get(len).copied().unwrap_or(0);
            left = (left << 1) - i32::from(count);
            if left < 0 {
                return false;
            }
            longer |= len > 1 && count > 0;
            let next = start.get(len).copied().unwrap_or(0) + count;
            if let Some(s) = start.get_mut(len + 1) {
                *s = next;
            }
        }
        if left > 0 && (!lone || longer) {
            return false;
        }
        for (sym, &len) in (0u16..).zip(lens) {
            if len == 0 {
                continue;
            }
            if let Some(at) = start.get_mut(usize::from(len)) {
                if let Some(slot) = self.symbol.get_mut(usize::from(*at)) {
                    *slot = sym;
                }
                *at += 1;
            }
        }
        true
    }

    /// The next symbol. `Halt::Bad` for a code the table does not have
    /// (only an incomplete code has such).
    pub fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, Halt> {
        // `code`: the bits read so far, first bit most significant; `first`:
        // the first code of the current length; `index`: its symbol's place.
        let (mut code, mut first, mut index) = (0u32, 0u32, 0u32);
        for &count in self.count.iter().skip(1) {
            code |= bits.take(1)?;
            let count = u32::from(count);
            if code < first + count {
                let at = (index + code - first) as usize;
                return self.symbol.get(at).copied().ok_or(Halt::Bad);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(Halt::Bad)
    }
}
