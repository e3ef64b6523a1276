//! Progress of a long command-line run on a terminal: done/total, rate and
//! time left, redrawn at most a few times a second on standard error. Silent
//! when standard error is not a terminal (pipes, CI logs), so output stays
//! clean where it is parsed.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: &'static str,
    unit: &'static str,
    /// Items per displayed unit (1, or 2^20 for bytes shown in MiB).
    scale: f64,
    total: usize,
    started: Instant,
    last: Option<Instant>,
    /// `done` as last drawn (a repeat is not redrawn).
    drawn: Option<usize>,
    enabled: bool,
}

const REDRAW: Duration = Duration::from_millis(200);

impl Progress {
    /// Shown only when standard error is a terminal.
    pub fn new(label: &'static str, unit: &'static str, total: usize) -> Progress {
        Progress::with_output(label, unit, total, std::io::stderr().is_terminal())
    }

    pub fn with_output(label: &'static str, unit: &'static str, total: usize, enabled: bool) -> Progress {
        Progress {
            label,
            unit,
            scale: 1.0,
            total,
            started: Instant::now(),
            last: None,
            drawn: None,
            enabled,
        }
    }

    /// Progress over `total` bytes, shown in MiB.
    pub fn over_bytes(label: &'static str, total: usize, enabled: bool) -> Progress {
        Progress {
            scale: 1024.0 * 1024.0,
            ..Progress::with_output(label, "MiB", total, enabled)
        }
    }

    /// The status line for `done` items after `elapsed`.
    pub fn line(&self, done: usize, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let eta = if rate > 0.0 && self.total > done {
            format!(", {:.0} s left", (self.total - done) as f64 / rate)
        } else {
            String::new()
        };
        if self.scale > 1.0 {
            let (d, t, r) = (
                done as f64 / self.scale,
                self.total as f64 / self.scale,
                rate / self.scale,
            );
            return format!(
                "{}: {d:.1}/{t:.1} {} ({r:.1} {}/s{eta})",
                self.label, self.unit, self.unit
            );
        }
        format!("{}: {done}/{} {} ({rate:.0}/s{eta})", self.label, self.total, self.unit)
    }

    pub fn update(&mut self, done: usize) {
        if !self.enabled || self.drawn == Some(done) {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < REDRAW) && done < self.total {
            return;
        }
        self.last = Some(now);
        self.drawn = Some(done);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", self.line(done, now.duration_since(self.started)));
        let _ = err.flush();
    }

    /// Ends the status line (a newline), if one was drawn.
    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// A reader that reports how much of a file of known size it has read (the
/// raw file, under any decompression, so `.gz` traces show true progress).
pub struct CountingReader<R> {
    inner: R,
    done: usize,
    progress: Progress,
    ended: bool,
}

impl<R: Read> CountingReader<R> {
    pub fn new(inner: R, progress: Progress) -> CountingReader<R> {
        CountingReader {
            inner,
            done: 0,
            progress,
            ended: false,
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done = self.done.saturating_add(n);
        if n > 0 {
            self.progress.update(self.done);
        } else if !self.ended {
            // The end of the file (once, however often it is read again).
            self.ended = true;
            self.progress.update(self.done);
            self.progress.finish();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_reader_passes_bytes_through() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = CountingReader::new(&data[..], Progress::over_bytes("replay", data.len(), false));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((out, r.done), (data.clone(), data.len()));
        let p = Progress::over_bytes("replay", 10 << 20, false);
        assert_eq!(
            p.line(5 << 20, Duration::from_secs(2)),
            "replay: 5.0/10.0 MiB (2.5 MiB/s, 2 s left)"
        );
    }

    #[test]
    fn line_shows_rate_and_time_left() {
        let p = Progress::with_output("import", "files", 100, false);
        assert_eq!(
            p.line(25, Duration::from_secs(5)),
            "import: 25/100 files (5/s, 15 s left)"
        );
        assert_eq!(p.line(100, Duration::from_secs(10)), "import: 100/100 files (10/s)");
    }
}
