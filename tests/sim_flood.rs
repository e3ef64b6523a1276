#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test helpers: a panic is a failed test
//! Floods and poisoning in replay (src/sim/flood_bench.rs, small here;
//! `make bench-flood` runs a million of each): while fresh identities,
//! distinct templates, forged `x-forwarded-for` addresses or the framing of
//! the popular app flood the engine, the simulated campaigns are still
//! caught, no benign account is denied, and the shared data holds no more
//! keys than its tables have slots.

use std::io::{BufRead, Cursor};
use std::path::Path;

use distill_guard::engine::Engine;
use distill_guard::sim::flood::FloodKind;
use distill_guard::sim::flood_bench::{self, FloodOptions, FloodReport};
use distill_guard::sim::{self, corpus::Corpus};

fn corpus() -> Option<Corpus> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/data", "../../shared/data"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.exists())
        .map(|d| Corpus::load(&d).unwrap())
}

fn flood(engine: &Engine, trace: &[u8], kind: Option<FloodKind>, count: u64) -> FloodReport {
    let open = || Ok(Box::new(Cursor::new(trace.to_vec())) as Box<dyn BufRead>);
    flood_bench::run(engine, &open, &FloodOptions { kind, count, seed: 5 }).unwrap()
}

#[test]
fn campaigns_stay_caught_and_no_benign_account_is_denied_under_each_flood() {
    let Some(c) = corpus() else { return };
    let mut trace = Vec::new();
    sim::generate(
        &sim::Options {
            seed: 1,
            days: 1,
            scale: 0.1,
        },
        &c,
        &mut trace,
    )
    .unwrap();
    let config = br#"{"mode": "enforce", "identity": {"secret": "flood-test", "trusted_xff_hops": 1}}"#;
    let engine = || Engine::from_config(config).unwrap();
    let base = flood(&engine(), &trace, None, 0);
    let caught: Vec<_> = base.quality.groups.iter().filter(|g| g.accounts_denied > 0).collect();
    assert!(caught.len() >= 3, "the baseline catches the non-adaptive campaigns");
    let slots = 16_384 + 8_192 + 4_096 + 8_192; // identity, template, network, static limit
    for kind in FloodKind::ALL {
        let r = flood(&engine(), &trace, Some(kind), 5_000);
        assert_eq!(r.flood_requests, 5_000);
        assert_eq!(
            r.quality.benign.accounts_denied,
            0,
            "{}: benign accounts denied",
            kind.name()
        );
        for g in &caught {
            let now = r.quality.groups.iter().find(|x| x.group == g.group).unwrap();
            assert!(
                now.accounts_denied * 10 >= g.accounts_denied * 9,
                "{}: campaign {} denied on {} accounts, {} without the flood",
                kind.name(),
                g.group,
                now.accounts_denied,
                g.accounts_denied
            );
        }
        let keys: u64 = r.checkpoints.last().unwrap().tables.iter().map(|t| t.keys).sum();
        assert!(keys <= slots, "{}: {keys} shared-data keys", kind.name());
    }
}
