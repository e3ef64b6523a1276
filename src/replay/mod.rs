//! The offline replay (`distill-guard replay`, trace-format.md): each trace
//! line goes through the same engine the filter runs, with the trace's
//! timestamps as the clock and the in-memory store, and one decision line
//! comes out per trace line, in order. Streams line by line: memory does not
//! grow with the trace (apart from the engine's own bounded tables and the
//! summary's set of identity hashes).

pub mod evaluate;
pub mod fleet;
pub mod input;
pub mod summary;
pub mod trace;

use std::io::{self, BufRead, Write};
use std::time::Instant;

use serde::Serialize;

use crate::clock::ManualClock;
use crate::engine::{Decision, Engine, Host};
use crate::metrics::MemoryMetrics;
use crate::store::MemoryStore;

pub use summary::Summary;

/// Why a replay stopped.
#[derive(Debug)]
pub enum ReplayError {
    /// A malformed trace line (1-based line number and what is wrong).
    Line {
        line: u64,
        message: String,
    },
    Io(io::Error),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Line { line, message } => write!(f, "trace line {line}: {message}"),
            ReplayError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for ReplayError {
    fn from(e: io::Error) -> ReplayError {
        ReplayError::Io(e)
    }
}

/// One decision line.
#[derive(Serialize)]
struct DecisionLine<'a> {
    i: u64,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    score: f64,
    reasons: &'a [&'static str],
    identity: &'a str,
}

fn write_decision(out: &mut dyn Write, i: u64, d: &Decision) -> io::Result<()> {
    let line = DecisionLine {
        i,
        action: d.verdict.action.as_str(),
        status: d.reply.as_ref().filter(|_| d.verdict.action.denies()).map(|r| r.status),
        // Rounded so decisions diff cleanly between runs and platforms.
        score: (d.verdict.score * 1e4).round() / 1e4,
        reasons: &d.verdict.reasons,
        identity: &d.identity,
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Replays every line of `trace` through `engine`, writing decisions to `out`.
pub fn run(engine: &Engine, trace: &mut dyn BufRead, out: &mut dyn Write) -> Result<Summary, ReplayError> {
    run_with(engine, trace, out, &mut |_, _, _| {})
}

/// [`run`], calling `before(ts, host, store)` ahead of each trace line with
/// the clock already at its timestamp: the flood bench (`sim::flood_bench`)
/// puts its own requests through the same engine, clock and store there.
/// Only the trace's lines get decision lines and count in the summary.
pub fn run_with(
    engine: &Engine,
    trace: &mut dyn BufRead,
    out: &mut dyn Write,
    before: &mut dyn FnMut(f64, &Host<'_>, &MemoryStore),
) -> Result<Summary, ReplayError> {
    let store = MemoryStore::new();
    let clock = ManualClock::new(0.0);
    let metrics = MemoryMetrics::default();
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    each_request(trace, out, |_, req| {
        clock.set(req.ts);
        before(req.ts, &host, &store);
        // A forwarded request gets the recorded upstream status, or 200 (the
        // trace recorded traffic that was served).
        let answer = req.response.recorded(req.status.unwrap_or(200));
        engine.evaluate_recorded(req.meta, &req.body, &answer, &host)
    })
}

/// Reads `trace` line by line, checks each line and its order, has
/// `decide` decide it (with its 0-based line index) and writes the
/// decision.
pub(crate) fn each_request(
    trace: &mut dyn BufRead,
    out: &mut dyn Write,
    mut decide: impl FnMut(u64, trace::TraceRequest) -> Decision,
) -> Result<Summary, ReplayError> {
    let mut summary = Summary::default();
    let started = Instant::now();
    let mut line = String::new();
    let mut line_no: u64 = 0;
    let mut last_ts = f64::NEG_INFINITY;
    loop {
        line.clear();
        if trace.read_line(&mut line)? == 0 {
            break;
        }
        line_no += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return Err(ReplayError::Line {
                line: line_no,
                message: "empty line (one JSON object a line expected)".to_owned(),
            });
        }
        let req = trace::parse_line(text).map_err(|message| ReplayError::Line { line: line_no, message })?;
        if req.ts < last_ts {
            return Err(ReplayError::Line {
                line: line_no,
                message: format!(
                    "`ts` {} is before the previous line's {last_ts}; timestamps must never decrease",
                    req.ts
                ),
            });
        }
        last_ts = req.ts;
        let decision = decide(summary.requests, req);
        write_decision(out, summary.requests, &decision)?;
        summary.record(&decision);
    }
    out.flush()?;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}
