//! Fleet mode through detection: the merged view raises what a request
//! sees across accounts, and costs no extra shared-data call.

use std::cell::{Cell, RefCell};

use super::exchange;
use super::hub::{self, Limits, MemoryBackend};
use super::touched::{Touched, Touching};
use super::wire::Request;
use crate::api::{Api, Endpoint, GenParams, Provider, RequestView, Role, Turn};
use crate::clock::ManualClock;
use crate::detect::{config::DetectionSettings, Assessment, Detector, Observation};
use crate::hash::fingerprint;
use crate::host::Host;
use crate::identity::{Identity, IdentityKind};
use crate::metrics::MemoryMetrics;
use crate::request::RequestMeta;
use crate::store::{MemoryStore, SharedStore, StoreError, Versioned};
use wasm_bindgen_test::wasm_bindgen_test;

/// Counts host calls.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    calls: Cell<usize>,
}
impl SharedStore for Counting {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.calls.set(self.calls.get() + 1);
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        self.calls.set(self.calls.get() + 1);
        self.inner.set(key, value, cas)
    }
}

fn identity(n: u64) -> Identity {
    Identity {
        key: format!("k:{n:016x}"),
        hash: fingerprint(&n.to_le_bytes()),
        kind: IdentityKind::Credential,
        client_ip: Some(std::net::IpAddr::from([198, 51, 100, (n % 200) as u8])),
        tls_fingerprint: None,
        user_agent: None,
        organization: None,
    }
}

fn view(i: u64) -> RequestView {
    RequestView {
        api: Api {
            provider: Provider::OpenAi,
            endpoint: Endpoint::ChatCompletions,
        },
        model: None,
        system: String::new(),
        turns: vec![Turn {
            role: Some(Role::User),
            text: format!(
                "Imagine and articulate the internal reasoning behind a completed response to the following problem and write it out step by step: a train leaves at {i} and travels {} miles. When does it arrive?",
                i * 7 + 3
            ),
            ..Turn::default()
        }],
        params: GenParams::default(),
        truncated: false,
    }
}

fn assess(d: &Detector, store: &dyn SharedStore, id: u64, now: f64) -> Assessment {
    let clock = ManualClock::new(now);
    let metrics = MemoryMetrics::default();
    let host = Host {
        store,
        clock: &clock,
        metrics: &metrics,
    };
    let (ident, v, meta) = (identity(id), view(id), RequestMeta::default());
    d.assess(
        &Observation {
            identity: &ident,
            view: Some(&v),
            meta: &meta,
            now,
        },
        &host,
    )
}

/// [`assess`], then the upstream's 200, as the proxy has it: a first
/// request counts in its clusters once accepted.
fn answered(d: &Detector, store: &dyn SharedStore, id: u64, now: f64) -> Assessment {
    let a = assess(d, store, id, now);
    let (clock, metrics) = (ManualClock::new(now), MemoryMetrics::default());
    let host = Host {
        store,
        clock: &clock,
        metrics: &metrics,
    };
    d.count_deferred(&identity(id), a.deferred, 200, &host);
    a
}

/// Sends `store`'s touched records as `host` and writes the answer back.
fn sync(store: &dyn SharedStore, touched: &RefCell<Touched>, host: u64, cursor: u64, b: &mut MemoryBackend) -> u64 {
    let slots = touched.borrow_mut().take();
    let records = exchange::collect(store, "t", &slots, 4_096);
    let limits = Limits {
        max_records: 4_096,
        fades: super::merge::Fades::DEFAULT,
    };
    let (cursor, answer) = hub::sync(b, limits, &Request { host, cursor, records }).unwrap_or_default();
    for r in &answer {
        exchange::apply(store, "t", r).ok();
    }
    cursor
}

#[wasm_bindgen_test(unsupported = test)]
fn two_hosts_halves_are_judged_together_within_eight_calls() {
    let d = Detector::with_namespace(DetectionSettings::default(), "t");
    let (a, b) = (Counting::default(), Counting::default());
    let (ta, tb) = (RefCell::new(Touched::new(4_096)), RefCell::new(Touched::new(4_096)));
    let alone = MemoryStore::new();
    let mut backend = MemoryBackend::default();
    let t0 = 1.0e9;
    // Twelve accounts on each host, the same template.
    for i in 0..12u64 {
        let now = t0 + i as f64;
        answered(
            &d,
            &Touching {
                inner: &a,
                namespace: "t",
                touched: &ta,
            },
            i,
            now,
        );
        answered(&d, &alone, i, now);
        answered(
            &d,
            &Touching {
                inner: &b,
                namespace: "t",
                touched: &tb,
            },
            100 + i,
            now,
        );
    }
    let ca = sync(&a, &ta, 1, 0, &mut backend);
    sync(&b, &tb, 2, 0, &mut backend);
    sync(&a, &ta, 1, ca, &mut backend);
    // The next account on host A: the fleet shows 25 accounts, alone 13.
    let before = a.calls.get();
    let fleet = assess(&d, &a, 50, t0 + 20.0);
    assert!(a.calls.get() - before <= 8, "{} calls", a.calls.get() - before);
    let local = assess(&d, &alone, 50, t0 + 20.0);
    assert!(fleet.score > local.score + 0.1, "fleet {fleet:?} alone {local:?}");
}

/// A template's round as the fleet saw it: 39 accounts on other hosts in
/// this minute, one request here. The request is judged crowded on the
/// merged view, and this host's stored record counts it so, so the
/// fleet's sum of crowded requests is what one host would count (before,
/// the local record alone decided, and with the traffic spread over many
/// hosts no host ever counted a crowd).
#[wasm_bindgen_test(unsupported = test)]
fn a_crowded_minute_judged_on_the_fleet_view_is_counted_locally() {
    use crate::detect::correlate::{self, apply, WORDS as CW};
    use crate::detect::slots::{Slots, TEMPLATE_TABLE};
    use crate::fleet::carry::tests::round;
    use crate::fleet::view;
    use crate::hash::SipKey;
    use crate::store::counters::{decode_words, slot_key};

    let (others, local, t) = round();
    let store = MemoryStore::new();
    let (clock, metrics) = (ManualClock::new(t.now as f64), MemoryMetrics::default());
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let slots = Slots::new(&host, "t", SipKey::derive(b"s"));
    let key = slot_key("t", TEMPLATE_TABLE, slots.slot(TEMPLATE_TABLE, 1_024, t.owner, 0));
    store.set(&key, &view::join(Some(&local), Some(&others)), 0).unwrap();
    let mut seen = correlate::ClusterView::default();
    slots
        .update_at::<CW>(TEMPLATE_TABLE, 1_024, t.owner, 0, |w| {
            let (next, v) = apply(w, &t);
            seen = v;
            next
        })
        .unwrap();
    assert!(seen.synced, "{seen:?}");
    let value = store.get(&key).unwrap().unwrap().value;
    let stored = decode_words::<CW>(&key, &value[..CW * 8]).unwrap();
    assert_eq!(stored[correlate::SYNC_CUR], 1);
}

/// One identity's requests spread at random over 32 hosts that sync every
/// 5 s, modelled as `detect::slots` runs a record update (the local run,
/// the merged run, `carry`) and as `hub` merges: its cadence is judged as
/// on one host. Clockwork (a request every 90 s) is regular; a person
/// (sessions of requests, hours apart) is not. Before, each host measured
/// the gaps of its own thinned stream (a clockwork stream thinned at random
/// is as irregular as a person), and a host holding two requests had a
/// variance of zero, so neither was judged as on one host.
#[wasm_bindgen_test(unsupported = test)]
fn cadence_spread_over_hosts_is_judged_as_on_one_host() {
    use crate::detect::cadence::{Record, WORDS as IW};
    use crate::fleet::carry::carry;
    use crate::fleet::merge::{merge_identity, Fades};
    use crate::fleet::tables::Table;
    use crate::fleet::view;

    let regularity = |gaps: &dyn Fn(u64) -> u64| {
        let (hosts_n, sync) = (32usize, 5u64);
        let mut hosts: Vec<Option<[u64; IW]>> = vec![None; hosts_n];
        let mut seen = hosts.clone();
        let mut single: Option<Record> = None;
        let (mut t, mut next_sync, mut fleet, mut alone) = (1_000_000u64, 1_000_000u64, 0.0, 0.0);
        let update = |cur: Option<&[u64; IW]>, t: u64| {
            let base = cur.map(Record::decode).unwrap_or(Record::fresh(9, t));
            base.observe(t, false).encode()
        };
        for i in 0..300u64 {
            t += gaps(i);
            while next_sync <= t {
                seen.clone_from(&hosts);
                next_sync += sync;
            }
            let h = (fingerprint(&i.to_le_bytes()) % hosts_n as u64) as usize;
            let others = seen
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != h)
                .filter_map(|(_, r)| *r)
                .reduce(|a, b| merge_identity(Fades::DEFAULT, &a, &b));
            let local = hosts[h];
            let mut stored = update(local.as_ref(), t);
            let after = match others {
                Some(o) => {
                    let judged = view::judged(Table::Identity, Fades::DEFAULT, local.as_ref(), &o);
                    let after = update(Some(&judged), t);
                    carry(
                        Some(Table::Identity),
                        local.as_ref(),
                        &mut stored,
                        Some(&judged),
                        &after,
                    );
                    after
                }
                None => stored,
            };
            hosts[h] = Some(stored);
            let one = single.unwrap_or(Record::fresh(9, t)).observe(t, false);
            single = Some(one);
            // Mean regularity once the cadence counts (12 requests).
            if i >= 12 {
                fleet += Record::decode(&after).features(t, 0.0).regularity / 288.0;
                alone += one.features(t, 0.0).regularity / 288.0;
            }
        }
        (fleet, alone)
    };
    let (fleet, alone) = regularity(&|_| 90);
    assert!(
        alone > 0.99 && fleet > 0.8,
        "clockwork: fleet {fleet}, one host {alone}"
    );
    // Sessions: mostly 20 s to 1 min between requests, an hour or two
    // between sessions (one in five).
    let person = |i: u64| {
        let r = fingerprint(&(i * 7 + 1).to_le_bytes());
        if r % 5 == 0 {
            3_600 + r % 3_600
        } else {
            20 + r % 40
        }
    };
    let (fleet, alone) = regularity(&person);
    assert!(
        alone < 0.25 && fleet < 0.25,
        "a person: fleet {fleet}, one host {alone}"
    );
}
