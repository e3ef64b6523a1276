//! Scores a replay against the simulator's labels (`distill-guard
//! evaluate`): per campaign and per look-alike group, how many accounts were
//! flagged or denied, how much campaign traffic was served (leakage), how
//! soon detection came, and how much benign traffic was denied.
//!
//! Definitions: *flagged* = any non-allow action; *denied* = throttle or
//! block; *served* = allow or tag (reached the model). *Requests to first
//! flag/deny* count the group's requests before its first flagged/denied
//! one. *Served after first deny* is the leakage once the group had been
//! caught at least once.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};

use crate::response::meter::DEFAULT_MAX_EVENT;
use crate::response::ResponseMeter;

#[derive(Deserialize)]
struct Label {
    class: String,
    group: String,
    account: String,
}

#[derive(Deserialize)]
struct LabelledLine {
    label: Option<Label>,
    response: Option<RecordedAnswer>,
}

/// A trace line's `response`, for its output tokens.
#[derive(Deserialize)]
struct RecordedAnswer {
    status: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
}

impl RecordedAnswer {
    /// Output tokens of the answer, through the filter's own meter (0 when
    /// it was not a 2xx answer or carried no body).
    fn output_tokens(&self) -> u64 {
        let (Some(body), true) = (&self.body, (200..300).contains(&self.status.unwrap_or(200))) else {
            return 0;
        };
        let header = |n: &str| {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        let mut meter = ResponseMeter::new(header("content-type"), header("content-encoding"), DEFAULT_MAX_EVENT);
        meter.feed(body.as_bytes());
        meter.finish().output_tokens
    }
}

#[derive(Deserialize)]
struct DecisionLine {
    i: u64,
    action: String,
}

#[derive(Default)]
struct AccountStats {
    flagged: bool,
    denied: bool,
}

/// One row of the table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupRow {
    pub group: String,
    pub class: String,
    pub accounts: u64,
    pub accounts_flagged: u64,
    pub accounts_denied: u64,
    pub requests: u64,
    pub requests_denied: u64,
    pub served: u64,
    pub served_after_first_deny: u64,
    pub requests_to_first_flag: Option<u64>,
    pub requests_to_first_deny: Option<u64>,
    /// Output tokens the upstream would have sent for all the group's
    /// requests (from the trace's `response`s), and for those served.
    pub output_tokens: u64,
    pub output_tokens_served: u64,
}

impl GroupRow {
    fn pct(n: u64, d: u64) -> f64 {
        if d == 0 {
            0.0
        } else {
            100.0 * n as f64 / d as f64
        }
    }
}

/// The evaluation: campaign rows, look-alike rows, and the whole benign
/// population.
#[derive(Debug, Serialize)]
pub struct Report {
    pub groups: Vec<GroupRow>,
    pub benign: GroupRow,
}

#[derive(Debug)]
pub struct EvalError(pub String);

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<io::Error> for EvalError {
    fn from(e: io::Error) -> EvalError {
        EvalError(e.to_string())
    }
}

/// Reads the labelled trace and the decisions in lockstep.
pub fn evaluate(trace: &mut dyn BufRead, decisions: &mut dyn BufRead) -> Result<Report, EvalError> {
    let mut accounts: HashMap<(String, String), AccountStats> = HashMap::new();
    let mut rows: BTreeMap<String, GroupRow> = BTreeMap::new();
    let (mut tline, mut dline) = (String::new(), String::new());
    let mut n: u64 = 0;
    loop {
        tline.clear();
        dline.clear();
        let t = trace.read_line(&mut tline)?;
        let d = decisions.read_line(&mut dline)?;
        match (t, d) {
            (0, 0) => break,
            (0, _) | (_, 0) => {
                return Err(EvalError(format!(
                    "trace and decisions differ in length after {n} lines"
                )))
            }
            _ => {}
        }
        n += 1;
        let lab: LabelledLine = serde_json::from_str(&tline).map_err(|e| EvalError(format!("trace line {n}: {e}")))?;
        let dec: DecisionLine =
            serde_json::from_str(&dline).map_err(|e| EvalError(format!("decision line {n}: {e}")))?;
        if dec.i != n - 1 {
            return Err(EvalError(format!(
                "decision line {n} has i={}, expected {}",
                dec.i,
                n - 1
            )));
        }
        let Some(label) = lab.label else {
            return Err(EvalError(format!("trace line {n} has no `label`")));
        };
        let tokens = lab.response.as_ref().map_or(0, RecordedAnswer::output_tokens);
        let flagged = dec.action != "allow";
        let denied = dec.action == "throttle" || dec.action == "block";
        let row = rows.entry(label.group.clone()).or_insert_with(|| GroupRow {
            group: label.group.clone(),
            class: label.class.clone(),
            ..GroupRow::default()
        });
        if flagged && row.requests_to_first_flag.is_none() {
            row.requests_to_first_flag = Some(row.requests);
        }
        if denied && row.requests_to_first_deny.is_none() {
            row.requests_to_first_deny = Some(row.requests);
        }
        row.requests += 1;
        row.output_tokens += tokens;
        if !denied {
            row.output_tokens_served += tokens;
        }
        if denied {
            row.requests_denied += 1;
        } else {
            row.served += 1;
            if row.requests_to_first_deny.is_some() {
                row.served_after_first_deny += 1;
            }
        }
        let acc = accounts.entry((label.group, label.account)).or_default();
        acc.flagged |= flagged;
        acc.denied |= denied;
    }
    for ((group, _), a) in &accounts {
        if let Some(row) = rows.get_mut(group) {
            row.accounts += 1;
            row.accounts_flagged += u64::from(a.flagged);
            row.accounts_denied += u64::from(a.denied);
        }
    }
    let mut benign = GroupRow {
        group: "all benign".to_owned(),
        class: "benign".to_owned(),
        ..GroupRow::default()
    };
    for r in rows.values().filter(|r| r.class == "benign") {
        benign.accounts += r.accounts;
        benign.accounts_flagged += r.accounts_flagged;
        benign.accounts_denied += r.accounts_denied;
        benign.requests += r.requests;
        benign.requests_denied += r.requests_denied;
        benign.served += r.served;
        benign.output_tokens += r.output_tokens;
        benign.output_tokens_served += r.output_tokens_served;
    }
    // Campaigns first, then look-alikes; alphabetical within each.
    let mut groups: Vec<GroupRow> = rows.into_values().collect();
    groups.sort_by(|a, b| (a.class != "campaign", &a.group).cmp(&(b.class != "campaign", &b.group)));
    Ok(Report { groups, benign })
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "never".to_owned(), |n| n.to_string())
}

/// The human-readable tables.
pub fn render(r: &Report) -> String {
    let mut s = String::from("Campaigns\n");
    s.push_str(&format!(
        "{:<16} {:>8} {:>9} {:>8} {:>9} {:>9} {:>7} {:>12} {:>11} {:>11} {:>12} {:>9}\n",
        "group",
        "accounts",
        "flagged%",
        "denied%",
        "requests",
        "served",
        "served%",
        "served>deny",
        "to 1st flag",
        "to 1st deny",
        "out tokens",
        "tok srv%"
    ));
    for g in r.groups.iter().filter(|g| g.class == "campaign") {
        s.push_str(&format!(
            "{:<16} {:>8} {:>9.1} {:>8.1} {:>9} {:>9} {:>7.1} {:>12} {:>11} {:>11} {:>12} {:>9.1}\n",
            g.group,
            g.accounts,
            GroupRow::pct(g.accounts_flagged, g.accounts),
            GroupRow::pct(g.accounts_denied, g.accounts),
            g.requests,
            g.served,
            GroupRow::pct(g.served, g.requests),
            g.served_after_first_deny,
            opt(g.requests_to_first_flag),
            opt(g.requests_to_first_deny),
            g.output_tokens,
            GroupRow::pct(g.output_tokens_served, g.output_tokens)
        ));
    }
    s.push_str("\nBenign and look-alikes\n");
    s.push_str(&format!(
        "{:<18} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}\n",
        "group", "accounts", "flagged", "denied", "denied%", "requests", "req denied", "req den.%"
    ));
    for g in r
        .groups
        .iter()
        .filter(|g| g.class == "benign")
        .chain(std::iter::once(&r.benign))
    {
        s.push_str(&format!(
            "{:<18} {:>8} {:>8} {:>8} {:>9.3} {:>9} {:>10} {:>10.4}\n",
            g.group,
            g.accounts,
            g.accounts_flagged,
            g.accounts_denied,
            GroupRow::pct(g.accounts_denied, g.accounts),
            g.requests,
            g.requests_denied,
            GroupRow::pct(g.requests_denied, g.requests)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_leakage_and_first_detection() {
        let trace = [
            r#"{"label":{"class":"campaign","group":"h","account":"a"}}"#,
            r#"{"label":{"class":"campaign","group":"h","account":"b"}}"#,
            r#"{"label":{"class":"campaign","group":"h","account":"a"}}"#,
            r#"{"label":{"class":"benign","group":"individual","account":"c"}}"#,
            r#"{"label":{"class":"campaign","group":"h","account":"b"}}"#,
        ]
        .join("\n");
        let dec = ["allow", "tag", "block", "throttle", "allow"]
            .iter()
            .enumerate()
            .map(|(i, a)| format!(r#"{{"i":{i},"action":"{a}"}}"#))
            .collect::<Vec<_>>()
            .join("\n");
        let r = evaluate(&mut trace.as_bytes(), &mut dec.as_bytes()).unwrap();
        let h = r.groups.iter().find(|g| g.group == "h").unwrap();
        assert_eq!((h.accounts, h.accounts_flagged, h.accounts_denied), (2, 2, 1));
        assert_eq!((h.requests, h.served, h.served_after_first_deny), (4, 3, 1));
        assert_eq!((h.requests_to_first_flag, h.requests_to_first_deny), (Some(1), Some(2)));
        assert_eq!((r.benign.accounts_denied, r.benign.requests_denied), (1, 1));
        assert!(render(&r).contains("all benign"));
    }

    #[test]
    fn length_mismatch_is_an_error() {
        let t = r#"{"label":{"class":"benign","group":"g","account":"a"}}"#;
        assert!(evaluate(&mut t.as_bytes(), &mut "".as_bytes()).is_err());
    }
}
