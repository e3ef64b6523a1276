//! What the sync service does with one host's message, over a backend that
//! holds the fleet's state (Redis in the service, memory in `replay
//! --hosts` and tests): one code path for both.
//!
//! State: for each slot, one record per host (the host's own, as last
//! sent, stamped with the time it arrived), so a write is one host's field
//! and needs no read-merge-write race; and a change log that gives each
//! write the next sequence number and remembers, per slot, the
//! latest one (bounded: one entry per slot).
//!
//! A sync: store the host's records, read the slots changed since the
//! host's cursor (its own included) up to the message limit, and answer,
//! for each, the merge of every *other* host's record that is fresh enough
//! (`ttl_ms`). The new cursor is one past the last change read, so a host
//! sees every change exactly once, whichever replica answers.

use super::merge;
use super::tables::Table;
use super::wire::{Record, Request};

/// One host's stored record of a slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub host: u64,
    pub at_ms: u64,
    pub words: Vec<u64>,
}

/// Where the fleet's state lives.
pub trait Backend {
    type Error: std::fmt::Display;
    /// The backend's clock (one clock for every replica).
    fn now_ms(&mut self) -> Result<u64, Self::Error>;
    /// Stores each record as `host`'s record of its slot, stamped `at_ms`,
    /// and logs each as a change with the next sequence number.
    fn put(&mut self, host: u64, at_ms: u64, records: &[Record]) -> Result<(), Self::Error>;
    /// Slots whose last change has a sequence number at or after `since`,
    /// in sequence order, at most `limit`: `(table, slot, sequence)`.
    fn changed(&mut self, since: u64, limit: usize) -> Result<Vec<(Table, u32, u64)>, Self::Error>;
    /// Every host's record of each slot, in host order (merges of
    /// floating-point words depend on the order; every backend uses this one).
    fn fields(&mut self, slots: &[(Table, u32)]) -> Result<Vec<Vec<Stored>>, Self::Error>;

    /// For each slot, [`others`] of its fields (a backend that holds them
    /// in memory merges in place instead of copying).
    fn merged_others(
        &mut self,
        slots: &[(Table, u32)],
        host: u64,
        now_ms: u64,
        limits: Limits,
    ) -> Result<Vec<Option<Vec<u64>>>, Self::Error> {
        let fields = self.fields(slots)?;
        Ok(slots
            .iter()
            .zip(&fields)
            .map(|((t, _), f)| others(*t, host, now_ms, limits, f))
            .collect())
    }
}

/// Limits of one answer.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most records in one answer.
    pub max_records: usize,
    /// A host's record older than this is left out of merges.
    pub ttl_ms: u64,
    /// How detection's decayed counts fade (merges bring them to one time).
    pub fades: merge::Fades,
}

/// The merge of every fresh record of the slot except `host`'s.
pub fn others(table: Table, host: u64, now_ms: u64, limits: Limits, fields: &[Stored]) -> Option<Vec<u64>> {
    others_of(table, host, now_ms, limits, fields.iter())
}

fn others_of<'a>(
    table: Table,
    host: u64,
    now_ms: u64,
    limits: Limits,
    fields: impl Iterator<Item = &'a Stored>,
) -> Option<Vec<u64>> {
    let ttl_ms = limits.ttl_ms;
    let mut acc: Option<Vec<u64>> = None;
    for f in fields {
        if f.host == host || now_ms.saturating_sub(f.at_ms) > ttl_ms || f.words.len() != table.words() {
            continue;
        }
        match &mut acc {
            None => acc = Some(f.words.clone()),
            Some(a) => {
                merge::merge_into(table, limits.fades, a, &f.words);
            }
        }
    }
    acc.filter(|a| !merge::is_empty(a))
}

/// Handles one (already authenticated and bounded) request: the new
/// cursor and the records to answer.
pub fn sync<B: Backend>(b: &mut B, limits: Limits, req: &Request) -> Result<(u64, Vec<Record>), B::Error> {
    let now = b.now_ms()?;
    let mine: Vec<Record> = req
        .records
        .iter()
        .filter(|r| r.words.len() == r.table.words())
        .cloned()
        .collect();
    if !mine.is_empty() {
        b.put(req.host, now, &mine)?;
    }
    let changed = b.changed(req.cursor, limits.max_records)?;
    let cursor = changed
        .iter()
        .map(|c| c.2 + 1)
        .max()
        .unwrap_or(req.cursor)
        .max(req.cursor);
    let slots: Vec<(Table, u32)> = changed.iter().map(|(t, s, _)| (*t, *s)).collect();
    let merged = b.merged_others(&slots, req.host, now, limits)?;
    let records = slots
        .iter()
        .zip(merged)
        .filter_map(|((table, slot), words)| {
            words.map(|words| Record {
                table: *table,
                slot: *slot,
                words,
            })
        })
        .collect();
    Ok((cursor, records))
}

/// The fleet's state in memory: what `replay --hosts` syncs through, and
/// the model the Redis backend is tested against.
pub struct MemoryBackend {
    pub now_ms: u64,
    fields: crate::fastmap::FastMap<(Table, u32), Vec<Stored>>,
    last_change: crate::fastmap::FastMap<(Table, u32), u64>,
    log: std::collections::BTreeSet<(u64, Table, u32)>,
    seq: u64,
}

impl Default for MemoryBackend {
    fn default() -> Self {
        MemoryBackend {
            now_ms: 0,
            fields: crate::fastmap::fast_map(),
            last_change: crate::fastmap::fast_map(),
            log: std::collections::BTreeSet::new(),
            seq: 0,
        }
    }
}

impl MemoryBackend {
    /// Bytes of records held (the state Redis would hold, without its
    /// per-key overhead).
    pub fn record_bytes(&self) -> usize {
        self.fields.values().flatten().map(|f| 16 + 8 * f.words.len()).sum()
    }
}

impl Backend for MemoryBackend {
    type Error = std::convert::Infallible;

    fn now_ms(&mut self) -> Result<u64, Self::Error> {
        Ok(self.now_ms)
    }

    fn put(&mut self, host: u64, at_ms: u64, records: &[Record]) -> Result<(), Self::Error> {
        for r in records {
            self.seq += 1;
            let key = (r.table, r.slot);
            let stored = Stored {
                host,
                at_ms,
                words: r.words.clone(),
            };
            // Kept in host order, the order every backend merges in.
            let fields = self.fields.entry(key).or_default();
            match fields.binary_search_by_key(&host, |f| f.host) {
                Ok(i) => {
                    if let Some(f) = fields.get_mut(i) {
                        *f = stored;
                    }
                }
                Err(i) => fields.insert(i, stored),
            }
            if let Some(old) = self.last_change.insert(key, self.seq) {
                self.log.remove(&(old, r.table, r.slot));
            }
            self.log.insert((self.seq, r.table, r.slot));
        }
        Ok(())
    }

    fn changed(&mut self, since: u64, limit: usize) -> Result<Vec<(Table, u32, u64)>, Self::Error> {
        Ok(self
            .log
            .range((since, Table::Template, 0)..)
            .take(limit)
            .map(|(seq, t, s)| (*t, *s, *seq))
            .collect())
    }

    fn fields(&mut self, slots: &[(Table, u32)]) -> Result<Vec<Vec<Stored>>, Self::Error> {
        Ok(slots
            .iter()
            .map(|k| self.fields.get(k).cloned().unwrap_or_default())
            .collect())
    }

    fn merged_others(
        &mut self,
        slots: &[(Table, u32)],
        host: u64,
        now_ms: u64,
        limits: Limits,
    ) -> Result<Vec<Option<Vec<u64>>>, Self::Error> {
        Ok(slots
            .iter()
            .map(|k| {
                let fields = self.fields.get(k).map(|f| f.iter());
                fields.and_then(|f| others_of(k.0, host, now_ms, limits, f))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn rec(slot: u32, count: u64) -> Record {
        let mut r = crate::detect::cadence::Record::fresh(7, 1_000);
        r.count = count;
        r.last_seen = 1_000;
        Record {
            table: Table::Identity,
            slot,
            words: r.encode().to_vec(),
        }
    }

    fn count(r: &Record) -> u64 {
        r.words.get(3).copied().unwrap_or(0)
    }

    /// One sync of `host` under [`LIMITS`].
    fn ask(b: &mut MemoryBackend, host: u64, cursor: u64, records: Vec<Record>) -> (u64, Vec<Record>) {
        sync(b, LIMITS, &Request { host, cursor, records }).unwrap()
    }

    const LIMITS: Limits = Limits {
        max_records: 100,
        ttl_ms: 60_000,
        fades: merge::Fades::DEFAULT,
    };

    #[wasm_bindgen_test(unsupported = test)]
    fn each_host_gets_the_others_merged_once() {
        let mut b = MemoryBackend::default();
        let (c1, out) = ask(&mut b, 1, 0, vec![rec(5, 3)]);
        assert!(out.is_empty(), "nobody else yet");
        let (c2, out) = ask(&mut b, 2, 0, vec![rec(5, 4)]);
        assert_eq!(out.len(), 1);
        assert_eq!(count(&out[0]), 3, "host 2 sees host 1's record, not its own");
        let (c3, out) = ask(&mut b, 3, 0, vec![]);
        assert_eq!(
            out.iter().map(count).collect::<Vec<_>>(),
            vec![7],
            "a host that never saw the slot"
        );
        // Host 1 asks again: host 2's write is new to it.
        let (c1b, out) = ask(&mut b, 1, c1, vec![]);
        assert_eq!(out.iter().map(count).collect::<Vec<_>>(), vec![4]);
        // Nothing new since: nothing answered, the cursor stands.
        let (again, out) = ask(&mut b, 1, c1b, vec![]);
        assert!(out.is_empty() && again == c1b);
        assert!(c2 > c1 && c3 >= c2);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn stale_hosts_drop_out_and_answers_are_bounded() {
        let mut b = MemoryBackend::default();
        ask(&mut b, 1, 0, vec![rec(5, 3)]);
        b.now_ms = 120_000;
        let (_, out) = ask(&mut b, 2, 0, vec![rec(5, 4)]);
        assert!(out.is_empty(), "host 1's record is older than the ttl");
        let many: Vec<Record> = (0..250).map(|s| rec(s, 1)).collect();
        ask(&mut b, 3, 0, many);
        let (mut cursor, mut seen) = (0, 0);
        for _ in 0..5 {
            let (c, out) = sync(
                &mut b,
                LIMITS,
                &Request {
                    host: 4,
                    cursor,
                    records: vec![],
                },
            )
            .unwrap();
            assert!(out.len() <= LIMITS.max_records);
            seen += out.len();
            cursor = c;
        }
        assert_eq!(seen, 250, "every slot once, over several syncs");
    }
}
