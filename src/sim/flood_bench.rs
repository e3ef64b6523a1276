//! A campaign under a flood (`distill-guard flood`, `make bench-flood`): a
//! labelled trace (the simulator's) replays through the engine while
//! [`super::flood`] requests are interleaved evenly over it, through the
//! same engine, clock and in-memory store (`replay::run_with`). The trace's
//! own lines are scored as `evaluate` scores a replay (is the campaign still
//! caught? is any benign account denied?), and the shared data is weighed
//! per table after 10 k, 100 k and 1 M flood requests and at the end (key text and value
//! bytes; Envoy adds its own per-entry overhead on top).

use std::io::{BufRead, Cursor};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::replay::{self, evaluate};
use crate::store::memory::TableSize;
use crate::store::MemoryStore;

use super::flood::{self, FloodKind, Victim};
use super::rng::Rng;

/// Flood requests after which the tables are weighed.
pub const CHECKPOINTS: [u64; 3] = [10_000, 100_000, 1_000_000];

/// Distinct benign addresses kept as targets for forged `x-forwarded-for`.
const MAX_VICTIMS: usize = 4096;

#[derive(Clone, Debug)]
pub struct FloodOptions {
    /// `None`: no flood (the baseline to compare with).
    pub kind: Option<FloodKind>,
    pub count: u64,
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Checkpoint {
    pub flood_requests: u64,
    pub tables: Vec<TableSize>,
}

#[derive(Debug, Serialize)]
pub struct FloodReport {
    pub kind: &'static str,
    pub flood_requests: u64,
    pub flood_flagged: u64,
    pub flood_denied: u64,
    pub checkpoints: Vec<Checkpoint>,
    pub quality: evaluate::Report,
}

#[derive(Deserialize)]
struct LineLabel {
    class: String,
    group: Option<String>,
}

#[derive(Deserialize)]
struct LineHead {
    source_ip: Option<String>,
    body: Option<String>,
    label: Option<LineLabel>,
}

/// What the flood borrows from the trace: benign addresses and the popular
/// app's request bodies (the simulator's `popular_app` group).
#[derive(Default)]
struct Survey {
    lines: u64,
    addrs: Vec<IpAddr>,
    app_bodies: Vec<Vec<u8>>,
}

/// App bodies kept for [`FloodKind::Framing`].
const MAX_APP_BODIES: usize = 64;

/// Runs the trace at `open()` (called twice: a first pass counts lines and
/// collects benign addresses) under the flood.
pub fn run(
    engine: &Engine,
    open: &dyn Fn() -> std::io::Result<Box<dyn BufRead>>,
    opts: &FloodOptions,
) -> Result<FloodReport, String> {
    run_keeping(engine, open, opts).map(|(report, _)| report)
}

/// [`run`], and the trace's own decisions as `replay` writes them (JSON
/// lines, one per trace line, flood requests left out): to compare a
/// flood's decisions with the baseline's line by line.
pub fn run_keeping(
    engine: &Engine,
    open: &dyn Fn() -> std::io::Result<Box<dyn BufRead>>,
    opts: &FloodOptions,
) -> Result<(FloodReport, Vec<u8>), String> {
    let open = || open().map_err(|e| e.to_string());
    let survey = survey(open()?.as_mut())?;
    let lines = survey.lines;
    let count = if opts.kind.is_some() { opts.count } else { 0 };
    let mut rng = Rng::derive(opts.seed, "flood", 0);
    let d = &engine.settings().detection;
    let tables = flood::Tables {
        identity: d.identity_slots,
        template: d.template_slots,
        network: d.network_slots,
    };
    let (mut sent, mut flagged, mut denied, mut seen) = (0u64, 0u64, 0u64, 0u64);
    let mut checkpoints = Vec::new();
    let mut decisions = Vec::new();
    let mut before = |_ts: f64, host: &crate::engine::Host<'_>, store: &MemoryStore| {
        seen += 1;
        let due = (u128::from(count) * u128::from(seen) / u128::from(lines.max(1))) as u64;
        while sent < due {
            let Some(kind) = opts.kind else { break };
            let victim = Victim {
                addr: survey.addrs.get(rng.below(survey.addrs.len())).copied(),
                app_body: survey
                    .app_bodies
                    .get(rng.below(survey.app_bodies.len()))
                    .map(Vec::as_slice),
                tables,
            };
            let (meta, body) = flood::request(kind, sent, &mut rng, victim);
            let d = engine.evaluate_answered(meta, &body, kind.upstream_status(), host);
            flagged += u64::from(d.verdict.action != crate::verdict::Action::Allow);
            denied += u64::from(d.verdict.action.denies());
            sent += 1;
            if CHECKPOINTS.contains(&sent) {
                checkpoints.push(Checkpoint {
                    flood_requests: sent,
                    tables: store.table_sizes(),
                });
            }
        }
        // And once more at the end of the trace (the last line still to come).
        if seen == lines && !CHECKPOINTS.contains(&sent) {
            checkpoints.push(Checkpoint {
                flood_requests: sent,
                tables: store.table_sizes(),
            });
        }
    };
    replay::run_with(engine, open()?.as_mut(), &mut decisions, &mut before).map_err(|e| e.to_string())?;
    let quality = evaluate::evaluate(open()?.as_mut(), &mut Cursor::new(&decisions)).map_err(|e| e.to_string())?;
    let report = FloodReport {
        kind: opts.kind.map_or("none", FloodKind::name),
        flood_requests: sent,
        flood_flagged: flagged,
        flood_denied: denied,
        checkpoints,
        quality,
    };
    Ok((report, decisions))
}

/// Lines in the trace, up to [`MAX_VICTIMS`] distinct benign addresses and
/// [`MAX_APP_BODIES`] popular-app bodies.
fn survey(trace: &mut dyn BufRead) -> Result<Survey, String> {
    let mut s = Survey::default();
    let mut seen = std::collections::HashSet::new();
    for line in trace.lines() {
        let line = line.map_err(|e| e.to_string())?;
        s.lines += 1;
        if s.addrs.len() >= MAX_VICTIMS && s.app_bodies.len() >= MAX_APP_BODIES {
            continue;
        }
        let head: LineHead = serde_json::from_str(&line).map_err(|e| format!("trace line {}: {e}", s.lines))?;
        let Some(label) = head.label.filter(|l| l.class == "benign") else {
            continue;
        };
        if let Some(ip) = head.source_ip.and_then(|a| a.parse::<IpAddr>().ok()) {
            if s.addrs.len() < MAX_VICTIMS && seen.insert(ip) {
                s.addrs.push(ip);
            }
        }
        if label.group.as_deref() == Some("popular_app") && s.app_bodies.len() < MAX_APP_BODIES {
            s.app_bodies.extend(head.body.map(String::into_bytes));
        }
    }
    Ok(s)
}

/// The report as text: the flood, the tables at each checkpoint, and the
/// quality table of the trace's own traffic.
pub fn render(r: &FloodReport) -> String {
    let mut s = format!(
        "flood {}: {} requests, {} flagged, {} denied\n",
        r.kind, r.flood_requests, r.flood_flagged, r.flood_denied
    );
    for c in &r.checkpoints {
        let total: u64 = c.tables.iter().map(|t| t.value_bytes).sum();
        let parts: Vec<String> = c
            .tables
            .iter()
            .map(|t| format!("{} {} keys {} B", t.table, t.keys, t.value_bytes))
            .collect();
        s.push_str(&format!(
            "  shared-data values after {:>9} flood requests: {total} B ({})\n",
            c.flood_requests,
            parts.join(", ")
        ));
    }
    s.push_str(&evaluate::render(&r.quality));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
