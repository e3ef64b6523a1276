//! What the sync service does with one host's message, over a backend that
//! holds the fleet's state (Redis in the service, memory in `replay
//! --hosts` and tests): one code path for both.
//!
//! State, per slot: the merged record `M` of every host's last
//! contribution, a version, how many hosts contributed, and each host's
//! last contribution; and a change log that gives each write the next
//! sequence number and remembers, per slot, the latest one (bounded: one
//! entry per slot).
//!
//! A sync: for each of the host's records, read the slot's `M` and the
//! host's previous contribution `old` (two records), compute `M' = M ⊖ old
//! ⊕ new` (`merge::remove_from`, `merge::merge_into`) and store `M'` and
//! `new` if the version is still the one read (compare-and-set, retried on
//! a conflict with another replica); log the changes; then read the slots
//! changed since the host's cursor (its own included) up to the message
//! limit, and answer, for each, `M ⊖ own`: the other hosts' part, from two
//! records however many hosts hold the slot. The new cursor is one past the
//! last change read, so a host sees every change exactly once, whichever
//! replica answers.
//!
//! Before, a read merged every host's record of each changed slot, so a
//! host read `c × H` records a sync and the fleet `H² × c` an interval; now
//! `2s + 2c` (`s` records sent, `c` answered). Words that merge by maximum
//! or latest (sketch registers, bitmaps, the score memory) cannot be taken
//! out of `M`: a host is answered them with its own part in, which its own
//! record (a later state of that part) absorbs when it merges them. So a
//! word that must be able to come down again merges as the latest, never
//! as a maximum.

use super::merge::{self, Fades};
use super::tables::Table;
use super::wire::{Record, Request};

/// One slot as a backend holds it, seen by one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// Bumped by every write: the compare-and-set's token (0: never written).
    pub version: u64,
    /// Hosts that contributed to `merged`.
    pub hosts: u64,
    /// The version from which `merged` holds its present key (owner): a
    /// part written before it, or of another key, is not in `merged`.
    pub since: u64,
    /// The merge of every host's last contribution (empty: none).
    pub merged: Vec<u64>,
    /// This host's last contribution and the version it was written at.
    pub own: Option<(u64, Vec<u64>)>,
}

/// A slot's new state, written if its version is still `expect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    pub table: Table,
    pub slot: u32,
    pub expect: u64,
    pub hosts: u64,
    pub since: u64,
    pub merged: Vec<u64>,
    /// The host's new contribution (written at version `expect + 1`).
    pub own: Vec<u64>,
}

/// Where the fleet's state lives.
pub trait Backend {
    type Error: std::fmt::Display;
    /// Each slot's state as `host` sees it (two records a slot).
    fn load(&mut self, host: u64, slots: &[(Table, u32)]) -> Result<Vec<Slot>, Self::Error>;
    /// Stores each write whose slot is still at its `expect`ed version
    /// (bumping it), as `host`'s; whether each was stored.
    fn store(&mut self, host: u64, writes: &[Write]) -> Result<Vec<bool>, Self::Error>;
    /// Logs each slot as changed, with the next sequence numbers in order.
    fn log(&mut self, slots: &[(Table, u32)]) -> Result<(), Self::Error>;
    /// Slots whose last change has a sequence number at or after `since`,
    /// in sequence order, at most `limit`: `(table, slot, sequence)`.
    fn changed(&mut self, since: u64, limit: usize) -> Result<Vec<(Table, u32, u64)>, Self::Error>;
    /// The error of a write that lost its compare-and-set [`TRIES`] times.
    fn contended(&self, slots: usize) -> Self::Error;
}

/// Compare-and-set rounds before a sync gives up (another replica wrote
/// the same slot between this one's read and write every time).
pub const TRIES: usize = 8;

/// Limits of one answer.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most records in one answer.
    pub max_records: usize,
    /// How detection's decayed counts fade (merges bring them to one time).
    pub fades: Fades,
}

/// Owner is word 0 of every synced layout.
fn owner(words: &[u64]) -> u64 {
    words.first().copied().unwrap_or(0)
}

/// `slot`'s `own` part, if it is in `merged`: of the same key, and
/// written since that key holds the merged record (a merge keeps one key's
/// records; another key's, or a part from before the key last took the
/// slot, was left out and must not be taken out).
fn own_in_merged(table: Table, slot: &Slot) -> Option<&[u64]> {
    let (at, own) = slot.own.as_ref()?;
    let fits = own.len() == table.words() && slot.merged.len() == table.words();
    (fits && *at >= slot.since && owner(own) == owner(&slot.merged)).then_some(own.as_slice())
}

/// The write that replaces `host`'s part of `slot` with `new`.
pub fn replace(table: Table, fades: Fades, slot: Slot, new: &Record) -> Write {
    let width = table.words();
    let mut merged = if slot.merged.len() == width {
        slot.merged.clone()
    } else {
        // Never written (or malformed in the store): start again.
        vec![0; width]
    };
    let mut hosts = slot.hosts;
    match own_in_merged(table, &slot) {
        Some(old) => {
            merge::remove_from(table, fades, &mut merged, old);
        }
        None if slot.own.is_none() => hosts = hosts.saturating_add(1),
        None => {}
    }
    let (before, was_empty) = (owner(&merged), merge::is_empty(&merged));
    merge::merge_into(table, fades, &mut merged, &new.words);
    let version = slot.version.wrapping_add(1);
    // Another key took the merged record (or it starts): only this part is in it.
    let since = if was_empty || owner(&merged) != before {
        version
    } else {
        slot.since
    };
    Write {
        table,
        slot: new.slot,
        expect: slot.version,
        hosts,
        since,
        merged,
        own: new.words.clone(),
    }
}

/// The other hosts' part of a slot, as one host sees it: `M ⊖ own`; none
/// when this host is the only one that contributed, or nothing is left.
pub fn others(table: Table, fades: Fades, slot: Slot) -> Option<Vec<u64>> {
    if slot.merged.len() != table.words() {
        return None;
    }
    let mut merged = slot.merged.clone();
    if let Some(own) = own_in_merged(table, &slot) {
        if slot.hosts <= 1 {
            return None;
        }
        merge::remove_from(table, fades, &mut merged, own);
    }
    Some(merged).filter(|m| !merge::is_empty(m))
}

/// Stores `host`'s records as its part of their slots and logs them.
fn contribute<B: Backend>(b: &mut B, host: u64, fades: Fades, records: &[Record]) -> Result<(), B::Error> {
    let mut pending: Vec<&Record> = records.iter().collect();
    for _ in 0..TRIES {
        let slots: Vec<(Table, u32)> = pending.iter().map(|r| (r.table, r.slot)).collect();
        let loaded = b.load(host, &slots)?;
        let writes: Vec<Write> = pending
            .iter()
            .zip(loaded)
            .map(|(r, slot)| replace(r.table, fades, slot, r))
            .collect();
        let stored = b.store(host, &writes)?;
        let mut lost = stored.iter().map(|ok| !ok);
        pending.retain(|_| lost.next().unwrap_or(true));
        if pending.is_empty() {
            break;
        }
    }
    if !pending.is_empty() {
        return Err(b.contended(pending.len()));
    }
    // Logged after the records are written: whoever reads the log finds them.
    let slots: Vec<(Table, u32)> = records.iter().map(|r| (r.table, r.slot)).collect();
    b.log(&slots)
}

/// Handles one (already authenticated and bounded) request: the new
/// cursor and the records to answer.
pub fn sync<B: Backend>(b: &mut B, limits: Limits, req: &Request) -> Result<(u64, Vec<Record>), B::Error> {
    let mine: Vec<Record> = req
        .records
        .iter()
        .filter(|r| r.words.len() == r.table.words())
        .cloned()
        .collect();
    if !mine.is_empty() {
        contribute(b, req.host, limits.fades, &mine)?;
    }
    let changed = b.changed(req.cursor, limits.max_records)?;
    let cursor = changed
        .iter()
        .map(|c| c.2 + 1)
        .max()
        .unwrap_or(req.cursor)
        .max(req.cursor);
    let slots: Vec<(Table, u32)> = changed.iter().map(|(t, s, _)| (*t, *s)).collect();
    let loaded = b.load(req.host, &slots)?;
    let records = slots
        .iter()
        .zip(loaded)
        .filter_map(|((table, slot), state)| {
            others(*table, limits.fades, state).map(|words| Record {
                table: *table,
                slot: *slot,
                words,
            })
        })
        .collect();
    Ok((cursor, records))
}

/// One slot in memory.
#[derive(Default)]
struct MemorySlot {
    version: u64,
    hosts: u64,
    since: u64,
    merged: Vec<u64>,
    /// Each host's last contribution and its version, in host order.
    own: Vec<(u64, (u64, Vec<u64>))>,
    /// When it was last written (a slot idle for `ttl_ms` is forgotten,
    /// as Redis expires its key).
    at_ms: u64,
}

/// The fleet's state in memory: what `replay --hosts` syncs through, and
/// the model the Redis backend is tested against.
pub struct MemoryBackend {
    /// The clock slots expire by (the replay's trace time).
    pub now_ms: u64,
    /// A slot not written for this long is gone (Redis: the key's expiry).
    pub ttl_ms: u64,
    slots: crate::fastmap::FastMap<(Table, u32), MemorySlot>,
    last_change: crate::fastmap::FastMap<(Table, u32), u64>,
    log: std::collections::BTreeSet<(u64, Table, u32)>,
    seq: u64,
    /// Records read so far (what a Redis backend would fetch).
    pub records_read: u64,
}

impl Default for MemoryBackend {
    fn default() -> Self {
        MemoryBackend {
            now_ms: 0,
            ttl_ms: 2 * 86_400 * 1_000,
            slots: crate::fastmap::fast_map(),
            last_change: crate::fastmap::fast_map(),
            log: std::collections::BTreeSet::new(),
            seq: 0,
            records_read: 0,
        }
    }
}

impl MemoryBackend {
    /// Bytes of records held (the state Redis would hold, without its
    /// per-key overhead).
    pub fn record_bytes(&self) -> usize {
        self.slots
            .values()
            .map(|s| 32 + 8 * s.merged.len() + s.own.iter().map(|(_, (_, w))| 16 + 8 * w.len()).sum::<usize>())
            .sum()
    }
}

impl Backend for MemoryBackend {
    type Error = String;

    fn load(&mut self, host: u64, slots: &[(Table, u32)]) -> Result<Vec<Slot>, Self::Error> {
        let (now, ttl) = (self.now_ms, self.ttl_ms);
        let out: Vec<Slot> = slots
            .iter()
            .map(|k| match self.slots.get(k) {
                Some(s) if now.saturating_sub(s.at_ms) <= ttl => Slot {
                    version: s.version,
                    hosts: s.hosts,
                    since: s.since,
                    merged: s.merged.clone(),
                    own: s
                        .own
                        .binary_search_by_key(&host, |o| o.0)
                        .ok()
                        .and_then(|i| s.own.get(i))
                        .map(|o| o.1.clone()),
                },
                // An expired slot reads as never written; its version
                // stands, so a write made on the old state still conflicts.
                Some(s) => Slot {
                    version: s.version,
                    ..Slot::default()
                },
                None => Slot::default(),
            })
            .collect();
        self.records_read += out
            .iter()
            .map(|s| u64::from(!s.merged.is_empty()) + u64::from(s.own.is_some()))
            .sum::<u64>();
        Ok(out)
    }

    fn store(&mut self, host: u64, writes: &[Write]) -> Result<Vec<bool>, Self::Error> {
        let (now, ttl) = (self.now_ms, self.ttl_ms);
        Ok(writes
            .iter()
            .map(|w| {
                let s = self.slots.entry((w.table, w.slot)).or_default();
                if s.version != w.expect {
                    return false;
                }
                if now.saturating_sub(s.at_ms) > ttl {
                    // Expired: the other hosts' parts went with the key.
                    s.own.clear();
                }
                s.version += 1;
                s.hosts = w.hosts;
                s.since = w.since;
                s.merged.clone_from(&w.merged);
                s.at_ms = now;
                let own = (s.version, w.own.clone());
                match s.own.binary_search_by_key(&host, |o| o.0) {
                    Ok(i) => {
                        if let Some(o) = s.own.get_mut(i) {
                            o.1 = own;
                        }
                    }
                    Err(i) => s.own.insert(i, (host, own)),
                }
                true
            })
            .collect())
    }

    fn log(&mut self, slots: &[(Table, u32)]) -> Result<(), Self::Error> {
        for &(table, slot) in slots {
            self.seq += 1;
            if let Some(old) = self.last_change.insert((table, slot), self.seq) {
                self.log.remove(&(old, table, slot));
            }
            self.log.insert((self.seq, table, slot));
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

    fn contended(&self, slots: usize) -> Self::Error {
        format!("{slots} slots written by another replica {TRIES} times in a row")
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
    fn idle_slots_expire_and_answers_are_bounded() {
        let mut b = MemoryBackend {
            ttl_ms: 60_000,
            ..MemoryBackend::default()
        };
        ask(&mut b, 1, 0, vec![rec(5, 3)]);
        b.now_ms = 120_000;
        let (_, out) = ask(&mut b, 2, 0, vec![rec(5, 4)]);
        assert!(
            out.is_empty(),
            "the slot idled longer than the ttl: host 1's part is gone"
        );
        let (_, out) = ask(&mut b, 1, 0, vec![]);
        assert_eq!(out.iter().map(count).collect::<Vec<_>>(), vec![4], "host 2's alone");
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

    /// Another replica that writes the same slot between this one's read
    /// and its write: the compare-and-set fails, the write is made again on
    /// what the other stored, and neither host's part is lost.
    struct Racing {
        inner: MemoryBackend,
        /// Host 9's record, stored once just before the next write.
        interloper: Option<Record>,
    }

    impl Backend for Racing {
        type Error = String;
        fn load(&mut self, host: u64, slots: &[(Table, u32)]) -> Result<Vec<Slot>, String> {
            self.inner.load(host, slots)
        }
        fn store(&mut self, host: u64, writes: &[Write]) -> Result<Vec<bool>, String> {
            if let Some(r) = self.interloper.take() {
                let slot = self.inner.load(9, &[(r.table, r.slot)])?.remove(0);
                let w = replace(r.table, merge::Fades::DEFAULT, slot, &r);
                assert_eq!(self.inner.store(9, &[w])?, vec![true]);
            }
            self.inner.store(host, writes)
        }
        fn log(&mut self, slots: &[(Table, u32)]) -> Result<(), String> {
            self.inner.log(slots)
        }
        fn changed(&mut self, since: u64, limit: usize) -> Result<Vec<(Table, u32, u64)>, String> {
            self.inner.changed(since, limit)
        }
        fn contended(&self, slots: usize) -> String {
            self.inner.contended(slots)
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_write_that_loses_the_race_is_made_again() {
        let mut b = Racing {
            inner: MemoryBackend::default(),
            interloper: None,
        };
        sync(
            &mut b,
            LIMITS,
            &Request {
                host: 1,
                cursor: 0,
                records: vec![rec(5, 3)],
            },
        )
        .unwrap();
        b.interloper = Some(rec(5, 4));
        sync(
            &mut b,
            LIMITS,
            &Request {
                host: 2,
                cursor: 0,
                records: vec![rec(5, 5)],
            },
        )
        .unwrap();
        let (_, out) = ask(&mut b.inner, 3, 0, vec![]);
        assert_eq!(out.iter().map(count).collect::<Vec<_>>(), vec![12], "hosts 1, 9 and 2");
        // Host 2 asks: everyone's but its own.
        let (_, out) = ask(&mut b.inner, 2, 0, vec![]);
        assert_eq!(out.iter().map(count).collect::<Vec<_>>(), vec![7]);
    }

    fn rec_of(slot: u32, owner: u64, last_seen: u64, count: u64) -> Record {
        let mut r = crate::detect::cadence::Record::fresh(owner, 1_000);
        r.count = count;
        r.last_seen = last_seen;
        Record {
            table: Table::Identity,
            slot,
            words: r.encode().to_vec(),
        }
    }

    /// A slot two keys fight over (another key took the merged record,
    /// then the first took it back): a host's earlier part that is no
    /// longer in the merged record is not taken out of it again, so the
    /// merge comes back whole once each host has written.
    #[wasm_bindgen_test(unsupported = test)]
    fn parts_left_out_by_another_owner_are_not_taken_out_again() {
        let mut b = MemoryBackend::default();
        ask(&mut b, 1, 0, vec![rec_of(5, 7, 2_000, 3)]);
        ask(&mut b, 2, 0, vec![rec_of(5, 7, 2_000, 4)]);
        // Key 8, seen later, takes the slot's merged record.
        ask(&mut b, 3, 0, vec![rec_of(5, 8, 3_000, 50)]);
        // Key 7 again, later still, on both hosts.
        ask(&mut b, 1, 0, vec![rec_of(5, 7, 4_000, 5)]);
        ask(&mut b, 2, 0, vec![rec_of(5, 7, 4_000, 6)]);
        let (_, out) = ask(&mut b, 9, 0, vec![]);
        assert_eq!(
            out.iter().map(count).collect::<Vec<_>>(),
            vec![11],
            "5 + 6, nothing lost"
        );
        // Host 3's part (key 8) is in no merge of key 7: nothing taken out for it.
        let (_, out) = ask(&mut b, 3, 0, vec![]);
        assert_eq!(out.iter().map(count).collect::<Vec<_>>(), vec![11]);
    }

    /// An identity's score memory as the hosts hold it after a request
    /// (`fleet::carry`: the fleet's memory as of the last sync, moved by
    /// the request): the latest host's is the fleet's. A host that raised
    /// it (a burst of suspicious requests) and lowered it again (many
    /// harmless ones since) lowers it on the fleet; before, the memory
    /// merged by maximum and `M ⊖ own` cannot take a maximum out, so the
    /// fleet held the peak for weeks (its half-life) and a coding agent's
    /// account with one suspicious burst was denied on 32 hosts where one
    /// host let it through.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_memory_lowered_again_is_lowered_on_the_fleet() {
        let with_memory = |last_seen: u64, memory: f64| {
            let mut r = crate::detect::cadence::Record::fresh(7, 1_000);
            r.count = 1;
            r.last_seen = last_seen;
            r.memory = memory;
            Record {
                table: Table::Identity,
                slot: 5,
                words: r.encode().to_vec(),
            }
        };
        let memory = |out: &[Record]| -> Vec<f64> {
            out.iter()
                .map(|r| crate::detect::cadence::Record::decode(&<[u64; 24]>::try_from(&r.words[..]).unwrap()).memory)
                .collect()
        };
        let mut b = MemoryBackend::default();
        ask(&mut b, 1, 0, vec![with_memory(2_000, 0.8)]);
        ask(&mut b, 2, 0, vec![with_memory(2_100, 0.7)]);
        ask(&mut b, 1, 0, vec![with_memory(3_000, 0.3)]);
        let (_, out) = ask(&mut b, 9, 0, vec![]);
        assert_eq!(memory(&out), vec![0.3], "a new host");
        let (_, out) = ask(&mut b, 2, 0, vec![]);
        assert_eq!(memory(&out), vec![0.3], "the other host");
    }

    /// A sync reads a bounded number of records per slot it writes or
    /// answers, however many hosts hold the slot: the fleet's reads grow
    /// with slots, not with hosts².
    #[wasm_bindgen_test(unsupported = test)]
    fn reads_grow_with_slots_not_hosts() {
        let slots = 40u32;
        for hosts in [2u64, 8, 32] {
            let mut b = MemoryBackend::default();
            for h in 1..=hosts {
                ask(&mut b, h, 0, (0..slots).map(|s| rec(s, h)).collect());
            }
            let before = b.records_read;
            let (_, out) = ask(&mut b, hosts + 1, 0, vec![]);
            let read = b.records_read - before;
            println!("{hosts} hosts, {slots} slots: {read} records read by one sync");
            assert_eq!(out.len(), slots as usize);
            let all: u64 = (1..=hosts).sum();
            assert!(out.iter().all(|r| count(r) == all), "every host's count, once");
            assert!(read <= 2 * u64::from(slots), "{hosts} hosts: {read} records read");
        }
    }
}
