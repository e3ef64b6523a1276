//! The codings an answer may come in, so the meter can read it.
//!
//! The meter decodes `gzip` and `deflate` answers as they pass and reads
//! identity ones; any other coding (`br`, `zstd`, ...) it cannot read, and
//! such an answer would count no tokens. A client choosing
//! `Accept-Encoding: br` would then make the token budget optional. So the
//! `accept-encoding` of every forwarded LLM API request is narrowed to what
//! the meter reads, keeping the client's own preferences among those: the
//! answer's content is the same, only its transfer coding may differ, and
//! every HTTP client that offers `br` reads gzip or identity too.
//!
//! [`narrow`] is pure; the glue (`src/filter/response_body.rs`) applies it.

/// Codings the response meter reads (`api::inflate::Coding`).
const READABLE: [&str; 4] = ["gzip", "x-gzip", "deflate", "identity"];

/// Longest `accept-encoding` value rewritten; a longer one (no real client
/// sends one) is replaced by `identity` without being parsed further.
const MAX_VALUE: usize = 1024;

/// The `accept-encoding` value to forward instead of `value`, or `None`
/// when `value` already names only readable codings.
///
/// Readable entries are kept as sent (with their `q`); a wildcard `*`
/// becomes `gzip` and `deflate` at its weight, unless those are listed
/// themselves; every other coding is dropped. Once the list is being
/// rewritten, entries refused with `q=0` are dropped too: forwarding only
/// refusals (`br, identity;q=0` would become `identity;q=0`) leaves the
/// upstream no acceptable coding, so it may answer 406 or fall back to
/// one it picks. When nothing acceptable is left, the answer is asked for
/// as `identity`, which every HTTP client reads.
pub fn narrow(value: &str) -> Option<String> {
    if value.len() > MAX_VALUE {
        return Some(crate::config::raw::owned("identity"));
    }
    let entries: Vec<&str> = value.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    let coding = |entry: &str| entry.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let readable = |entry: &str| READABLE.contains(&coding(entry).as_str());
    if entries.iter().all(|e| readable(e)) {
        return None;
    }
    let mut kept: Vec<String> = entries
        .iter()
        .filter(|e| readable(e) && !refused(e))
        .map(|e| e.to_string())
        .collect();
    if let Some(star) = entries.iter().find(|e| coding(e) == "*" && !refused(e)) {
        let weight = star.split_once(';').map(|(_, params)| params.trim());
        for name in ["gzip", "deflate"] {
            let listed = entries.iter().any(|e| {
                let c = coding(e);
                c == name || (name == "gzip" && c == "x-gzip")
            });
            if !listed {
                kept.push(match weight {
                    Some(w) => format!("{name};{w}"),
                    None => name.to_string(),
                });
            }
        }
    }
    if kept.is_empty() {
        return Some(crate::config::raw::owned("identity"));
    }
    Some(kept.join(", "))
}

/// Whether an entry's weight is zero (`q=0`, `q=0.0`, `Q=0.000`): the
/// client refuses that coding.
fn refused(entry: &str) -> bool {
    entry.split(';').skip(1).any(|param| {
        let Some((name, weight)) = param.split_once('=') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("q") && is_zero_qvalue(weight.trim())
    })
}

/// RFC 9110's zero weight: `0` followed by up to three decimals, all zero.
/// Matched by hand: a float parser would add to the module for this alone.
fn is_zero_qvalue(weight: &str) -> bool {
    match weight.strip_prefix('0') {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|d| d.len() <= 3 && d.bytes().all(|b| b == b'0')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::narrow;

    #[test]
    fn readable_lists_are_left_alone() {
        for v in [
            "gzip",
            "gzip, deflate",
            "identity",
            "GZIP;q=1.0, identity;q=0.5",
            "x-gzip",
            "",
        ] {
            assert_eq!(narrow(v), None, "{v}");
        }
    }

    #[test]
    fn unreadable_codings_are_dropped_keeping_preferences() {
        assert_eq!(narrow("gzip, deflate, br, zstd").as_deref(), Some("gzip, deflate"));
        assert_eq!(narrow("br;q=1.0, gzip;q=0.8").as_deref(), Some("gzip;q=0.8"));
        assert_eq!(narrow(" zstd ,identity;q=0.1").as_deref(), Some("identity;q=0.1"));
    }

    #[test]
    fn nothing_readable_left_asks_for_identity() {
        assert_eq!(narrow("br").as_deref(), Some("identity"));
        assert_eq!(narrow("zstd, br;q=0.9, compress").as_deref(), Some("identity"));
        assert_eq!(narrow(&"br, ".repeat(600)).as_deref(), Some("identity"));
    }

    #[test]
    fn refusals_are_not_forwarded_alone() {
        // Forwarding `identity;q=0` would leave the upstream nothing to send.
        assert_eq!(narrow("br, identity;q=0").as_deref(), Some("identity"));
        assert_eq!(narrow("br, gzip;q=0, identity;Q=0.000").as_deref(), Some("identity"));
        assert_eq!(narrow("zstd, *;q=0").as_deref(), Some("identity"));
        assert_eq!(narrow("br, gzip;q=0, deflate;q=0.5").as_deref(), Some("deflate;q=0.5"));
        // A list the meter reads as sent is still left alone.
        assert_eq!(narrow("gzip, identity;q=0"), None);
        // Not zero: kept.
        for w in ["0.001", "0.5", "1", "00"] {
            let v = format!("br, identity;q={w}");
            assert_eq!(narrow(&v), Some(format!("identity;q={w}")), "{v}");
        }
    }

    #[test]
    fn a_wildcard_offers_what_the_meter_reads() {
        assert_eq!(narrow("*").as_deref(), Some("gzip, deflate"));
        assert_eq!(narrow("br, *;q=0.5").as_deref(), Some("gzip;q=0.5, deflate;q=0.5"));
        assert_eq!(narrow("gzip, *;q=0.1").as_deref(), Some("gzip, deflate;q=0.1"));
    }
}
