//! Progress of a long command-line run on a terminal: done/total, rate and
//! time left, redrawn at most a few times a second on standard error. Silent
//! when standard error is not a terminal (pipes, CI logs), so output stays
//! clean where it is parsed.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: &'static str,
    unit: &'static str,
    total: usize,
    started: Instant,
    last: Option<Instant>,
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
            total,
            started: Instant::now(),
            last: None,
            enabled,
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
        format!("{}: {done}/{} {} ({rate:.0}/s{eta})", self.label, self.total, self.unit)
    }

    pub fn update(&mut self, done: usize) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < REDRAW) && done < self.total {
            return;
        }
        self.last = Some(now);
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

#[cfg(test)]
mod tests {
    use super::*;

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
