//! One server-sent event, as the bytes the upstream sent (its lines and
//! the blank line that ends it): its data, and a copy with other data.
//!
//! Lines end in `\n`, `\r\n` or `\r` (the SSE grammar allows all three);
//! a line starting with `:` is a comment; `data` lines join with `\n`; a
//! field's value loses one leading space.

/// Splits bytes into lines without their terminators.
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

/// `(field, value)` of a line, `None` for a comment or a blank line.
fn field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.is_empty() || line.first() == Some(&b':') {
        return None;
    }
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let (name, value) = line.split_at(colon);
            let value = value.get(1..).unwrap_or(&[]);
            Some((name, value.strip_prefix(b" ").unwrap_or(value)))
        }
        None => Some((line, &[])),
    }
}

/// The event's data (its `data` lines joined with `\n`), `None` if it has
/// none (a comment, a `retry`) or the data is not UTF-8.
pub fn data(raw: &[u8]) -> Option<String> {
    let mut out: Option<Vec<u8>> = None;
    for (name, value) in lines(raw).filter_map(field) {
        if name == b"data" {
            let buf = out.get_or_insert_with(Vec::new);
            if !buf.is_empty() {
                buf.push(b'\n');
            }
            buf.extend_from_slice(value);
        }
    }
    String::from_utf8(out?).ok()
}

/// The event with its data replaced by `data` (one line: JSON that
/// serde_json wrote has no line breaks), its other fields (`event`, `id`)
/// and comments kept in order, in the line ending it used.
pub fn with_data(raw: &[u8], data: &str) -> Vec<u8> {
    let eol: &[u8] = if raw.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut written = false;
    for line in lines(raw).filter(|l| !l.is_empty()) {
        if field(line).is_some_and(|(name, _)| name == b"data") {
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
    out.extend_from_slice(eol);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn data_lines_join_and_lose_one_space() {
        assert_eq!(
            data(b"event: x\ndata: {\"a\":\ndata:1}\n\n").as_deref(),
            Some("{\"a\":\n1}")
        );
        assert_eq!(data(b"data:  two spaces\r\n\r\n").as_deref(), Some(" two spaces"));
        assert_eq!(data(b"data\n\n").as_deref(), Some(""));
        assert_eq!(data(b": keep-alive\n\n"), None);
        assert_eq!(data(b"retry: 10\n\n"), None);
        assert_eq!(data(b"\ndata: [DONE]\r\r").as_deref(), Some("[DONE]"));
        assert_eq!(data(b"data: \xff\n\n"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn new_data_keeps_the_other_lines_and_the_line_ending() {
        assert_eq!(
            with_data(b"event: content_block_delta\ndata: {\"x\":1}\n\n", "{}"),
            b"event: content_block_delta\ndata: {}\n\n"
        );
        assert_eq!(
            with_data(b": c\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\n", "{}"),
            b": c\r\nid: 7\r\ndata: {}\r\n\r\n"
        );
    }
}
