//! Canonical Huffman codes (RFC 1951 §3.2.2): a code is given by its
//! symbols' code lengths alone, so the table is the number of codes of each
//! length and the symbols in code order, and a code is decoded one bit at a
//! time by walking the lengths upward (codes of one length are consecutive
//! numbers, each length's first code follows the previous length's last).
//!
//! Codes of up to [`FAST`] bits, nearly all of a real stream's, are read in
//! one lookup instead: a table indexed by the next `FAST` bits gives the
//! symbol and its length. A bit at a time was 4-6x slower than miniz,
//! CPU an attacker could spend on every request by choosing
//! `content-encoding`. Longer codes, and codes when fewer bits are left in
//! the input than the table is indexed by, take the bit-at-a-time walk,
//! which also finds the codes an incomplete code lacks.

use super::bits::{Bits, Halt};

/// Longest code (§3.2.7: code lengths are 0..=15).
const MAX_LEN: usize = 15;

/// Bits the lookup table is indexed by: the fixed literal/length code's
/// longest (9), and 1 KiB per table.
const FAST: u32 = 9;

pub struct Huffman {
    /// `count[len]`: codes of that length (`count[0]` unused).
    count: [u16; MAX_LEN + 1],
    /// Symbols ordered by code: by length, then by symbol value.
    symbol: [u16; 288],
    /// By the next `FAST` bits, first bit least significant: the symbol of
    /// the code they start with, shifted left 4, plus its length; 0 when
    /// that code is longer than `FAST` bits or not in the table.
    fast: [u16; 1 << FAST],
}

impl Huffman {
    pub const fn new() -> Huffman {
        Huffman {
            count: [0; MAX_LEN + 1],
            symbol: [0; 288],
            fast: [0; 1 << FAST],
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
        self.fast = [0; 1 << FAST];
        // `code[len]`: the next code of that length (§3.2.2, step 2).
        // (`count[0]` counts the unused symbols: no code.)
        let mut code = [0u32; MAX_LEN + 1];
        for len in 2..=MAX_LEN {
            let shorter = code.get(len - 1).copied().unwrap_or(0);
            let count = self.count.get(len - 1).copied().unwrap_or(0);
            if let Some(c) = code.get_mut(len) {
                *c = (shorter + u32::from(count)) << 1;
            }
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
            let Some(next) = code.get_mut(usize::from(len)) else {
                continue;
            };
            let c = *next;
            *next += 1;
            let len = u32::from(len);
            if len <= FAST {
                // The stream sends a code's first bit first: the table's
                // index has it least significant, and every value of the
                // bits after the code.
                let first = (c.reverse_bits() >> (32 - len)) as usize;
                let entry = sym << 4 | len as u16;
                for slot in self.fast.iter_mut().skip(first).step_by(1 << len) {
                    *slot = entry;
                }
            }
        }
        true
    }

    /// The next symbol. `Halt::Bad` for a code the table does not have
    /// (only an incomplete code has such).
    pub fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, Halt> {
        let (next, have) = bits.peek(FAST);
        let entry = self.fast.get(next as usize).copied().unwrap_or(0);
        let len = u32::from(entry & 15);
        if len != 0 && len <= have {
            bits.take(len)?;
            return Ok(entry >> 4);
        }
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
