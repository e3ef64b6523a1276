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

/// An eviction flood at the scale of the tables (issue 10): with tables
/// shrunk to 1,024 identity, 512 template and 256 address-block slots, 1.5
/// templates per template slot, each sent again and again by many accounts
/// (live clusters that hold their slots and press their neighbours), 2
/// tokens per identity slot, all accepted by the upstream. Keyed placement
/// means the flood cannot aim at the campaigns' slots, only fill every
/// table: the campaigns the baseline catches are still caught on at least
/// 90% as many accounts, no benign account is denied, and the template
/// table is full of the flood's clusters. Before a harmless cluster yielded
/// to a newcomer with evidence at once and an idle suspicious account kept
/// its place against harmless newcomers, `chinese` was denied on 9 of the
/// baseline's 13 accounts (docs/benchmarks.md). Before the first
/// requests' counts were deferred to the upstream's answer, this flood
/// left `chinese` denied on no account at all (every displaced identity
/// came back as a first request).
#[test]
fn an_eviction_flood_at_the_scale_of_the_tables_leaves_campaigns_caught() {
    let Some(c) = corpus() else { return };
    let mut trace = Vec::new();
    let opts = sim::Options {
        seed: 1,
        days: 1,
        scale: 0.1,
    };
    sim::generate(&opts, &c, &mut trace).unwrap();
    let config = br#"{"mode": "enforce", "identity": {"secret": "eviction-test", "trusted_xff_hops": 1},
        "detection": {"identity_slots": 1024, "template_slots": 512, "network_slots": 256}}"#;
    let engine = || Engine::from_config(config).unwrap();
    let base = flood(&engine(), &trace, None, 0);
    let caught: Vec<_> = base.quality.groups.iter().filter(|g| g.accounts_denied > 0).collect();
    assert!(caught.len() >= 3, "the baseline catches the non-adaptive campaigns");
    let r = flood(&engine(), &trace, Some(FloodKind::Eviction), 24_000);
    let tables = &r.checkpoints.last().unwrap().tables;
    let tpl = tables.iter().find(|t| t.table.starts_with("tpl")).unwrap();
    assert!(tpl.keys >= 500, "the flood did not fill the template table: {tables:?}");
    assert_eq!(r.quality.benign.accounts_denied, 0, "benign accounts denied");
    for g in &caught {
        let now = r.quality.groups.iter().find(|x| x.group == g.group).unwrap();
        assert!(
            now.accounts_denied * 10 >= g.accounts_denied * 9,
            "campaign {} denied on {} accounts, {} without the flood",
            g.group,
            now.accounts_denied,
            g.accounts_denied
        );
    }
}
