//! The deflate block decoder (RFC 1951 §3.2.3–3.2.7), resumable at any
//! input byte: its state is where it is in the block structure (a header
//! field, the n-th code length, the symbols, a match still to copy), and
//! every step either completes or is retried whole ([`super::bits`]), so a
//! body fed one byte at a time decodes to the same bytes as one fed at
//! once.
//!
//! Memory: the 32 KiB window, two code tables of 1,632 bytes and the 320
//! code lengths of a dynamic block's header, about 36 KB in all.
//!
//! Every invalid stream ends as `Halt::Bad`: a reserved block type, a
//! stored length whose complement does not match, code lengths that make
//! no prefix code or overrun their count, a repeat with nothing to repeat,
//! a symbol the block cannot have, a distance past the output so far.

use super::bits::{Bits, Carry, Halt};
use super::huffman::Huffman;
use super::window::Window;

/// Where the decoder is in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// A block's 3-bit header.
    Block,
    /// A stored block's LEN and NLEN, after the byte boundary.
    StoredLen,
    /// Stored bytes left to copy.
    Stored(u16),
    /// A dynamic block's HLIT, HDIST and HCLEN.
    Sizes,
    /// The n-th of the code-length code's lengths, and how many are sent.
    CodeLenCodes(usize, usize),
    /// The n-th literal/length or distance code length.
    Lengths(usize),
    /// Literals, matches, up to the end-of-block code.
    Symbols,
    /// The last block ended.
    Done,
}

/// Order in which the code-length code's lengths are sent (§3.2.7).
const CODE_LEN_ORDER: [u8; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// What a run ended on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The input is used up.
    More,
    /// The room given is used up: take the output and run again.
    Full,
    /// The stream's last block ended; the input after it was not read.
    End,
    Bad,
}

pub struct Decoder {
    state: State,
    carry: Carry,
    /// The current block is the last one.
    last: bool,
    /// Match still to copy: length, distance.
    copy: (usize, usize),
    /// Literal/length code (while a dynamic header is read: the
    /// code-length code).
    lit: Huffman,
    dist: Huffman,
    /// A dynamic block's HLIT and HLIT + HDIST.
    nlit: usize,
    nall: usize,
    /// A dynamic block's code lengths (at most 286 + 30, and the
    /// code-length code's 19 before them).
    lens: [u8; 320],
    window: Window,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder {
            state: State::Block,
            carry: Carry::default(),
            last: false,
            copy: (0, 0),
            lit: Huffman::new(),
            dist: Huffman::new(),
            nlit: 0,
            nall: 0,
            lens: [0; 320],
            window: Window::new(),
        }
    }

    /// A new stream (the next gzip member).
    pub fn reset(&mut self) {
        self.state = State::Block;
        self.carry = Carry::default();
        self.copy = (0, 0);
        self.window.reset();
    }

    /// Decodes `input` into at most `room` bytes of output ([`Self::written`]
    /// after the run); returns the input bytes used and why it stopped.
    pub fn run(&mut self, input: &[u8], room: usize) -> (usize, Status) {
        let mut room = room.min(self.window.begin());
        let mut bits = Bits::new(self.carry, input);
        let status = loop {
            match self.step(&mut bits, &mut room) {
                Ok(()) => {
                    bits.commit();
                    if self.state == State::Done {
                        break Status::End;
                    }
                }
                Err(halt) => {
                    bits.rewind();
                    break match halt {
                        Halt::Input => Status::More,
                        Halt::Full => Status::Full,
                        Halt::Bad => Status::Bad,
                    };
                }
            }
        };
        self.carry = bits.carry();
        (bits.taken, status)
    }

    /// The output of the last run.
    pub fn written(&self) -> &[u8] {
        self.window.written()
    }

    /// One step: it completes, changing the state and writing at most
    /// `room` bytes, or changes nothing.
    fn step(&mut self, bits: &mut Bits<'_>, room: &mut usize) -> Result<(), Halt> {
        match self.state {
            State::Block => {
                let header = bits.take(3)?;
                self.last = header & 1 == 1;
                self.state = match header >> 1 {
                    0 => State::StoredLen,
                    1 => {
                        self.fixed();
                        State::Symbols
                    }
                    2 => State::Sizes,
                    _ => return Err(Halt::Bad),
                };
            }
            State::StoredLen => {
                bits.align();
                let len = bits.take(16)?;
                if bits.take(16)? != len ^ 0xffff {
                    return Err(Halt::Bad);
                }
                self.state = State::Stored(len as u16);
            }
            State::Stored(0) => self.state = self.block_end(),
            State::Stored(left) => {
                if *room == 0 {
                    return Err(Halt::Full);
                }
                self.window.put(bits.take(8)? as u8);
                *room -= 1;
                self.state = State::Stored(left - 1);
            }
            State::Sizes => {
                let sizes = bits.take(14)? as usize;
                self.nlit = 257 + (sizes & 31);
                self.nall = self.nlit + 1 + (sizes >> 5 & 31);
                // 286 and 30 codes are all the alphabets have (zlib and
                // miniz refuse more too).
                if self.nlit > 286 || self.nall - self.nlit > 30 {
                    return Err(Halt::Bad);
                }
                // Lengths not sent are 0.
                self.lens = [0; 320];
                self.state = State::CodeLenCodes(0, 4 + (sizes >> 10));
            }
            State::CodeLenCodes(at, of) if at < of => {
                let len = bits.take(3)? as u8;
                let sym = CODE_LEN_ORDER.get(at).copied().unwrap_or(0);
                if let Some(slot) = self.lens.get_mut(usize::from(sym)) {
                    *slot = len;
                }
                self.state = State::CodeLenCodes(at + 1, of);
            }
            State::CodeLenCodes(..) => {
                if !self.lit.build(self.lens.get(..19).unwrap_or_default(), false) {
                    return Err(Halt::Bad);
                }
                self.state = State::Lengths(0);
            }
            State::Lengths(at) => self.length(bits, at)?,
            State::Symbols => self.symbol(bits, room)?,
            State::Done => {}
        }
        Ok(())
    }

    fn block_end(&self) -> State {
        if self.last {
            State::Done
        } else {
            State::Block
        }
    }

    /// The fixed codes (§3.2.6); symbols 286, 287 and distances 30, 31 have
    /// codes but are invalid in a stream.
    fn fixed(&mut self) {
        let mut lens = [8u8; 288];
        for (sym, len) in lens.iter_mut().enumerate() {
            *len = match sym {
                144..=255 => 9,
                256..=279 => 7,
                _ => 8,
            };
        }
        self.lit.build(&lens, false);
        self.dist.build(&[5; 32], false);
    }

    /// The code length at `at` (with the code-length code in `self.lit`),
    /// or, once all are read, the block's two codes.
    fn length(&mut self, bits: &mut Bits<'_>, at: usize) -> Result<(), Halt> {
        if at >= self.nall {
            let lens = self.lens.get(..self.nall).unwrap_or_default();
            let (lit, dist) = lens.split_at(self.nlit.min(lens.len()));
            if !self.lit.build(lit, true) || !self.dist.build(dist, true) {
                return Err(Halt::Bad);
            }
            self.state = State::Symbols;
            return Ok(());
        }
        let (len, times) = match self.lit.decode(bits)? {
            16 => {
                // The previous length again, 3-6 times; there must be one.
                let prev = at.checked_sub(1).and_then(|p| self.lens.get(p)).ok_or(Halt::Bad)?;
                (*prev, 3 + bits.take(2)?)
            }
            17 => (0, 3 + bits.take(3)?),
            18 => (0, 11 + bits.take(7)?),
            len => (len as u8, 1),
        };
        let end = at + times as usize;
        if end > self.nall {
            return Err(Halt::Bad);
        }
        if let Some(run) = self.lens.get_mut(at..end) {
            run.fill(len);
        }
        self.state = State::Lengths(end);
        Ok(())
    }

    /// The rest of a match, or the next symbol: a literal, the end of the
    /// block, or a match (length, distance, their extra bits: all read in
    /// one step, as nothing can be written before the distance is known).
    fn symbol(&mut self, bits: &mut Bits<'_>, room: &mut usize) -> Result<(), Halt> {
        let (len, dist) = self.copy;
        if len > 0 {
            let n = len.min(*room);
            if n == 0 {
                return Err(Halt::Full);
            }
            self.window.copy(dist, n);
            *room -= n;
            self.copy.0 = len - n;
            return Ok(());
        }
        match self.lit.decode(bits)? {
            sym @ 0..=255 => {
                // Checked after decoding, so that a block can end when the
                // output is full.
                if *room == 0 {
                    return Err(Halt::Full);
                }
                self.window.put(sym as u8);
                *room -= 1;
            }
            256 => self.state = self.block_end(),
            sym => {
                let (base, extra) = match sym - 257 {
                    28 => (258, 0),
                    code @ 0..28 => span(code.into(), 4, 3),
                    _ => return Err(Halt::Bad),
                };
                let len = base + bits.take(extra)?;
                let code = self.dist.decode(bits)?;
                if code >= 30 {
                    return Err(Halt::Bad);
                }
                let (base, extra) = span(code.into(), 2, 1);
                let dist = (base + bits.take(extra)?) as usize;
                if dist > self.window.history() {
                    return Err(Halt::Bad);
                }
                self.copy = (len as usize, dist);
            }
        }
        Ok(())
    }
}

/// Base value and extra bits of length code `code` (0 for symbol 257) or
/// distance code `code` (§3.2.5): the first `group` codes are one value
/// each; after that every `group` codes the extra bits grow by one, and
/// each code's base continues where the previous code's range ended, which
/// gives base = ((group + code % group) << extra) + first.
fn span(code: u32, group: u32, first: u32) -> (u32, u32) {
    if code < group {
        (first + code, 0)
    } else {
        let extra = code / group - 1;
        (((group + code % group) << extra) + first, extra)
    }
}
