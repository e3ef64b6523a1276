//! The sync message, both ways: versioned, bounded, authenticated.
//!
//! ```text
//! request  = "DGFQ" version(1) host(u64) cursor(u64) count(u32) record* tag(16)
//! response = "DGFA" version(1) echo(u64) cursor(u64) count(u32) record* tag(16)
//! record   = table(u8) slot(u32) words(table width × u64)
//! ```
//!
//! All integers little-endian. `host` names the sending Envoy; `cursor` is
//! the service's clock at the host's last answer (what changed since then
//! is sent back); `echo` is the first tag word of the request being
//! answered, so an old answer cannot be replayed as a fresh one. The tag is
//! two SipHash-2-4 outputs (128 bits) of everything before it, under two
//! keys derived from the shared secret: a keyed MAC, compared in constant
//! time. A message with the wrong magic, version, length, table, record
//! width or tag, or more than `max_records` records, is refused whole.

use super::tables::Table;
use crate::hash::{siphash24, SipKey};

pub const VERSION: u8 = 1;
const REQUEST_MAGIC: &[u8; 4] = b"DGFQ";
const RESPONSE_MAGIC: &[u8; 4] = b"DGFA";
const TAG: usize = 16;

/// The two MAC keys, from the shared secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacKey {
    a: SipKey,
    b: SipKey,
}

impl MacKey {
    pub fn from_secret(secret: &[u8]) -> MacKey {
        let mut b = secret.to_vec();
        b.extend_from_slice(b"/fleet-mac-b");
        let mut a = secret.to_vec();
        a.extend_from_slice(b"/fleet-mac-a");
        MacKey {
            a: SipKey::derive(&a),
            b: SipKey::derive(&b),
        }
    }

    fn tag(&self, data: &[u8]) -> [u8; TAG] {
        let mut out = [0u8; TAG];
        let (x, y) = out.split_at_mut(8);
        x.copy_from_slice(&siphash24(self.a, data).to_le_bytes());
        y.copy_from_slice(&siphash24(self.b, data).to_le_bytes());
        out
    }
}

/// One slot's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub table: Table,
    pub slot: u32,
    pub words: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub host: u64,
    pub cursor: u64,
    pub records: Vec<Record>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub echo: u64,
    pub cursor: u64,
    pub records: Vec<Record>,
}

/// Why a message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    Truncated,
    Magic,
    Version(u8),
    Tag,
    TooMany(usize),
    Table(u8),
    Width,
    TrailingBytes,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => f.write_str("message truncated"),
            WireError::Magic => f.write_str("not a sync message"),
            WireError::Version(v) => write!(f, "unsupported version {v}"),
            WireError::Tag => f.write_str("authentication failed"),
            WireError::TooMany(n) => write!(f, "{n} records is over the limit"),
            WireError::Table(t) => write!(f, "unknown table {t}"),
            WireError::Width => f.write_str("record of the wrong width"),
            WireError::TrailingBytes => f.write_str("bytes after the last record"),
        }
    }
}

/// Bytes of a message with these records (for bounding before encoding).
pub fn record_bytes(table: Table) -> usize {
    1 + 4 + 8 * table.words()
}

fn put_records(out: &mut Vec<u8>, records: &[Record]) {
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for r in records {
        out.push(r.table.id());
        out.extend_from_slice(&r.slot.to_le_bytes());
        for w in &r.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
}

fn seal(key: &MacKey, mut out: Vec<u8>) -> Vec<u8> {
    let tag = key.tag(&out);
    out.extend_from_slice(&tag);
    out
}

pub fn encode_request(key: &MacKey, r: &Request) -> Vec<u8> {
    let mut out = Vec::with_capacity(25 + r.records.iter().map(|x| record_bytes(x.table)).sum::<usize>() + TAG);
    out.extend_from_slice(REQUEST_MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&r.host.to_le_bytes());
    out.extend_from_slice(&r.cursor.to_le_bytes());
    put_records(&mut out, &r.records);
    seal(key, out)
}

pub fn encode_response(key: &MacKey, r: &Response) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(RESPONSE_MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&r.echo.to_le_bytes());
    out.extend_from_slice(&r.cursor.to_le_bytes());
    put_records(&mut out, &r.records);
    seal(key, out)
}

/// The request's echo value: what its answer must carry.
pub fn echo_of(encoded_request: &[u8]) -> u64 {
    let at = encoded_request.len().saturating_sub(TAG);
    let mut b = [0u8; 8];
    if let Some(t) = encoded_request.get(at..at + 8) {
        b.copy_from_slice(t);
    }
    u64::from_le_bytes(b)
}

struct Reader<'a> {
    b: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        if self.b.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        self.take(1)?.first().copied().ok_or(WireError::Truncated)
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn records(&mut self, max: usize) -> Result<Vec<Record>, WireError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(WireError::TooMany(n));
        }
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let id = self.u8()?;
            let table = Table::from_id(id).ok_or(WireError::Table(id))?;
            let slot = self.u32()?;
            let words = (0..table.words()).map(|_| self.u64()).collect::<Result<Vec<_>, _>>()?;
            out.push(Record { table, slot, words });
        }
        if !self.b.is_empty() {
            return Err(WireError::TrailingBytes);
        }
        Ok(out)
    }
}

/// Checks magic, version and tag; returns the body between them.
fn open<'a>(key: &MacKey, magic: &[u8; 4], msg: &'a [u8]) -> Result<&'a [u8], WireError> {
    if msg.len() < 5 + TAG {
        return Err(WireError::Truncated);
    }
    let (signed, tag) = msg.split_at(msg.len() - TAG);
    if signed.get(..4) != Some(&magic[..]) {
        return Err(WireError::Magic);
    }
    let version = signed.get(4).copied().unwrap_or(0);
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let want = key.tag(signed);
    let diff = want.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(WireError::Tag);
    }
    signed.get(5..).ok_or(WireError::Truncated)
}

pub fn decode_request(key: &MacKey, msg: &[u8], max_records: usize) -> Result<Request, WireError> {
    let mut r = Reader {
        b: open(key, REQUEST_MAGIC, msg)?,
    };
    let host = r.u64()?;
    let cursor = r.u64()?;
    let records = r.records(max_records)?;
    Ok(Request { host, cursor, records })
}

pub fn decode_response(key: &MacKey, msg: &[u8], max_records: usize) -> Result<Response, WireError> {
    let mut r = Reader {
        b: open(key, RESPONSE_MAGIC, msg)?,
    };
    let echo = r.u64()?;
    let cursor = r.u64()?;
    let records = r.records(max_records)?;
    Ok(Response { echo, cursor, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn sample() -> Request {
        Request {
            host: 42,
            cursor: 1_000,
            records: vec![
                Record {
                    table: Table::Identity,
                    slot: 7,
                    words: (0..Table::Identity.words() as u64).collect(),
                },
                Record {
                    table: Table::Template,
                    slot: 8191,
                    words: vec![9; Table::Template.words()],
                },
            ],
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn round_trips_both_ways() {
        let k = MacKey::from_secret(b"0123456789abcdef");
        let req = sample();
        let bytes = encode_request(&k, &req);
        assert_eq!(decode_request(&k, &bytes, 10).unwrap(), req);
        let resp = Response {
            echo: echo_of(&bytes),
            cursor: 5,
            records: req.records.clone(),
        };
        let rb = encode_response(&k, &resp);
        assert_eq!(decode_response(&k, &rb, 10).unwrap(), resp);
        // A response is not a request, nor the other way round.
        assert_eq!(decode_request(&k, &rb, 10), Err(WireError::Magic));
        assert_eq!(decode_response(&k, &bytes, 10), Err(WireError::Magic));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn refuses_forged_truncated_oversized_and_garbage() {
        let k = MacKey::from_secret(b"0123456789abcdef");
        let bytes = encode_request(&k, &sample());
        let other = MacKey::from_secret(b"another secret!!");
        assert_eq!(decode_request(&other, &bytes, 10), Err(WireError::Tag));
        let mut flipped = bytes.clone();
        if let Some(b) = flipped.get_mut(20) {
            *b ^= 1;
        }
        assert_eq!(decode_request(&k, &flipped, 10), Err(WireError::Tag));
        assert_eq!(decode_request(&k, &bytes, 1), Err(WireError::TooMany(2)));
        assert!(decode_request(&k, &bytes[..bytes.len() - 1], 10).is_err());
        assert_eq!(decode_request(&k, b"", 10), Err(WireError::Truncated));
        assert!(decode_response(&k, b"upstream connect error or disconnect/reset before headers", 10).is_err());
        // A well-signed message with a bad table or width is still refused.
        let mut bad = sample();
        if let Some(r) = bad.records.get_mut(0) {
            r.words.pop();
        }
        assert!(decode_request(&k, &encode_request(&k, &bad), 10).is_err());
        let mut v2 = bytes.clone();
        if let Some(b) = v2.get_mut(4) {
            *b = 2;
        }
        assert_eq!(decode_request(&k, &v2, 10), Err(WireError::Version(2)));
    }
}
