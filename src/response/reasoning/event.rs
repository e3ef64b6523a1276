//! One server-sent event (its bytes as `response::sse` framed them) with
//! its data replaced.

/// Splits bytes into lines without their terminators (`\n`, `\r\n`, `\r`).
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        let (line, tail) = rest.split_at(end);
        let skip = match tail {
            [b'\r', b'\n', ..] => 2,
            [] => 0,
            _ => 1,
        };
        rest = tail.get(skip..).unwrap_or(&[]);
        Some(line)
    })
}

fn is_data(line: &[u8]) -> bool {
    line.strip_prefix(b"data")
        .is_some_and(|rest| rest.is_empty() || rest.first() == Some(&b':'))
}

/// The event with its data replaced by `data` (one line: JSON that
/// `crate::json` wrote has no line breaks), its other fields (`event`, `id`)
/// and comments kept in order, in the line ending it used. A leading `\n`
/// (the end of the previous event's `\r\n`, which the splitter hands on
/// with this event) stays, and so does a final `\r` whose `\n` comes with
/// the next event.
pub fn with_data(raw: &[u8], data: &str) -> Vec<u8> {
    let eol: &[u8] = if raw.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = Vec::with_capacity(data.len() + 64);
    if raw.first() == Some(&b'\n') {
        out.push(b'\n');
    }
    let mut written = false;
    for line in lines(raw).filter(|l| !l.is_empty()) {
        if is_data(line) {
            if written {
                continue;
            }
            written = true;
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data.as_bytes());
        } else {
            out.extend_from_slice(line);
        }
        out.extend_from_slice(eol);
    }
    // The blank line as the event had it: one cut after its `\r` leaves
    // its `\n` to come with the next event, as in the original.
    if raw.last() == Some(&b'\r') {
        out.push(b'\r');
    } else {
        out.extend_from_slice(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn new_data_keeps_the_other_lines_and_the_line_ending() {
        assert_eq!(
            with_data(b"event: content_block_delta\ndata: {\"x\":1}\n\n", "{}"),
            b"event: content_block_delta\ndata: {}\n\n"
        );
        assert_eq!(
            with_data(b"\n: c\r\nid: 7\r\ndata: a\r\ndata\r\ndatum: b\r\n\r", "{}"),
            b"\n: c\r\nid: 7\r\ndata: {}\r\ndatum: b\r\n\r"
        );
    }
}
