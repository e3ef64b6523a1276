#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a benchmark: a panic is a failed run
//! Fleet sync against a real Redis, without HTTP: what one host sync costs
//! the service and Redis, and what the state weighs.
//!
//!   cargo run --release --example fleet_redis_bench -- redis://127.0.0.1:6379 [HOSTS] [SENT] [ROUNDS] [SLOTS]
//!
//! 1. Memory: writes 20,000 identity records and 5,000 template records
//!    from one host and reads `used_memory` before and after (bytes per
//!    record field, Redis overhead included).
//! 2. Throughput: HOSTS hosts (default 8) each sync ROUNDS times (default
//!    50), each time sending SENT touched records (default 50: 40 identity,
//!    10 template, random slots) and receiving what the others changed.
//!    Prints host syncs/s, Redis commands per host sync and bytes in/out per
//!    host sync (from `INFO stats`). Uses its own key prefix and deletes it.
//!    SLOTS (default: the tables' 16,384 identity and 8,192 template slots)
//!    narrows the slots drawn from, so that many hosts write each slot, as
//!    under random spread, where every identity reaches every host.

use std::time::Instant;

use distill_guard::detect::{cadence, correlate};
use distill_guard::fleet::hub::{self, Limits};
use distill_guard::fleet::tables::Table;
use distill_guard::fleet::wire::{Record, Request};
use distill_guard::hash::fingerprint;
use distill_guard::service::redis_backend::RedisBackend;

fn info(b: &mut RedisBackend, field: &str) -> u64 {
    b.info_field(field).unwrap_or(0)
}

fn record(table: Table, slot: u32, seed: u64) -> Record {
    let words = match table {
        Table::Identity => {
            let mut r = cadence::Record::fresh(seed, 1_700_000_000);
            r.count = 1 + seed % 50;
            r.last_seen = 1_700_000_000 + seed % 3_600;
            r.memory = (seed % 100) as f64 / 100.0;
            r.encode().to_vec()
        }
        _ => {
            let mut w = vec![0u64; correlate::WORDS];
            for (i, x) in w.iter_mut().enumerate() {
                *x = fingerprint(&(seed ^ i as u64).to_le_bytes()) & 0x0f0f_0f0f_0f0f_0f0f;
            }
            w[0] = seed;
            w[1] = 19_675;
            w
        }
    };
    Record { table, slot, words }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let hosts: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let sent: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let rounds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50);
    let narrow: Option<u64> = args.get(4).and_then(|s| s.parse().ok());
    let prefix = format!("dgbench{}", std::process::id());
    let mut b = RedisBackend::connect(&url, &prefix).unwrap();
    let limits = Limits {
        max_records: 4_096,
        fades: distill_guard::fleet::merge::Fades::DEFAULT,
    };

    // 1. Memory per record field.
    for (table, n) in [(Table::Identity, 20_000u32), (Table::Template, 5_000)] {
        let before = b.used_memory().unwrap();
        for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
            let records: Vec<Record> = chunk.iter().map(|s| record(table, *s, u64::from(*s) + 1)).collect();
            hub::sync(
                &mut b,
                limits,
                &Request {
                    host: 1,
                    cursor: u64::MAX,
                    records,
                },
            )
            .unwrap();
        }
        let after = b.used_memory().unwrap();
        // Three more hosts write the same slots: a field each.
        for host in 2..=4 {
            for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
                let records: Vec<Record> = chunk.iter().map(|s| record(table, *s, u64::from(*s) + host)).collect();
                hub::sync(
                    &mut b,
                    limits,
                    &Request {
                        host,
                        cursor: u64::MAX,
                        records,
                    },
                )
                .unwrap();
            }
        }
        let four = b.used_memory().unwrap();
        println!(
            "memory: {n} {table:?} slots ({} words a record): {:.0} bytes a slot with one host's record, {:.0} bytes per further host's record",
            table.words(),
            (after.saturating_sub(before)) as f64 / f64::from(n),
            (four.saturating_sub(after)) as f64 / f64::from(3 * n)
        );
    }
    b.clear().unwrap();

    // 2. Host syncs.
    let (c0, i0, o0) = (
        info(&mut b, "total_commands_processed"),
        info(&mut b, "total_net_input_bytes"),
        info(&mut b, "total_net_output_bytes"),
    );
    let mut cursors = vec![0u64; hosts as usize];
    let (mut received, mut syncs) = (0u64, 0u64);
    let started = Instant::now();
    for round in 0..rounds {
        for h in 0..hosts {
            let records = (0..sent)
                .map(|i| {
                    let seed = fingerprint(&[round, h, i].map(u64::to_le_bytes).concat());
                    let table = if i % 5 == 4 { Table::Template } else { Table::Identity };
                    let slots = narrow.unwrap_or(if table == Table::Identity { 16_384 } else { 8_192 });
                    record(table, (seed % slots) as u32, seed)
                })
                .collect();
            let req = Request {
                host: h + 1,
                cursor: cursors[h as usize],
                records,
            };
            let (cursor, answer) = hub::sync(&mut b, limits, &req).unwrap();
            cursors[h as usize] = cursor;
            received += answer.len() as u64;
            syncs += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (c1, i1, o1) = (
        info(&mut b, "total_commands_processed"),
        info(&mut b, "total_net_input_bytes"),
        info(&mut b, "total_net_output_bytes"),
    );
    let per = |x: u64| x as f64 / syncs as f64;
    println!(
        "throughput: {hosts} hosts x {rounds} rounds, {sent} records sent per sync{}: {:.0} host syncs/s on one connection; \
         per host sync: {:.1} records received, {:.0} Redis commands (incl. pipelined), {:.0} bytes to Redis, {:.0} bytes from Redis",
        narrow.map(|n| format!(" over {n} slots a table")).unwrap_or_default(),
        syncs as f64 / secs,
        per(received),
        per(c1 - c0) - 3.0, // the three INFO calls
        per(i1 - i0),
        per(o1 - o0),
    );
    b.clear().unwrap();
}
