//! Reads a trace and its decisions side by side and sums what the page
//! shows. Memory grows with distinct identities, clusters and groups (the
//! tables the page prints), not with the number of requests.

use std::collections::HashMap;
use std::io::BufRead;

use base64::Engine as _;
use serde::Deserialize;

use crate::api;
use crate::detect::{normalize, template};

/// Time buckets of the actions-over-time chart.
pub const TIME_BUCKETS: usize = 48;
/// Score histogram bins over [0, 1].
pub const SCORE_BINS: usize = 20;
/// Rows of each top-N table.
pub const TOP: usize = 15;

pub const ACTIONS: [&str; 4] = ["allow", "tag", "throttle", "block"];

#[derive(Deserialize)]
struct TraceLine {
    ts: f64,
    #[serde(default)]
    method: Option<String>,
    path: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default)]
    label: Option<Label>,
}

#[derive(Deserialize)]
struct Label {
    class: String,
    group: String,
}

#[derive(Deserialize)]
struct DecisionLine {
    i: u64,
    action: String,
    #[serde(default)]
    score: f64,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    identity: String,
}

/// Requests, their actions and scores, for one row of a table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub key: String,
    /// Label class of a group row (`benign`, `campaign`).
    pub class: String,
    pub requests: u64,
    pub actions: [u64; 4],
    pub score_sum: f64,
    pub score_max: f64,
    /// Distinct identities (clusters and groups only).
    pub identities: u64,
}

impl Row {
    fn add(&mut self, action: usize, score: f64) {
        self.requests += 1;
        if let Some(a) = self.actions.get_mut(action) {
            *a += 1;
        }
        self.score_sum += score;
        self.score_max = self.score_max.max(score);
    }

    pub fn mean_score(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.score_sum / self.requests as f64
        }
    }

    /// Share of requests with any action but allow.
    pub fn flagged_share(&self) -> f64 {
        let [allow, ..] = self.actions;
        share(self.requests.saturating_sub(allow), self.requests)
    }

    /// Share of requests throttled or blocked.
    pub fn denied_share(&self) -> f64 {
        let [_, _, throttle, block] = self.actions;
        share(throttle + block, self.requests)
    }
}

pub fn share(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub total: Row,
    pub first_ts: f64,
    pub last_ts: f64,
    /// Per time bucket, per action.
    pub over_time: Vec<[u64; 4]>,
    pub score_bins: [u64; SCORE_BINS],
    pub reasons: Vec<(String, u64)>,
    pub clusters_by_volume: Vec<Row>,
    pub clusters_by_score: Vec<Row>,
    pub identities_by_volume: Vec<Row>,
    pub identities_by_score: Vec<Row>,
    /// Label groups, when the trace is labelled.
    pub groups: Vec<Row>,
    pub identities: u64,
    pub clusters: u64,
}

struct Sink {
    points: Vec<(f64, usize)>,
    identities: HashMap<String, Row>,
    clusters: HashMap<String, (Row, HashMap<String, ()>)>,
    groups: HashMap<String, (Row, HashMap<String, ()>)>,
    reasons: HashMap<String, u64>,
}

/// Reads both files to the end. Errors name the line (1-based) and file.
pub fn build(trace: &mut dyn BufRead, decisions: &mut dyn BufRead, skeleton_tokens: usize) -> Result<Report, String> {
    let mut report = Report::default();
    let mut sink = Sink {
        points: Vec::new(),
        identities: HashMap::new(),
        clusters: HashMap::new(),
        groups: HashMap::new(),
        reasons: HashMap::new(),
    };
    let (mut tline, mut dline) = (String::new(), String::new());
    let mut n: u64 = 0;
    loop {
        tline.clear();
        dline.clear();
        let t = trace.read_line(&mut tline).map_err(|e| format!("trace: {e}"))?;
        let d = decisions.read_line(&mut dline).map_err(|e| format!("decisions: {e}"))?;
        match (t, d) {
            (0, 0) => break,
            (0, _) => return Err(format!("decisions: line {}: more decisions than trace lines", n + 1)),
            (_, 0) => return Err(format!("trace: line {}: no decision for this line", n + 1)),
            _ => {}
        }
        if tline.trim().is_empty() {
            return Err(format!("trace: line {}: empty line", n + 1));
        }
        let tl: TraceLine = serde_json::from_str(&tline).map_err(|e| format!("trace: line {}: {e}", n + 1))?;
        let dl: DecisionLine = serde_json::from_str(&dline).map_err(|e| format!("decisions: line {}: {e}", n + 1))?;
        if dl.i != n {
            return Err(format!("decisions: line {}: `i` is {}, expected {n}", n + 1, dl.i));
        }
        let action = ACTIONS
            .iter()
            .position(|a| *a == dl.action)
            .ok_or_else(|| format!("decisions: line {}: unknown action {:?}", n + 1, dl.action))?;
        let score = if dl.score.is_finite() {
            dl.score.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if n == 0 {
            report.first_ts = tl.ts;
        }
        report.last_ts = tl.ts;
        report.total.add(action, score);
        sink.points.push((tl.ts, action));
        let bin = ((score * SCORE_BINS as f64) as usize).min(SCORE_BINS - 1);
        if let Some(b) = report.score_bins.get_mut(bin) {
            *b += 1;
        }
        for r in &dl.reasons {
            *sink.reasons.entry(r.clone()).or_insert(0) += 1;
        }
        let id = sink.identities.entry(dl.identity.clone()).or_insert_with(|| Row {
            key: dl.identity.clone(),
            ..Row::default()
        });
        id.add(action, score);
        if let Some(c) = cluster_key(&tl, skeleton_tokens) {
            let (row, ids) = sink.clusters.entry(c.clone()).or_insert_with(|| {
                (
                    Row {
                        key: c,
                        ..Row::default()
                    },
                    HashMap::new(),
                )
            });
            row.add(action, score);
            ids.insert(dl.identity.clone(), ());
        }
        if let Some(l) = &tl.label {
            let (row, ids) = sink.groups.entry(l.group.clone()).or_insert_with(|| {
                (
                    Row {
                        key: l.group.clone(),
                        class: l.class.clone(),
                        ..Row::default()
                    },
                    HashMap::new(),
                )
            });
            row.add(action, score);
            ids.insert(dl.identity.clone(), ());
        }
        n += 1;
    }
    finish(report, sink)
}

fn finish(mut report: Report, sink: Sink) -> Result<Report, String> {
    let span = (report.last_ts - report.first_ts).max(1e-9);
    report.over_time = vec![[0; 4]; TIME_BUCKETS];
    for (ts, action) in sink.points {
        let b = (((ts - report.first_ts) / span) * TIME_BUCKETS as f64) as usize;
        if let Some(bucket) = report.over_time.get_mut(b.min(TIME_BUCKETS - 1)) {
            if let Some(c) = bucket.get_mut(action) {
                *c += 1;
            }
        }
    }
    let mut reasons: Vec<(String, u64)> = sink.reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons.truncate(TOP);
    report.reasons = reasons;
    report.identities = sink.identities.len() as u64;
    report.clusters = sink.clusters.len() as u64;
    let ids: Vec<Row> = sink.identities.into_values().collect();
    report.identities_by_volume = top(&ids, by_volume);
    report.identities_by_score = top(&ids, by_score);
    let clusters: Vec<Row> = sink
        .clusters
        .into_values()
        .map(|(mut r, ids)| {
            r.identities = ids.len() as u64;
            r
        })
        .collect();
    report.clusters_by_volume = top(&clusters, by_volume);
    report.clusters_by_score = top(&clusters, by_score);
    let mut groups: Vec<Row> = sink
        .groups
        .into_values()
        .map(|(mut r, ids)| {
            r.identities = ids.len() as u64;
            r
        })
        .collect();
    groups.sort_by(|a, b| a.class.cmp(&b.class).then_with(|| a.key.cmp(&b.key)));
    report.groups = groups;
    Ok(report)
}

fn by_volume(a: &Row, b: &Row) -> std::cmp::Ordering {
    b.requests.cmp(&a.requests).then_with(|| a.key.cmp(&b.key))
}

fn by_score(a: &Row, b: &Row) -> std::cmp::Ordering {
    b.mean_score()
        .total_cmp(&a.mean_score())
        .then_with(|| b.requests.cmp(&a.requests))
        .then_with(|| a.key.cmp(&b.key))
}

fn top(rows: &[Row], order: fn(&Row, &Row) -> std::cmp::Ordering) -> Vec<Row> {
    let mut v = rows.to_vec();
    v.sort_by(order);
    v.truncate(TOP);
    v
}

/// `t:<16 hex>`: the detector's prefix skeleton of the last user turn, or
/// `None` for a request that is not an LLM API call or has no template.
fn cluster_key(line: &TraceLine, skeleton_tokens: usize) -> Option<String> {
    let method = line.method.as_deref().unwrap_or("POST");
    let api = api::classify(method, &line.path)?;
    let body = match (&line.body, &line.body_base64) {
        (Some(b), _) => b.as_bytes().to_vec(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD.decode(b).ok()?,
        _ => return None,
    };
    let encoding = line.headers.get("content-encoding").map(String::as_str);
    let view = api::parse(api, &line.path, encoding, &body, false).ok()?;
    let tokens = normalize::token_hashes(view.last_user_text());
    template::keys(&tokens, skeleton_tokens).map(|k| format!("t:{:016x}", k.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(text: &str) -> String {
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]}).to_string()
    }

    fn line(ts: f64, text: &str, group: &str) -> String {
        serde_json::json!({"ts": ts, "path": "/v1/chat/completions", "body": chat(text),
                           "label": {"class": if group == "c1" {"campaign"} else {"benign"}, "group": group, "account": "a"}})
        .to_string()
    }

    #[test]
    fn sums_actions_scores_clusters_and_groups() {
        let trace = [
            line(0.0, "explain step by step how the ocean tides work please", "c1"),
            line(10.0, "explain step by step how the moon phases work please", "c1"),
            line(20.0, "what time is it", "b1"),
        ]
        .join("\n");
        let decisions = [
            r#"{"i":0,"action":"tag","score":0.5,"reasons":["template_shared"],"identity":"k:1"}"#,
            r#"{"i":1,"action":"block","status":403,"score":0.95,"reasons":["template_shared","cadence"],"identity":"k:2"}"#,
            r#"{"i":2,"action":"allow","score":0.0,"reasons":[],"identity":"k:3"}"#,
        ]
        .join("\n");
        let r = build(&mut trace.as_bytes(), &mut decisions.as_bytes(), 3).unwrap();
        assert_eq!(r.total.requests, 3);
        assert_eq!(r.total.actions, [1, 1, 0, 1]);
        assert_eq!(r.reasons[0], ("template_shared".to_owned(), 2));
        assert_eq!(r.score_bins.iter().sum::<u64>(), 3);
        assert_eq!(r.over_time.iter().map(|b| b.iter().sum::<u64>()).sum::<u64>(), 3);
        // Same first three words: one cluster of two identities.
        let top = &r.clusters_by_volume[0];
        assert!(top.key.starts_with("t:") && top.key.len() == 18);
        assert_eq!((top.requests, top.identities), (2, 2));
        assert_eq!(r.identities, 3);
        let groups: Vec<_> = r
            .groups
            .iter()
            .map(|g| (g.class.as_str(), g.key.as_str(), g.requests))
            .collect();
        assert_eq!(groups, vec![("benign", "b1", 1), ("campaign", "c1", 2)]);
        assert_eq!(r.identities_by_score[0].key, "k:2");
    }

    #[test]
    fn mismatches_name_the_line() {
        let trace = line(0.0, "hello there my friend", "b1");
        let err = build(&mut trace.as_bytes(), &mut "".as_bytes(), 8).unwrap_err();
        assert!(err.contains("line 1") && err.contains("no decision"), "{err}");
        let err = build(&mut trace.as_bytes(), &mut r#"{"i":5,"action":"allow"}"#.as_bytes(), 8).unwrap_err();
        assert!(err.contains("expected 0"), "{err}");
        let err = build(&mut trace.as_bytes(), &mut r#"{"i":0,"action":"maybe"}"#.as_bytes(), 8).unwrap_err();
        assert!(err.contains("unknown action"), "{err}");
    }
}
