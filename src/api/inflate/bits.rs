//! The deflate bit stream (RFC 1951 §3.1.1: bits packed from each byte's
//! least significant bit), read in steps that either complete or leave no
//! trace: a step reads through a cursor, and only [`Bits::commit`] drops
//! what it read. When the input runs out mid-step, the bytes already taken
//! stay buffered and the step is retried from its start once more input
//! arrives, so no decoder state ever has to describe half a symbol.
//!
//! Bytes are taken from the input only when a step needs their bits, so
//! after a committed step fewer than 8 unread bits are buffered, all from
//! the last byte taken: where the deflate stream ends, every byte after it
//! is still the caller's (a gzip trailer, the next member).

/// Why a step stopped short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// The input ran out: retry the step with more.
    Input,
    /// No room for output: retry the step once the output is taken.
    Full,
    /// Not a valid deflate stream.
    Bad,
}

/// The bits carried between inputs: at most 7 after a committed step, and
/// at most one step's worth (under 64) before.
#[derive(Clone, Copy, Debug, Default)]
pub struct Carry {
    buf: u64,
    n: u32,
}

/// A reader over one piece of input and the bits carried into it.
pub struct Bits<'a> {
    input: &'a [u8],
    /// Input bytes taken into `buf`.
    pub taken: usize,
    buf: u64,
    /// Bits in `buf`.
    n: u32,
    /// Bits of `buf` the current step has read.
    used: u32,
}

impl<'a> Bits<'a> {
    pub fn new(carry: Carry, input: &'a [u8]) -> Bits<'a> {
        Bits {
            input,
            taken: 0,
            buf: carry.buf,
            n: carry.n,
            used: 0,
        }
    }

    /// What to carry into the next input.
    pub fn carry(&self) -> Carry {
        Carry {
            buf: self.buf,
            n: self.n,
        }
    }

    /// The next `k` bits (at most 32), first bit least significant. No step
    /// reads more than 48 bits, so `buf` (64) never overflows.
    pub fn take(&mut self, k: u32) -> Result<u32, Halt> {
        while self.n < self.used + k {
            let byte = *self.input.get(self.taken).ok_or(Halt::Input)?;
            self.taken += 1;
            self.buf |= u64::from(byte) << self.n;
            self.n += 8;
        }
        let v = (self.buf >> self.used) & ((1 << k) - 1);
        self.used += k;
        Ok(v as u32)
    }

    /// The next `k` bits (at most 16) without reading them, and how many of
    /// them there are: the unread buffered bits, then input bytes not yet
    /// taken (looked at, not taken, so a step that ends on a short code
    /// takes no byte it does not use). Bits past the input's end are 0.
    pub fn peek(&self, k: u32) -> (u32, u32) {
        let mut v = self.buf >> self.used;
        let mut have = self.n - self.used;
        let mut at = self.taken;
        while have < k {
            let Some(&byte) = self.input.get(at) else { break };
            v |= u64::from(byte) << have;
            have += 8;
            at += 1;
        }
        ((v & ((1 << k) - 1)) as u32, have)
    }

    /// Skips to the next byte boundary (stored blocks, §3.2.4). Only at the
    /// start of a step, where the buffered bits are the rest of a byte and
    /// any whole bytes a retried step took.
    pub fn align(&mut self) {
        self.used = self.n % 8;
    }

    /// The step completed: drop what it read.
    pub fn commit(&mut self) {
        self.buf >>= self.used;
        self.n -= self.used;
        self.used = 0;
    }

    /// The step stopped short: it is retried from its first bit.
    pub fn rewind(&mut self) {
        self.used = 0;
    }
}
