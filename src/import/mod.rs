//! `distill-guard import`: traffic people already record, turned into the
//! replay trace format (trace-format.md), response included where present,
//! so a configuration can be backtested on it with `replay`.
//!
//! Sources, detected per file from its content:
//! - [`har`]: HAR 1.2 (browser and proxy exports);
//! - [`tap`]: Envoy's tap filter output, one JSON trace per file as the
//!   `file_per_tap` sink writes them (several concatenated also work).
//!
//! Lines are sorted by arrival time (the trace format requires it; files
//! come in any order). Bodies are carried verbatim; headers too (the replay
//! hashes credentials exactly as the filter does: the trace stays on the
//! operator's side). Errors name the file and the entry.

pub mod cli;
pub mod har;
pub mod line;
pub mod tap;
pub mod time;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use line::{Body, TraceLine, TraceResponse};

/// What an import read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub files: usize,
    pub har_entries: usize,
    pub tap_traces: usize,
    /// Tap request bodies cut at the tap's `max_buffered_rx_bytes`.
    pub truncated_bodies: usize,
}

/// Converts one file's content (HAR or tap JSON) to trace lines.
pub fn convert_text(text: &str, stats: &mut Stats) -> Result<Vec<TraceLine>, String> {
    let mut out = Vec::new();
    for (i, doc) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let doc = doc.map_err(|e| format!("invalid JSON: {e}"))?;
        if har::is_har(&doc) {
            let lines = har::convert(&doc)?;
            stats.har_entries += lines.len();
            out.extend(lines);
        } else if tap::is_tap(&doc) {
            let c = tap::convert(&doc).map_err(|e| format!("trace {i}: {e}"))?;
            stats.tap_traces += 1;
            stats.truncated_bodies += usize::from(c.truncated);
            out.push(c.line);
        } else {
            return Err(format!(
                "document {i} is neither a HAR file (log.entries) nor an Envoy tap trace (http_buffered_trace)"
            ));
        }
    }
    Ok(out)
}

/// The files to read: each path itself, or a directory's files (sorted).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Reads every file, converts, sorts by time and writes JSON Lines to `out`.
/// `progress` is called after each file with (files done, files total).
pub fn import(
    files: &[PathBuf],
    out: &mut dyn Write,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Stats, usize), String> {
    let mut stats = Stats::default();
    let mut lines = Vec::new();
    for (n, f) in files.iter().enumerate() {
        let text = read(f)?;
        let mut got = convert_text(&text, &mut stats).map_err(|e| format!("{}: {e}", f.display()))?;
        lines.append(&mut got);
        stats.files += 1;
        progress(n + 1, files.len());
    }
    // Stable: entries with the same time keep their file order.
    lines.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    for line in &lines {
        let text = serde_json::to_string(line).map_err(|e| e.to_string())?;
        writeln!(out, "{text}").map_err(|e| format!("writing the trace: {e}"))?;
    }
    out.flush().map_err(|e| format!("writing the trace: {e}"))?;
    Ok((stats, lines.len()))
}

fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "{}: not UTF-8 text (binary tap output is not supported: use a JSON format)",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::trace::parse_line;

    const HAR: &str = r#"{"log": {"entries": [
        {"startedDateTime": "2026-11-30T16:44:52Z", "request": {"method": "POST", "url": "https://a/v1/messages", "headers": [{"name": "x-api-key", "value": "k"}], "postData": {"text": "{}"}}, "response": {"status": 200, "headers": [], "content": {"text": "ok"}}},
        {"startedDateTime": "2026-11-30T16:44:50Z", "request": {"method": "POST", "url": "https://a/v1/chat/completions", "headers": []}}
    ]}}"#;

    #[test]
    fn every_line_is_read_back_by_the_replay() {
        let dir = std::env::temp_dir().join(format!("dg-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.har"), HAR).unwrap();
        let tap = r#"{"http_buffered_trace": {"request": {"headers": [{"key": ":path", "value": "/v1/responses"}], "headers_received_time": "2026-11-30T16:44:51Z", "body": {"as_string": "{}", "truncated": true}}}}"#;
        std::fs::write(dir.join("b.json"), tap).unwrap();
        let mut out = Vec::new();
        let mut calls = 0;
        let (stats, n) = import(&expand(std::slice::from_ref(&dir)).unwrap(), &mut out, |_, _| {
            calls += 1
        })
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!((n, calls), (3, 2));
        assert_eq!(
            stats,
            Stats {
                files: 2,
                har_entries: 2,
                tap_traces: 1,
                truncated_bodies: 1
            }
        );
        let text = String::from_utf8(out).unwrap();
        let parsed: Vec<_> = text.lines().map(|l| parse_line(l).unwrap()).collect();
        // Sorted by time across files.
        let paths: Vec<_> = parsed.iter().map(|r| r.meta.path.as_str()).collect();
        assert_eq!(paths, ["/v1/chat/completions", "/v1/responses", "/v1/messages"]);
        assert_eq!(parsed[2].meta.header("x-api-key"), Some("k"));
    }

    #[test]
    fn unknown_documents_are_named() {
        let err = convert_text(r#"{"a": 1}"#, &mut Stats::default()).unwrap_err();
        assert!(err.contains("neither a HAR"), "{err}");
        assert!(convert_text("{", &mut Stats::default())
            .unwrap_err()
            .contains("invalid JSON"));
    }
}
