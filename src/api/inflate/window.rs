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
    ///
    /// Most matches neither start behind the ring's start nor run past its
    /// end: those are copied as slices (a byte at a time with a modulo
    /// each was the decoder's main cost on repetitive bodies). A match
    /// nearer than its length repeats its first `dist` bytes, so it is
    /// copied in runs that double: after each, what is written is a whole
    /// number of periods, and the next run copies that much from the start.
    pub fn copy(&mut self, dist: usize, len: usize) {
        let from = self.pos.wrapping_sub(dist);
        if dist > 0 && dist <= self.pos {
            if let Some(span) = self.ring.get_mut(from..self.pos + len) {
                let mut done = 0;
                while done < len {
                    let n = (dist + done).min(len - done);
                    span.copy_within(..n, dist + done);
                    done += n;
                }
                self.pos += len;
                return;
            }
        }
        for _ in 0..len {
            let from = (self.pos + WINDOW - dist) % WINDOW;
            let byte = self.ring.get(from).copied().unwrap_or(0);
            self.put(byte);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// What [`Window::copy`] replaced: a byte at a time, through the ring.
    fn copy_bytewise(w: &mut Window, dist: usize, len: usize) {
        for _ in 0..len {
            let from = (w.pos + WINDOW - dist) % WINDOW;
            let byte = w.ring[from];
            w.put(byte);
        }
    }

    /// Random runs of literals and matches (near, far, overlapping, across
    /// the ring's start after it wrapped, reaching its end), each written
    /// into two windows, one by `copy`, one byte at a time: the rings and
    /// positions stay equal.
    #[wasm_bindgen_test(unsupported = test)]
    fn copies_as_a_byte_at_a_time_did() {
        let mut rng = crate::hash::TestDraws(12);
        let (mut a, mut b) = (Window::new(), Window::new());
        for _ in 0..20_000 {
            let room = a.begin();
            assert_eq!(b.begin(), room);
            let r = rng.next_u64();
            if r % 4 == 0 || a.history() == 0 {
                for k in 0..(r >> 8) as usize % 8 {
                    if k < room {
                        a.put(r as u8 ^ k as u8);
                        b.put(r as u8 ^ k as u8);
                    }
                }
                continue;
            }
            let dist = match r >> 8 & 3 {
                0 => 1 + (r >> 16) as usize % 4,
                1 => 1 + (r >> 16) as usize % 300,
                _ => 1 + (r >> 16) as usize % a.history(),
            }
            .min(a.history());
            let len = (3 + (r >> 40) as usize % 256).min(room);
            a.copy(dist, len);
            copy_bytewise(&mut b, dist, len);
            assert_eq!((a.pos, a.full), (b.pos, b.full));
            assert!(a.ring == b.ring, "dist {dist} len {len} pos {}", a.pos);
        }
        assert!(a.full, "the runs wrapped the ring");
    }
}
