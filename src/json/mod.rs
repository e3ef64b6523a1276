//! JSON for the engine and the module: one reader ([`reader::Reader`]), a
//! document tree ([`Value`]) and its compact writer ([`Value::to_json`]).
//!
//! The tree replaces serde_json's `Value` in everything the Envoy module
//! runs (request bodies, answers' usage and reasoning, JWT claims, error
//! bodies), so the module carries neither serde_json nor float printing
//! (issue 8). It behaves as serde_json's `Value` did where decisions and
//! answers depend on it: the same documents are refused (the reader's rules
//! are serde_json's), objects keep the last of a repeated key and iterate in
//! key order, numbers are serde_json's three kinds (`-0` a float), and the
//! writer writes what serde_json's compact writer wrote, byte for byte,
//! except that a float is written as it was read (`1e3` stays `1e3`, where
//! serde_json wrote `1000.0`): floats are never printed.

mod quoted;
pub mod reader;
mod write;

/// A string as the writer writes it (error bodies are written without a tree).
pub use write::write_string;

#[cfg(test)]
pub(crate) mod tests;

use crate::api::plain_strings::Records;
use reader::Number;

/// A JSON value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Num),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A number: serde_json's three kinds. A float keeps the text it was
/// written as, which is what the writer writes; its value is read from the
/// text when asked for (`as_f64`), so a request body's floats that
/// detection never reads are never converted.
#[derive(Clone, Debug)]
pub enum Num {
    Unsigned(u64),
    /// Negative (never zero).
    Signed(i64),
    /// The text of a float in `f64`'s range (the reader refuses others).
    Float(Box<str>),
}

impl PartialEq for Num {
    /// By value and kind, as serde_json compares numbers (`1` is not `1.0`).
    fn eq(&self, other: &Num) -> bool {
        match (self, other) {
            (Num::Unsigned(a), Num::Unsigned(b)) => a == b,
            (Num::Signed(a), Num::Signed(b)) => a == b,
            (Num::Float(_), Num::Float(_)) => self.as_f64() == other.as_f64(),
            _ => false,
        }
    }
}

impl Num {
    /// A number the reader read from `text`: an integer's value, or `None`
    /// for a float. `-0` is the float `-0.0`, as serde_json reads it.
    pub(crate) fn read(integer: Option<Number>, text: &[u8]) -> Num {
        let text = || Box::from(std::str::from_utf8(text).unwrap_or("0"));
        match integer {
            Some(Number::Unsigned(n)) => Num::Unsigned(n),
            Some(Number::Signed(0)) => Num::Float(text()),
            Some(Number::Signed(n)) => Num::Signed(n),
            Some(Number::Float(_)) | None => Num::Float(text()),
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Num::Unsigned(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Num::Unsigned(n) => i64::try_from(n).ok(),
            Num::Signed(n) => Some(n),
            Num::Float(..) => None,
        }
    }

    pub fn as_f64(&self) -> f64 {
        match self {
            Num::Unsigned(n) => *n as f64,
            Num::Signed(n) => *n as f64,
            Num::Float(text) => crate::float_parse::parse(text).unwrap_or(0.0),
        }
    }
}

/// An object: its members sorted by key, each key once (the order and
/// the duplicate rule of serde_json's map).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    members: Vec<(String, Value)>,
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// Members in document order; of a repeated key the last is kept.
    pub(crate) fn from_members(mut members: Vec<(String, Value)>) -> Map {
        // Stable: a repeated key's members stay in document order, and the
        // dedup moves the last one's value into the slot kept. Not std's
        // sort: its instantiation was ~4.5 KB of the module (issue 8).
        crate::small_sort::merge_sort_by(&mut members, |a, b| a.0 < b.0);
        members.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                std::mem::swap(&mut later.1, &mut kept.1);
                true
            } else {
                false
            }
        });
        Map { members }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.members.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key).ok()?;
        self.members.get(i).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key).ok()?;
        self.members.get_mut(i).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`; the value it had, if any.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => self.members.get_mut(i).map(|(_, v)| std::mem::replace(v, value)),
            Err(i) => {
                self.members.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        Some(self.members.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.members.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.members.iter().map(|(_, v)| v)
    }
}

impl Value {
    /// A whole document (surrounding whitespace allowed), or `None` where
    /// serde_json would refuse it.
    pub fn parse(bytes: &[u8]) -> Option<Value> {
        Value::read(reader::Reader::new(bytes))
    }

    /// [`Value::parse`] of text known to be UTF-8 (not checked again).
    pub fn parse_str(text: &str) -> Option<Value> {
        Value::read(reader::Reader::of_str(text))
    }

    /// [`Value::parse_str`], refusing a document with more than `n`
    /// containers open at once, and taking the strings whose text `plain`
    /// records (long, no backslash or control byte:
    /// [`crate::api::plain_strings`]) whole instead of scanning them: the
    /// same tree.
    pub fn parse_str_plain(text: &str, n: usize, plain: Records<'_>) -> Option<Value> {
        Value::read(reader::Reader::of_str(text).nesting_at_most(n).plain_strings(plain))
    }

    fn read(mut reader: reader::Reader<'_>) -> Option<Value> {
        let value = reader.value()?;
        reader.end().ok()?;
        Some(value)
    }

    /// An object's member (`None` for anything else).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_object_mut()?.get_mut(key)
    }

    /// Sets an object's member; anything but an object is left as it is.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(map) = self {
            map.insert(key.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(Num::Unsigned(n))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json())
    }
}

static NULL: Value = Value::Null;

impl std::ops::Index<&str> for Value {
    type Output = Value;
    /// An object's member, or `null` (serde_json's rule; never panics).
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;
    /// An array's element, or `null`.
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

/// Tests build documents with serde_json's `json!` (the oracle the tree is
/// checked against): `crate::json::json!` is that macro, converted.
#[cfg(test)]
macro_rules! json {
    ($($t:tt)+) => {
        $crate::json::Value::from(serde_json::json!($($t)+))
    };
}
#[cfg(test)]
pub(crate) use json;

/// serde_json's assignment through an index, for tests.
#[cfg(test)]
impl std::ops::IndexMut<&str> for Value {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        let Value::Object(map) = self else {
            panic!("not an object: {self}")
        };
        if !map.contains_key(key) {
            map.insert(key.to_string(), Value::Null);
        }
        map.get_mut(key).unwrap()
    }
}

#[cfg(test)]
impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

#[cfg(test)]
impl PartialEq<i32> for Value {
    fn eq(&self, other: &i32) -> bool {
        matches!(self, Value::Number(n) if n.as_i64() == Some(i64::from(*other)))
    }
}

#[cfg(test)]
impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

#[cfg(test)]
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Num::Unsigned(u),
                (None, Some(i), _) => Num::Signed(i),
                (_, _, _) => Num::Float(n.to_string().into()),
            }),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(m) => Value::Object(Map::from_members(
                m.into_iter().map(|(k, v)| (k, Value::from(v))).collect(),
            )),
        }
    }
}

/// So that `json!` takes a tree inside a document it builds.
#[cfg(test)]
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v: serde_json::Value = serde_json::from_str(&self.to_json()).map_err(serde::ser::Error::custom)?;
        v.serialize(s)
    }
}
