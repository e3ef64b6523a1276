//! RFC 3339 timestamps (`2026-11-30T16:44:50.123Z`, `…+01:00`), as HAR's
//! `startedDateTime` and Envoy's JSON `Timestamp` write them, to seconds
//! since the Unix epoch. No calendar crate: the civil-date arithmetic is a
//! few lines (Howard Hinnant's `days_from_civil`).

/// Seconds since the Unix epoch, or what is wrong with `text`.
pub fn parse_rfc3339(text: &str) -> Result<f64, String> {
    let bad = || format!("not an RFC 3339 timestamp: {text:?}");
    let t = text.trim();
    let (date, rest) = t.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let mut d = date.splitn(3, '-');
    let year: i64 = num(d.next(), 4).ok_or_else(bad)?;
    let month: i64 = num(d.next(), 2).ok_or_else(bad)?;
    let day: i64 = num(d.next(), 2).ok_or_else(bad)?;
    // The offset starts at `Z`, or at the last `+`/`-` of the time part.
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (c, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..).and_then(|o| o.split_once(':')).ok_or_else(bad)?;
        let (oh, om): (i64, i64) = (num(Some(oh), 2).ok_or_else(bad)?, num(Some(om), 2).ok_or_else(bad)?);
        (c, sign * (oh * 3600 + om * 60))
    };
    let mut c = clock.splitn(3, ':');
    let hour: i64 = num(c.next(), 2).ok_or_else(bad)?;
    let minute: i64 = num(c.next(), 2).ok_or_else(bad)?;
    let sec_text = c.next().ok_or_else(bad)?;
    let seconds: f64 = sec_text.parse().map_err(|_| bad())?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0.0..61.0).contains(&seconds);
    if !valid {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    let whole = days * 86_400 + hour * 3600 + minute * 60 - offset_secs;
    let ts = whole as f64 + seconds;
    if ts < 0.0 {
        // The trace format counts non-negative seconds from 1970.
        return Err(format!("{text:?} is before 1970"));
    }
    Ok(ts)
}

/// An unsigned decimal field of exactly `width` digits.
fn num(part: Option<&str>, width: usize) -> Option<i64> {
    let p = part?;
    if p.len() != width || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse().ok()
}

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_before_1970_are_refused() {
        // Found by fuzz/fuzz_targets/import.rs: a negative `ts` made replay
        // refuse the whole trace at that line.
        for t in [
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
            "0999-01-01T00:00:00Z",
        ] {
            assert!(parse_rfc3339(t).unwrap_err().contains("before 1970"), "{t}");
        }
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.5+00:00").unwrap(), 0.5);
    }

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0.0);
        // `date -u -d 2026-11-30T16:44:50Z +%s`
        assert_eq!(parse_rfc3339("2026-11-30T16:44:50Z").unwrap(), 1_796_057_090.0);
        assert_eq!(parse_rfc3339("2000-02-29T12:00:00Z").unwrap(), 951_825_600.0);
        let frac = parse_rfc3339("2026-11-30T16:44:50.250Z").unwrap();
        assert!((frac - 1_796_057_090.25).abs() < 1e-6);
        // The same instant with offsets.
        assert_eq!(parse_rfc3339("2026-11-30T17:44:50+01:00").unwrap(), 1_796_057_090.0);
        assert_eq!(parse_rfc3339("2026-11-30T11:14:50.000-05:30").unwrap(), 1_796_057_090.0);
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-30",
            "2026-11-30T25:00:00Z",
            "2026-11-30T16:44:50",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
