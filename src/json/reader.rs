//! The module's one JSON reader: a small pull reader. The configuration
//! schema ([`crate::config`]) asks it for the value it expects next, field
//! by field, the way serde does, so an error names the first bad field in
//! document order; request bodies, answers and JWT claims are read into a
//! [`super::Value`] tree by [`Reader::value`]. Its rules, messages and
//! positions copy serde_json's (`invalid type: string "ten", expected u64
//! at line 1 column 49`), which the configuration printed before it existed;
//! it exists because serde's generic code and serde_json's `Value` were
//! about a third of the Envoy module (issue 8).
//!
//! Positions are serde_json's: the line, and the bytes consumed on it.

use super::{Map, Num, Value};
use crate::api::bytescan;
use crate::api::plain_strings::Records;
use crate::config::ConfigError;
use std::fmt::{self, Write as _};

/// Containers nested deeper than this are refused (serde_json's limit).
const MAX_DEPTH: usize = 128;

/// Where a value sits in the document: `identity.sources[1].header`.
#[derive(Clone, Copy)]
pub enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
    /// Between an object's members (serde_path_to_error's `?`).
    Unknown(&'a Path<'a>),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("."),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(Path::Root, i) => write!(f, "[{i}]"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Unknown(Path::Root) => f.write_str("."),
            Path::Unknown(parent) => write!(f, "{parent}.?"),
        }
    }
}

/// A number as written: serde_json's three kinds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    /// How serde names the value in an `invalid type` or `invalid value`
    /// message.
    pub fn unexpected(self) -> String {
        match self {
            Number::Unsigned(n) => format!("integer `{n}`"),
            Number::Signed(n) => format!("integer `{n}`"),
            Number::Float(x) => format!("floating point `{}`", float_text(x)),
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Unsigned(n) => n as f64,
            Number::Signed(n) => n as f64,
            Number::Float(x) => x,
        }
    }
}

/// A float the way serde_json prints one in a message: shortest digits,
/// always a decimal point or an exponent (`100000.0`, `1.8446744073709552e+19`).
fn float_text(x: f64) -> String {
    crate::decimal::debug_with(x, "+")
}

/// A value read without a schema (for the untagged identity sources).
#[derive(Debug, PartialEq)]
pub enum Content {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    Seq(Vec<Content>),
    Map(Vec<(String, Content)>),
}

/// The reader: the document and how far it has been read.
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// The same document when it is known to be UTF-8: strings are then
    /// copied without checking it again.
    text: Option<&'a str>,
    at: usize,
    depth: usize,
    /// Most containers open at once ([`MAX_DEPTH`] - 1 unless
    /// [`Reader::nesting_at_most`] lowers it).
    max_open: usize,
    /// Strings known to be plain, not yet reached, in document order
    /// ([`Reader::plain_strings`]).
    plain: Records<'a>,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            text: None,
            at: 0,
            depth: 0,
            max_open: MAX_DEPTH - 1,
            plain: Records::default(),
        }
    }

    /// [`Reader::value`] takes the strings whose text `plain` records
    /// (bytes with no quote, backslash or control byte, closed by a quote:
    /// [`crate::api::plain_strings`], in order) whole: their value is
    /// their bytes, which a scan would only confirm. Used only with a
    /// document known to be UTF-8 ([`Reader::of_str`]).
    pub fn plain_strings(self, plain: Records<'a>) -> Reader<'a> {
        Reader { plain, ..self }
    }

    /// Refuses a document with more than `n` containers open at once (the
    /// request-body path's limit, checked while the tree is read).
    pub fn nesting_at_most(self, n: usize) -> Reader<'a> {
        Reader {
            max_open: n.min(MAX_DEPTH - 1),
            ..self
        }
    }

    /// A document known to be UTF-8.
    pub fn of_str(text: &'a str) -> Reader<'a> {
        Reader {
            text: Some(text),
            ..Reader::new(text.as_bytes())
        }
    }

    // ---- positions and errors ------------------------------------------

    fn position_of(&self, at: usize) -> (usize, usize) {
        let before = self.bytes.get(..at).unwrap_or(self.bytes);
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        (line, at - line_start.min(at))
    }

    fn error_at(&self, path: &Path<'_>, message: &str, at: usize) -> ConfigError {
        let (line, column) = self.position_of(at);
        let mut text = String::with_capacity(message.len() + 24);
        text.push_str(message);
        let _ = write!(text, " at line {line} column {column}");
        ConfigError::new(path.to_string(), text)
    }

    /// An error about what was just consumed.
    pub fn error(&self, path: &Path<'_>, message: &str) -> ConfigError {
        self.error_at(path, message, self.at)
    }

    /// An error about the next byte (not consumed).
    pub fn peek_error(&self, path: &Path<'_>, message: &str) -> ConfigError {
        self.error_at(path, message, (self.at + 1).min(self.bytes.len()))
    }

    /// A schema error (unknown field, missing field…) raised after a value:
    /// serde_json places it after the whitespace that follows.
    pub fn schema_error(&mut self, path: &Path<'_>, message: &str) -> ConfigError {
        self.skip_whitespace();
        self.error(path, message)
    }

    pub fn invalid_type(&self, path: &Path<'_>, unexpected: &str, expected: &str) -> ConfigError {
        self.error(path, &format!("invalid type: {unexpected}, expected {expected}"))
    }

    pub fn invalid_value(&self, path: &Path<'_>, unexpected: &str, expected: &str) -> ConfigError {
        self.error(path, &format!("invalid value: {unexpected}, expected {expected}"))
    }

    // ---- bytes -----------------------------------------------------------

    fn peek_byte(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek_byte()?;
        self.at += 1;
        Some(b)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek_byte(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.peek_byte()
    }

    /// The next byte that starts a value, or `EOF while parsing a value`.
    pub fn peek_value(&mut self, path: &Path<'_>) -> Result<u8, ConfigError> {
        self.peek()
            .ok_or_else(|| self.peek_error(path, "EOF while parsing a value"))
    }

    /// After the document: only whitespace may follow.
    pub fn end(&mut self) -> Result<(), ConfigError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.peek_error(&Path::Root, "trailing characters")),
        }
    }

    // ---- scalars ---------------------------------------------------------

    /// The rest of a literal (`ull` after `n`).
    fn ident(&mut self, path: &Path<'_>, rest: &[u8]) -> Result<(), ConfigError> {
        for &want in rest {
            match self.next_byte() {
                None => return Err(self.error(path, "EOF while parsing a value")),
                Some(b) if b == want => {}
                Some(_) => return Err(self.error(path, "expected ident")),
            }
        }
        Ok(())
    }

    pub fn null(&mut self, path: &Path<'_>) -> Result<(), ConfigError> {
        self.at += 1;
        self.ident(path, b"ull")
    }

    pub fn boolean(&mut self, path: &Path<'_>) -> Result<bool, ConfigError> {
        match self.peek_value(path)? {
            b't' => {
                self.at += 1;
                self.ident(path, b"rue").map(|()| true)
            }
            b'f' => {
                self.at += 1;
                self.ident(path, b"alse").map(|()| false)
            }
            _ => Err(self.peek_invalid_type(path, "a boolean")),
        }
    }

    /// A string value; anything else is an `invalid type`.
    pub fn string(&mut self, path: &Path<'_>) -> Result<String, ConfigError> {
        match self.peek_value(path)? {
            b'"' => self.string_literal(path),
            _ => Err(self.peek_invalid_type(path, "a string")),
        }
    }

    /// A number value; anything else is an `invalid type` naming `expected`.
    pub fn number(&mut self, path: &Path<'_>, expected: &str) -> Result<Number, ConfigError> {
        match self.peek_value(path)? {
            b'-' | b'0'..=b'9' => self.number_literal(path),
            _ => Err(self.peek_invalid_type(path, expected)),
        }
    }

    /// The string starting at the next byte (a `"`).
    pub fn string_literal(&mut self, path: &Path<'_>) -> Result<String, ConfigError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            // The plain run up to the next quote, backslash or control
            // byte, found eight bytes at a time and copied at once.
            let run = self.at;
            let rest = self.bytes.get(run..).unwrap_or_default();
            self.at = run + bytescan::find_string_special(rest).unwrap_or(rest.len());
            let Some(b) = self.next_byte() else {
                return Err(self.error(path, "EOF while parsing a string"));
            };
            if b >= 0x20 {
                // Raw text between escapes must be UTF-8 (known for a
                // document read from a `str`); the error points just past
                // the first bad byte, as serde_json's does.
                let raw = self.bytes.get(run..self.at - 1).unwrap_or_default();
                match self.text.and_then(|t| t.get(run..self.at - 1)) {
                    Some(text) => out.push_str(text),
                    None => match std::str::from_utf8(raw) {
                        Ok(text) => out.push_str(text),
                        Err(e) => {
                            return Err(self.error_at(path, "invalid unicode code point", run + e.valid_up_to() + 1))
                        }
                    },
                }
            }
            match b {
                b'"' => break,
                b'\\' => self.escape(path, &mut out)?,
                _ => return Err(self.error(path, "control character (\\u0000-\\u001F) found while parsing a string")),
            }
        }
        Ok(out)
    }

    fn escape(&mut self, path: &Path<'_>, out: &mut String) -> Result<(), ConfigError> {
        let Some(b) = self.next_byte() else {
            return Err(self.error(path, "EOF while parsing a string"));
        };
        let simple = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(path, out),
            _ => return Err(self.error(path, "invalid escape")),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self, path: &Path<'_>) -> Result<u32, ConfigError> {
        if self.bytes.len().saturating_sub(self.at) < 4 {
            self.at = self.bytes.len();
            return Err(self.error(path, "EOF while parsing a string"));
        }
        let digits = self.bytes.get(self.at..self.at + 4).unwrap_or_default();
        self.at += 4;
        digits.iter().try_fold(0u32, |n, &b| {
            char::from(b)
                .to_digit(16)
                .map(|d| n * 16 + d)
                .ok_or_else(|| self.error(path, "invalid escape"))
        })
    }

    fn unicode_escape(&mut self, path: &Path<'_>, out: &mut String) -> Result<(), ConfigError> {
        let n = self.hex4(path)?;
        if (0xDC00..=0xDFFF).contains(&n) {
            return Err(self.error(path, "lone leading surrogate in hex escape"));
        }
        let code = if (0xD800..=0xDBFF).contains(&n) {
            for want in [b'\\', b'u'] {
                match self.peek_byte() {
                    None => return Err(self.error(path, "EOF while parsing a string")),
                    Some(b) => {
                        self.at += 1;
                        if b != want {
                            return Err(self.error(path, "unexpected end of hex escape"));
                        }
                    }
                }
            }
            let low = self.hex4(path)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(self.error(path, "lone leading surrogate in hex escape"));
            }
            (((n - 0xD800) << 10) | (low - 0xDC00)) + 0x1_0000
        } else {
            n
        };
        let c = char::from_u32(code).ok_or_else(|| self.error(path, "invalid unicode code point"))?;
        out.push(c);
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek_byte(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    /// The number starting at the next byte (`-` or a digit).
    pub fn number_literal(&mut self, path: &Path<'_>) -> Result<Number, ConfigError> {
        let start = self.at;
        if let Some(integer) = self.integer_or_float(path)? {
            return Ok(integer);
        }
        let text = std::str::from_utf8(self.bytes.get(start..self.at).unwrap_or_default()).unwrap_or_default();
        match crate::float_parse::parse(text) {
            Some(x) if x.is_finite() => Ok(Number::Float(x)),
            _ => Err(self.error(path, "number out of range")),
        }
    }

    /// A float's text, lexed and checked for range but not read into an
    /// `f64` (the request-body path: a body's floats are read only when
    /// detection asks for one, so thousands of long or far-exponent
    /// numbers cost their lexing, not an exact conversion each).
    fn number_unread(&mut self, path: &Path<'_>) -> Result<Option<Number>, ConfigError> {
        let start = self.at;
        let integer = self.integer_or_float(path)?;
        let text = self.bytes.get(start..self.at).unwrap_or_default();
        if integer.is_none() && !crate::float_parse::fits_f64(text) {
            return Err(self.error(path, "number out of range"));
        }
        Ok(integer)
    }

    /// Lexes the number at the next byte: an integer's value, or `None`
    /// for a float (its text is what was consumed).
    fn integer_or_float(&mut self, path: &Path<'_>) -> Result<Option<Number>, ConfigError> {
        let start = self.at;
        let negative = self.peek_byte() == Some(b'-');
        if negative {
            self.at += 1;
        }
        match self.next_byte() {
            None => return Err(self.error(path, "EOF while parsing a value")),
            Some(b'0') => {
                if matches!(self.peek_byte(), Some(b'0'..=b'9')) {
                    return Err(self.peek_error(path, "invalid number"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return Err(self.error(path, "invalid number")),
        }
        let int_end = self.at;
        let mut float = false;
        if self.peek_byte() == Some(b'.') {
            float = true;
            self.at += 1;
            let digits_start = self.at;
            self.digits();
            if self.at == digits_start {
                return Err(match self.peek_byte() {
                    Some(_) => self.peek_error(path, "invalid number"),
                    None => self.error(path, "EOF while parsing a value"),
                });
            }
        }
        if matches!(self.peek_byte(), Some(b'e' | b'E')) {
            float = true;
            self.at += 1;
            if matches!(self.peek_byte(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            match self.next_byte() {
                Some(b'0'..=b'9') => self.digits(),
                Some(_) => return Err(self.error(path, "invalid number")),
                None => return Err(self.error(path, "EOF while parsing a value")),
            }
        }
        if !float {
            let digits = std::str::from_utf8(
                self.bytes
                    .get(start + usize::from(negative)..int_end)
                    .unwrap_or_default(),
            )
            .unwrap_or_default();
            if let Ok(n) = digits.parse::<u64>() {
                if !negative {
                    return Ok(Some(Number::Unsigned(n)));
                }
                if let Ok(n) = i64::try_from(n).map(|n| -n) {
                    return Ok(Some(Number::Signed(n)));
                }
                if n == 1 << 63 {
                    return Ok(Some(Number::Signed(i64::MIN)));
                }
            }
        }
        // A float, or an integer too large for 64 bits (serde_json reads
        // those as floats too).
        Ok(None)
    }

    /// serde_json's `invalid type` for the value at the next byte: the
    /// value is read to name it (`string "ten"`, `integer `5``).
    pub fn peek_invalid_type(&mut self, path: &Path<'_>, expected: &str) -> ConfigError {
        // The value named as a static head and a written tail, one message
        // for all (a `String` per kind was larger; issue 8: module size).
        let mut tail = String::new();
        let found = match self.peek_byte().unwrap_or(0) {
            b'n' => self.null(path).map(|()| "null"),
            b't' | b'f' => self
                .boolean(path)
                .map(|b| if b { "boolean `true`" } else { "boolean `false`" }),
            b'-' | b'0'..=b'9' => match self.number_literal(path) {
                Ok(n) => {
                    tail = n.unexpected();
                    Ok("")
                }
                Err(e) => Err(e),
            },
            b'"' => match self.string_literal(path) {
                Ok(s) => {
                    tail = super::quoted::quoted(&s);
                    Ok("string ")
                }
                Err(e) => Err(e),
            },
            b'[' => Ok("sequence"),
            b'{' => Ok("map"),
            _ => return self.peek_error(path, "expected value"),
        };
        match found {
            Ok(head) => self.error(path, &format!("invalid type: {head}{tail}, expected {expected}")),
            Err(e) => e,
        }
    }

    // ---- containers --------------------------------------------------------

    fn enter(&mut self, path: &Path<'_>) -> Result<(), ConfigError> {
        self.depth += 1;
        if self.depth > self.max_open {
            return Err(self.peek_error(path, "recursion limit exceeded"));
        }
        self.at += 1;
        Ok(())
    }

    /// The `:` after an object's key.
    pub fn colon(&mut self, path: &Path<'_>) -> Result<(), ConfigError> {
        match self.peek() {
            Some(b':') => {
                self.at += 1;
                Ok(())
            }
            Some(_) => Err(self.peek_error(path, "expected `:`")),
            None => Err(self.peek_error(path, "EOF while parsing an object")),
        }
    }

    /// After a value in an array that turned out wrong: serde_json places
    /// the error after the `]` or `,` that follows.
    pub fn seq_error(&mut self, path: &Path<'_>, message: &str) -> ConfigError {
        match self.peek() {
            Some(b']') => self.at += 1,
            Some(b',') => {
                self.at += 1;
                self.skip_whitespace();
            }
            _ => {}
        }
        self.error(path, message)
    }

    /// Reads an object, calling `field` with each key; `field` reads the
    /// `:` ([`Reader::colon`]) and the value. The next byte must be `{`; `expected` names the type in an
    /// `invalid type` error otherwise.
    pub fn object(
        &mut self,
        path: &Path<'_>,
        expected: &str,
        field: &mut dyn FnMut(&mut Self, &str) -> Result<(), ConfigError>,
    ) -> Result<(), ConfigError> {
        if self.peek_value(path)? != b'{' {
            return Err(self.peek_invalid_type(path, expected));
        }
        self.enter(path)?;
        let mut first = true;
        let between = Path::Unknown(path);
        loop {
            let Some(b) = self.peek() else {
                return Err(self.peek_error(&between, "EOF while parsing an object"));
            };
            match b {
                b'}' => break,
                b'"' if first => {}
                _ if first => return Err(self.peek_error(&between, "key must be a string")),
                b',' => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"') => {}
                        Some(b'}') => return Err(self.peek_error(&between, "trailing comma")),
                        Some(_) => return Err(self.peek_error(&between, "key must be a string")),
                        None => return Err(self.peek_error(&between, "EOF while parsing a value")),
                    }
                }
                _ => return Err(self.peek_error(&between, "expected `,` or `}`")),
            }
            first = false;
            let key = self.string_literal(path)?;
            field(self, &key)?;
        }
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// Reads an array, calling `element` for each element (it reads it).
    pub fn array(
        &mut self,
        path: &Path<'_>,
        element: &mut dyn FnMut(&mut Self, &Path<'_>) -> Result<(), ConfigError>,
    ) -> Result<(), ConfigError> {
        if self.peek_value(path)? != b'[' {
            return Err(self.peek_invalid_type(path, "a sequence"));
        }
        self.enter(path)?;
        let mut index = 0;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.peek_error(path, "EOF while parsing a list"));
            };
            match b {
                b']' => break,
                _ if index == 0 => {}
                b',' => {
                    self.at += 1;
                    match self.peek() {
                        Some(b']') => return Err(self.peek_error(path, "trailing comma")),
                        Some(_) => {}
                        None => return Err(self.peek_error(path, "EOF while parsing a value")),
                    }
                }
                _ => return Err(self.peek_error(path, "expected `,` or `]`")),
            }
            element(self, &Path::Index(path, index))?;
            index += 1;
        }
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// Any value, kept as it was written.
    pub fn content(&mut self, path: &Path<'_>) -> Result<Content, ConfigError> {
        Ok(match self.peek_value(path)? {
            b'n' => self.null(path).map(|()| Content::Null)?,
            b't' | b'f' => Content::Bool(self.boolean(path)?),
            b'-' | b'0'..=b'9' => Content::Number(self.number_literal(path)?),
            b'"' => Content::Str(self.string_literal(path)?),
            b'[' => {
                let mut items = Vec::new();
                self.array(path, &mut |r, p| r.content(p).map(|c| items.push(c)))?;
                Content::Seq(items)
            }
            b'{' => {
                let mut members = Vec::new();
                self.object(path, "map", &mut |r, key| {
                    r.colon(path)?;
                    let value = r.content(&Path::Field(path, key))?;
                    members.push((key.to_owned(), value));
                    Ok(())
                })?;
                Content::Map(members)
            }
            _ => return Err(self.peek_error(path, "expected value")),
        })
    }

    /// Any value, as a [`Value`] tree (objects' keys sorted, the last of a
    /// repeated key kept, as serde_json's `Value` has them). The grammar is
    /// [`Reader::object`]'s and [`Reader::array`]'s, walked without their
    /// per-member callbacks (the request-body path, issue 8); a refusal
    /// carries no message, only [`Value::parse`]'s `None`.
    pub fn value(&mut self) -> Option<Value> {
        let path = &Path::Root;
        Some(match self.peek()? {
            b'n' => self.null(path).map(|()| Value::Null).ok()?,
            b't' | b'f' => Value::Bool(self.boolean(path).ok()?),
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                let integer = self.number_unread(path).ok()?;
                Value::Number(Num::read(integer, self.bytes.get(start..self.at)?))
            }
            b'"' => Value::String(self.string_value()?),
            b'[' => {
                self.enter(path).ok()?;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        if self.list_end(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Value::Array(items)
            }
            b'{' => {
                self.enter(path).ok()?;
                // Most objects of a request or an answer have a few keys:
                // one allocation instead of growing from empty.
                let mut members = Vec::with_capacity(4);
                if self.peek()? == b'}' {
                    self.at += 1;
                } else {
                    loop {
                        if self.peek()? != b'"' {
                            return None;
                        }
                        let key = self.string_value()?;
                        self.colon(path).ok()?;
                        members.push((key, self.value()?));
                        if self.list_end(b'}')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Value::Object(Map::from_members(members))
            }
            _ => return None,
        })
    }

    /// The string at the next byte (a `"`), for [`Reader::value`]: taken
    /// whole when it is the next recorded plain string, scanned otherwise.
    fn string_value(&mut self) -> Option<String> {
        match self.plain_string() {
            Some(s) => Some(s),
            None => self.string_literal(&Path::Root).ok(),
        }
    }

    /// The string at the next byte when [`Reader::plain_strings`] records
    /// it: its text copied at once, the reader past its closing quote.
    fn plain_string(&mut self) -> Option<String> {
        let start = self.at + 1;
        let end = self.plain.take_at(start)?.end as usize;
        let text = self.text?;
        // The record says the bytes up to `end` hold no quote, backslash
        // or control byte; the quote that ends the string must be there.
        if text.as_bytes().get(end) != Some(&b'"') {
            return None;
        }
        let s = text.get(start..end)?.to_owned();
        self.at = end + 1;
        Some(s)
    }

    /// After a member or element: `,` (more follow: false) or `close`
    /// (true); anything else refuses the document.
    fn list_end(&mut self, close: u8) -> Option<bool> {
        let b = self.peek()?;
        self.at += 1;
        match b {
            b',' => Some(false),
            _ if b == close => Some(true),
            _ => None,
        }
    }
}
