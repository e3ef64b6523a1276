//! `distill-guard import` as the command line runs it: arguments in, a
//! trace file out, progress on a terminal, a one-line summary on stderr.

use std::path::PathBuf;

use crate::progress::Progress;
use crate::replay::input;

pub const HELP: &str = "usage: distill-guard import [--out TRACE] FILE|DIR...
Converts recorded traffic into a replay trace (trace-format.md), sorted by
time: HAR 1.2 files (browser and proxy exports) and Envoy tap filter JSON
traces (envoy/snippets/tap.yaml; a directory reads every file in it).
TRACE defaults to standard output; a name ending in .gz is gzip.
Then: distill-guard replay --config CONFIG --trace TRACE";

pub fn run(paths: &[String], out: Option<&str>, help: bool) -> Result<(), String> {
    if help {
        println!("{HELP}");
        return Ok(());
    }
    if paths.is_empty() {
        return Err(format!("import: no input files\n{HELP}"));
    }
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let files = super::expand(&paths)?;
    let mut writer = input::open_write(out).map_err(|e| e.to_string())?;
    let mut progress = Progress::new("import", "files", files.len());
    let (stats, n) = super::import(&files, &mut writer, |done, _| progress.update(done))?;
    progress.finish();
    drop(writer);
    let cut = if stats.truncated_bodies > 0 {
        format!(
            ", {} bodies cut by the tap's max_buffered_rx_bytes",
            stats.truncated_bodies
        )
    } else {
        String::new()
    };
    eprintln!(
        "imported {n} requests from {} files ({} HAR entries, {} tap traces{cut})",
        stats.files, stats.har_entries, stats.tap_traces
    );
    Ok(())
}
