//! The output, which is also the history matches copy from (RFC 1951
//! §3.2.5: distances reach 32 KiB back). Output is written into a 32 KiB
//! ring and handed out from there, so there is no second buffer: a run
//! writes from where the last one stopped to at most the ring's end, the
//! caller takes the new bytes, and the next run starts over at the ring's
//! start, the older bytes still there as history.

/// Farthest a match reaches back, and the ring's size.
pub const WINDOW: usize = 32 * 1024;

pub struct Window {
    ring: Box<[u8]>,
    /// Where the next byte goes.
    pos: usize,
    /// Where this run's output starts.
    start: usize,
    /// The ring has been filled once: all of it is history.
    full: bool,
}

impl Window {
    pub fn new() -> Window {
        Window {
            ring: vec![0; WINDOW].into_boxed_slice(),
            pos: 0,
            start: 0,
            full: false,
        }
    }

    /// A new stream: no history.
    pub fn reset(&mut self) {
        *self = Window {
            ring: std::mem::take(&mut self.ring),
            pos: 0,
            start: 0,
            full: false,
        };
    }

    /// Starts a run (the last run's output was taken); returns the room it
    /// has before the ring's end.
    pub fn begin(&mut self) -> usize {
        if self.pos == WINDOW {
            self.pos = 0;
            self.full = true;
        }
        self.start = self.pos;
        WINDOW - self.pos
    }

    /// This run's output.
    pub fn written(&self) -> &[u8] {
        self.ring.get(self.start..self.pos).unwrap_or_default()
    }

    /// Bytes a match can reach back to.
    pub fn history(&self) -> usize {
        if self.full {
            WINDOW
        } else {
            self.pos
        }
    }

    /// Writes a byte; the caller keeps within the room `begin` gave.
    pub fn put(&mut self, byte: u8) {
        if let Some(slot) = self.ring.get_mut(self.pos) {
            *slot = byte;
        }
        self.pos += 1;
    }

    /// Writes `len` bytes copied from `dist` back (at most `history()`);
    /// the copy may overlap what it writes, which repeats the bytes.
    pub fn copy(&mut self, dist: usize, len: usize) {
        for _ in 0..len {
            let from = (self.pos + WINDOW - dist) % WINDOW;
            let byte = self.ring.get(from).copied().unwrap_or(0);
            self.put(byte);
        }
    }
}
