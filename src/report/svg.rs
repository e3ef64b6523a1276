//! Inline SVG bar charts (no script, no external resource).

use std::fmt::Write as _;

use super::html::esc;

/// Colours of allow, tag, throttle, block.
pub const ACTION_COLOURS: [&str; 4] = ["#9aa5b1", "#f0b429", "#e3742f", "#cf1124"];

const W: f64 = 720.0;
const H: f64 = 200.0;
const PAD: f64 = 24.0;

/// Stacked bars: one bar per bucket, one segment per series (bottom up).
pub fn stacked_bars(title: &str, buckets: &[[u64; 4]], colours: &[&str; 4], names: &[&str; 4]) -> String {
    let max = buckets.iter().map(|b| b.iter().sum::<u64>()).max().unwrap_or(0).max(1) as f64;
    let n = buckets.len().max(1) as f64;
    let bw = (W - 2.0 * PAD) / n;
    let mut s = open(title);
    for (i, b) in buckets.iter().enumerate() {
        let x = PAD + i as f64 * bw;
        let mut y = H - PAD;
        for ((count, colour), name) in b.iter().zip(colours).zip(names) {
            if *count == 0 {
                continue;
            }
            let h = (H - 2.0 * PAD) * *count as f64 / max;
            y -= h;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{colour}"><title>{} {}</title></rect>"#,
                (bw - 1.0).max(1.0),
                count,
                esc(name)
            );
        }
    }
    close(s, max as u64)
}

/// Plain bars with a label under the first and last.
pub fn bars(title: &str, values: &[u64], colour: &str, first: &str, last: &str) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(1) as f64;
    let bw = (W - 2.0 * PAD) / n;
    let mut s = open(title);
    for (i, v) in values.iter().enumerate() {
        let h = (H - 2.0 * PAD) * *v as f64 / max;
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{colour}"><title>{v}</title></rect>"#,
            PAD + i as f64 * bw,
            H - PAD - h,
            (bw - 1.0).max(1.0)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{PAD}" y="{}" class="axis">{}</text><text x="{}" y="{}" class="axis" text-anchor="end">{}</text>"#,
        H - 6.0,
        esc(first),
        W - PAD,
        H - 6.0,
        esc(last)
    );
    close(s, max as u64)
}

fn open(title: &str) -> String {
    format!(
        r##"<svg role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}"><title>{}</title><line x1="{PAD}" y1="{}" x2="{}" y2="{}" stroke="#52606d"/>"##,
        esc(title),
        H - PAD,
        W - PAD,
        H - PAD
    )
}

fn close(mut s: String, max: u64) -> String {
    let _ = write!(s, r#"<text x="{PAD}" y="14" class="axis">max {max}</text></svg>"#);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest() {
        let s = bars("scores", &[1, 2, 0, 4], "#000", "0", "1");
        assert_eq!(s.matches("<rect").count(), 4);
        assert!(s.contains(r#"height="152.0""#), "{s}"); // the largest fills H - 2*PAD
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        let st = stacked_bars(
            "t",
            &[[1, 1, 0, 0], [0, 0, 0, 2]],
            &ACTION_COLOURS,
            &["a", "b", "c", "d"],
        );
        assert_eq!(st.matches("<rect").count(), 3);
    }
}
