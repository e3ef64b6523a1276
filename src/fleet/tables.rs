//! The slot tables fleet sync carries: detection's three tables, each with
//! a one-byte id on the wire and its record width.

use crate::detect::cadence;
use crate::detect::correlate;
use crate::detect::slots::{IDENTITY_TABLE, NETWORK_TABLE, TEMPLATE_TABLE};

/// A synced table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Template clusters (`correlate` records).
    Template,
    /// Address blocks (`correlate` records).
    Network,
    /// Identities (`cadence` records).
    Identity,
}

pub const ALL: [Table; 3] = [Table::Template, Table::Network, Table::Identity];

impl Table {
    /// The id on the wire and in Redis keys.
    pub fn id(self) -> u8 {
        match self {
            Table::Template => 1,
            Table::Network => 2,
            Table::Identity => 3,
        }
    }

    pub fn from_id(id: u8) -> Option<Table> {
        ALL.into_iter().find(|t| t.id() == id)
    }

    /// The table's name in shared-data keys.
    pub fn name(self) -> &'static str {
        match self {
            Table::Template => TEMPLATE_TABLE,
            Table::Network => NETWORK_TABLE,
            Table::Identity => IDENTITY_TABLE,
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        ALL.into_iter().find(|t| t.name() == name)
    }

    /// Words in one record.
    pub fn words(self) -> usize {
        match self {
            Table::Template | Table::Network => correlate::WORDS,
            Table::Identity => cadence::WORDS,
        }
    }
}

/// The table and slot of a detection key `<ns>:v1:<table>:<slot>` under
/// `namespace`; `None` for any other key.
pub fn parse_key(namespace: &str, key: &str) -> Option<(Table, u64)> {
    let rest = key.strip_prefix(namespace)?.strip_prefix(':')?;
    let rest = rest
        .strip_prefix(crate::store::counters::LAYOUT_VERSION)?
        .strip_prefix(':')?;
    let (table, slot) = rest.split_once(':')?;
    Some((Table::from_name(table)?, slot.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counters::slot_key;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn keys_round_trip_and_ids_are_distinct() {
        for t in ALL {
            assert_eq!(parse_key("dg", &slot_key("dg", t.name(), 4095)), Some((t, 4095)));
            assert_eq!(Table::from_id(t.id()), Some(t));
        }
        assert_eq!(parse_key("dg", "dg:v1:once:x"), None);
        assert_eq!(parse_key("dg", "other:v1:id3:3"), None);
        assert_eq!(parse_key("dg", "dg:v1:id5:x"), None);
        assert_eq!(Table::from_id(0), None);
    }
}
