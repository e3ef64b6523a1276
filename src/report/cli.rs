//! `distill-guard report` as the command line runs it.

use crate::replay::input;

pub const HELP: &str =
    "usage: distill-guard report --trace TRACE --decisions DECISIONS [--out report.html] [--skeleton-tokens K]
One self-contained HTML page from a replay: actions over time, score
distribution, top reasons, top template clusters and identities (keyed
hashes only), and per-group tables when the trace carries labels.
K: the template skeleton length (detection.skeleton_tokens, default 8).";

pub fn run(
    trace: Option<&str>,
    decisions: Option<&str>,
    out: Option<&str>,
    k: Option<&str>,
    help: bool,
) -> Result<(), String> {
    if help {
        println!("{HELP}");
        return Ok(());
    }
    let (Some(trace), Some(decisions)) = (trace, decisions) else {
        return Err(format!("report: --trace and --decisions are required\n{HELP}"));
    };
    let k: usize = match k {
        Some(v) => v.parse().map_err(|_| format!("--skeleton-tokens: not a number: {v}"))?,
        None => 8,
    };
    let mut t = input::open_read(trace).map_err(|e| e.to_string())?;
    let mut d = input::open_read(decisions).map_err(|e| e.to_string())?;
    let report = super::build(&mut t, &mut d, k).map_err(|e| format!("{e} ({trace}, {decisions})"))?;
    let page = super::html::render(&report, &format!("trace {trace}, decisions {decisions}"));
    let path = out.unwrap_or("report.html");
    std::fs::write(path, page).map_err(|e| format!("{path}: {e}"))?;
    eprintln!(
        "wrote {path}: {} requests, {} identities",
        report.total.requests, report.identities
    );
    Ok(())
}
