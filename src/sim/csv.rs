//! Just enough RFC 4180 CSV to read `awesome_chatgpt_prompts.csv`: quoted
//! fields with doubled quotes and embedded newlines. A dependency for one
//! file of one column was not worth it.

/// Splits CSV text into records of fields.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_commas_and_newlines() {
        let rows = parse("act,prompt\nA,\"say \"\"hi\"\", then\nwait\"\r\nB,plain\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], vec!["A".to_owned(), "say \"hi\", then\nwait".to_owned()]);
        assert_eq!(rows[2], vec!["B".to_owned(), "plain".to_owned()]);
    }

    #[test]
    fn last_line_without_newline() {
        assert_eq!(parse("a,b"), vec![vec!["a".to_owned(), "b".to_owned()]]);
    }
}
