//! The page: a summary, the charts (svg.rs) and the tables, in one HTML
//! document with inline CSS. Every text that came from the input is escaped.

use std::fmt::Write as _;

use super::aggregate::{Report, Row, ACTIONS, SCORE_BINS};
use super::svg;

/// HTML-escapes text for element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2933;max-width:1100px}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;border-bottom:1px solid #e4e7eb;text-align:right}\
td:first-child,th:first-child{text-align:left;font-family:ui-monospace,monospace}\
.axis{font-size:11px;fill:#52606d}.legend span{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em;vertical-align:middle}\
.cards{display:flex;gap:1.5em;flex-wrap:wrap}.card{background:#f5f7fa;padding:.6em 1em;border-radius:6px}\
.card b{display:block;font-size:1.4em}";

/// The whole page. `source` names the inputs in the header.
pub fn render(r: &Report, source: &str) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>distill-guard report</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(h, "<h1>distill-guard replay report</h1><p>{}</p>", esc(source));
    summary(&mut h, r);
    let _ = write!(h, "<h2 id=\"over-time\">Actions over time</h2>{}", legend());
    h.push_str(&svg::stacked_bars(
        "actions over time",
        &r.over_time,
        &svg::ACTION_COLOURS,
        &ACTIONS,
    ));
    let _ = write!(
        h,
        "<p class=\"axis\">{:.0} s from the first to the last request, {} buckets</p>",
        r.last_ts - r.first_ts,
        r.over_time.len()
    );
    let _ = write!(h, "<h2 id=\"scores\">Score distribution</h2>");
    h.push_str(&svg::bars("scores", &r.score_bins, "#3e4c59", "0", "1"));
    let _ = write!(
        h,
        "<p class=\"axis\">{SCORE_BINS} bins of width {:.2}</p>",
        1.0 / SCORE_BINS as f64
    );
    reasons(&mut h, r);
    table(
        &mut h,
        "clusters-volume",
        "Template clusters by volume",
        "cluster",
        &r.clusters_by_volume,
        true,
    );
    table(
        &mut h,
        "clusters-score",
        "Template clusters by mean score",
        "cluster",
        &r.clusters_by_score,
        true,
    );
    table(
        &mut h,
        "identities-volume",
        "Identities by volume",
        "identity",
        &r.identities_by_volume,
        false,
    );
    table(
        &mut h,
        "identities-score",
        "Identities by mean score",
        "identity",
        &r.identities_by_score,
        false,
    );
    if !r.groups.is_empty() {
        groups(&mut h, r);
    }
    h.push_str("<p class=\"axis\">Identities are the filter's keyed hashes; clusters the detector's skeleton hash of the last user turn. No prompt text or credential is shown.</p></body></html>\n");
    h
}

fn summary(h: &mut String, r: &Report) {
    h.push_str("<div class=\"cards\">");
    card(h, "requests", &r.total.requests.to_string());
    for (name, n) in ACTIONS.iter().zip(r.total.actions) {
        card(
            h,
            name,
            &format!("{n} ({:.1}%)", 100.0 * super::aggregate::share(n, r.total.requests)),
        );
    }
    card(h, "identities", &r.identities.to_string());
    card(h, "template clusters", &r.clusters.to_string());
    h.push_str("</div>");
}

fn card(h: &mut String, label: &str, value: &str) {
    let _ = write!(h, "<div class=\"card\">{}<b>{}</b></div>", esc(label), esc(value));
}

fn legend() -> String {
    let mut s = String::from("<p class=\"legend\">");
    for (name, colour) in ACTIONS.iter().zip(svg::ACTION_COLOURS) {
        let _ = write!(s, "<span style=\"background:{colour}\"></span>{name}");
    }
    s.push_str("</p>");
    s
}

fn reasons(h: &mut String, r: &Report) {
    h.push_str("<h2 id=\"reasons\">Top reasons</h2><table><tr><th>reason</th><th>requests</th><th>share</th></tr>");
    for (reason, n) in &r.reasons {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{n}</td><td>{:.1}%</td></tr>",
            esc(reason),
            100.0 * super::aggregate::share(*n, r.total.requests)
        );
    }
    h.push_str("</table>");
}

fn table(h: &mut String, id: &str, title: &str, key: &str, rows: &[Row], with_identities: bool) {
    let _ = write!(
        h,
        "<h2 id=\"{id}\">{}</h2><table><tr><th>{}</th><th>requests</th>",
        esc(title),
        esc(key)
    );
    if with_identities {
        h.push_str("<th>identities</th>");
    }
    h.push_str("<th>mean score</th><th>max score</th><th>flagged</th><th>denied</th></tr>");
    for row in rows {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(&row.key), row.requests);
        if with_identities {
            let _ = write!(h, "<td>{}</td>", row.identities);
        }
        let _ = write!(
            h,
            "<td>{:.3}</td><td>{:.3}</td><td>{:.1}%</td><td>{:.1}%</td></tr>",
            row.mean_score(),
            row.score_max,
            100.0 * row.flagged_share(),
            100.0 * row.denied_share()
        );
    }
    h.push_str("</table>");
}

fn groups(h: &mut String, r: &Report) {
    h.push_str("<h2 id=\"groups\">By labelled group</h2><table><tr><th>group</th><th>class</th><th>requests</th><th>identities</th><th>mean score</th><th>flagged</th><th>denied</th></tr>");
    for g in &r.groups {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.1}%</td><td>{:.1}%</td></tr>",
            esc(&g.key),
            esc(&g.class),
            g.requests,
            g.identities,
            g.mean_score(),
            100.0 * g.flagged_share(),
            100.0 * g.denied_share()
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_has_no_external_resource() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let trace = r#"{"ts": 1, "path": "/v1/chat/completions", "body": "{}", "label": {"class": "benign", "group": "<script>x</script>", "account": "a"}}"#;
        let decisions = r#"{"i": 0, "action": "allow", "score": 0, "reasons": [], "identity": "k:1"}"#;
        let r = super::super::build(&mut trace.as_bytes(), &mut decisions.as_bytes(), 8).unwrap();
        let page = render(&r, "t & d");
        assert!(!page.contains("<script"), "input reached the page unescaped");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("src="));
        assert!(page.contains("id=\"groups\""));
    }
}
