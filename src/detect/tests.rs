//! Tests of [`Detector::assess`] as a whole: the shared-data call budget,
//! store failures, disabled detection.

use super::slots::IDENTITY_TABLE;
use super::*;
use crate::api::{Api, Endpoint, GenParams, Provider, RequestView, Role, Turn};
use crate::clock::ManualClock;
use crate::hash::fingerprint;
use crate::host::Host;
use crate::metrics::{Counter, MemoryMetrics};
use crate::store::counters::slot_key;
use crate::store::{MemoryStore, SharedStore, StoreError, Versioned};
use std::cell::Cell;
use wasm_bindgen_test::wasm_bindgen_test;

/// Counts host calls, and the `get`s of identity records apart.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    calls: Cell<usize>,
    identity_gets: Cell<usize>,
}
impl SharedStore for Counting {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.calls.set(self.calls.get() + 1);
        self.identity_gets
            .set(self.identity_gets.get() + usize::from(key.contains(":id5:")));
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
        kind: crate::identity::IdentityKind::Credential,
        client_ip: Some(std::net::IpAddr::from([198, 51, 100, (n % 200) as u8])),
        tls_fingerprint: None,
        user_agent: None,
        organization: None,
    }
}

fn view(text: &str) -> RequestView {
    RequestView {
        api: Api {
            provider: Provider::OpenAi,
            endpoint: Endpoint::ChatCompletions,
        },
        model: None,
        system: "You are a helpful assistant.".into(),
        turns: vec![Turn {
            role: Some(Role::User),
            text: text.into(),
            ..Turn::default()
        }],
        params: GenParams::default(),
        truncated: false,
    }
}

/// One request of `id` at `now`, against `store`, counting into `metrics`.
fn assess(
    d: &Detector,
    store: &dyn SharedStore,
    metrics: &MemoryMetrics,
    id: &Identity,
    view: Option<&RequestView>,
    now: f64,
) -> Assessment {
    let clock = ManualClock::new(now);
    let host = Host {
        store,
        clock: &clock,
        metrics,
    };
    let meta = RequestMeta::default();
    let obs = Observation {
        identity: id,
        view,
        meta: &meta,
        now,
    };
    d.assess(&obs, &host)
}

#[wasm_bindgen_test(unsupported = test)]
fn at_most_eight_shared_data_calls_per_request() {
    let (store, metrics) = (Counting::default(), MemoryMetrics::default());
    let d = Detector::with_namespace(config::DetectionSettings::default(), "t");
    for i in 0..50u64 {
        let before = store.calls.get();
        let v = view(&format!(
            "Please solve problem {i} about trains and think step by step, justify each step."
        ));
        assess(&d, &store, &metrics, &identity(i), Some(&v), 1.0e9 + i as f64);
        assert!(store.calls.get() - before <= 8, "{} calls", store.calls.get() - before);
    }
    // Unparsed body, unknown address: the identity slot only.
    let before = store.calls.get();
    let id = Identity {
        client_ip: None,
        ..identity(1)
    };
    assess(&d, &store, &metrics, &id, None, 1.0e9);
    assert_eq!(store.calls.get() - before, 2);
    assert_eq!(metrics.snapshot(), vec![]);
}

/// An identity the upstream has accepted stays accepted, so the answer to
/// its next request needs no read (issue 8); a first request's 2xx and any
/// 401 are still recorded.
#[wasm_bindgen_test(unsupported = test)]
fn an_accepted_identitys_answer_reads_nothing() {
    let (store, metrics) = (Counting::default(), MemoryMetrics::default());
    let d = Detector::with_namespace(config::DetectionSettings::default(), "t");
    let id = identity(7);
    let v = view("How do I rotate an API key without downtime?");
    let answer = |a: &Assessment, status: u16, now: f64| {
        let clock = ManualClock::new(now);
        let host = Host {
            store: &store,
            clock: &clock,
            metrics: &metrics,
        };
        let before = store.calls.get();
        d.upstream_status(&id, a.charge, status, now, &host);
        store.calls.get() - before
    };
    let first = assess(&d, &store, &metrics, &id, Some(&v), 1.0e9);
    assert!(!first.charge.accepted);
    // Read, then written: the identity is accepted now.
    assert_eq!(answer(&first, 200, 1.0e9), 2);
    let second = assess(&d, &store, &metrics, &id, Some(&v), 1.0e9 + 60.0);
    assert!(second.charge.accepted);
    assert_eq!(answer(&second, 200, 1.0e9 + 60.0), 0);
    // A refusal is still read (and, acceptance being sticky, not written).
    assert_eq!(answer(&second, 401, 1.0e9 + 60.0), 1);
}

/// An identity whose first place another holds lives in its second: the
/// answer reads it there first, one `get` and one `set` for its status and
/// for its tokens each, where it read the other's first place before
/// (issue 8). Moved on since the decision, it is looked for as before.
#[wasm_bindgen_test(unsupported = test)]
fn an_identity_in_its_second_place_is_read_there_at_the_answer() {
    let (store, metrics) = (Counting::default(), MemoryMetrics::default());
    let s = config::DetectionSettings {
        identity_slots: 8,
        ..config::DetectionSettings::default()
    };
    let d = Detector::with_namespace(s, "t");
    let key = d.settings().slot_key;
    let at = |n: u64, choice| super::slots::place(key, IDENTITY_TABLE, 8, identity(n).hash, choice);
    // B's first place is A's, its second another slot.
    let b = (2..1_000u64)
        .find(|&n| at(n, 0) == at(1, 0) && at(n, 1) != at(1, 0))
        .unwrap();
    let (a, b) = (identity(1), identity(b));
    let v = view("How do I rotate an API key without downtime?");
    // Shared-data calls, and the `get`s of identity records among them.
    let calls = |f: &dyn Fn(&Host<'_>)| {
        let clock = ManualClock::new(1.0e9);
        let host = Host {
            store: &store,
            clock: &clock,
            metrics: &metrics,
        };
        let before = (store.calls.get(), store.identity_gets.get());
        f(&host);
        (store.calls.get() - before.0, store.identity_gets.get() - before.1)
    };
    let first = assess(&d, &store, &metrics, &a, Some(&v), 1.0e9);
    calls(&|h| d.upstream_status(&a, first.charge, 200, 1.0e9, h));
    // A, recent and accepted, keeps its place: B takes its second.
    let bs = assess(&d, &store, &metrics, &b, Some(&v), 1.0e9 + 1.0);
    assert_eq!(bs.charge.place, 1);
    assert_eq!(
        calls(&|h| d.upstream_status(&b, bs.charge, 200, 1.0e9 + 1.0, h)),
        (2, 1)
    );
    // The answer: the identity's get and set, then its cluster's.
    assert_eq!(calls(&|h| d.answered(&b, bs.charge, 500, 1.0e9 + 2.0, h)).1, 1);
    // Both landed in B's own record: its next request is accepted and
    // carries the tokens.
    let next = assess(&d, &store, &metrics, &b, Some(&v), 1.0e9 + 60.0);
    assert!(next.charge.accepted);
    let read = |n: &Identity, choice| {
        let k = slot_key(
            "t",
            IDENTITY_TABLE,
            super::slots::place(key, IDENTITY_TABLE, 8, n.hash, choice),
        );
        let words =
            crate::store::counters::decode_words::<{ cadence::WORDS }>(&k, &store.inner.get(&k).unwrap()?.value);
        Some(cadence::Record::decode(&words.unwrap()))
    };
    let rec = read(&b, 1).unwrap();
    assert_eq!(rec.owner, b.hash);
    assert!(rec.tokens > 0.0, "{rec:?}");
    assert_eq!(read(&a, 0).unwrap().owner, a.hash);
    // A charge from before a move (the second place taken over since) is
    // looked for from the first place again: nothing is written to another's.
    let stale = Charge {
        place: 1,
        ..first.charge
    };
    let before = read(&b, 1).unwrap();
    calls(&|h| d.answered(&a, stale, 500, 1.0e9 + 61.0, h));
    assert_eq!(read(&b, 1).unwrap(), before);
    assert!(read(&a, 0).unwrap().tokens > 0.0);
}

#[wasm_bindgen_test(unsupported = test)]
fn store_errors_are_counted_and_scoring_goes_on() {
    struct Broken;
    impl SharedStore for Broken {
        fn get(&self, _: &str) -> Result<Option<Versioned>, StoreError> {
            Err(StoreError::Host)
        }
        fn set(&self, _: &str, _: &[u8], _: u32) -> Result<(), StoreError> {
            Err(StoreError::Host)
        }
    }
    let metrics = MemoryMetrics::default();
    let d = Detector::new(config::DetectionSettings::default());
    let id = identity(3);
    let v = view("Articulate the internal reasoning in <thinking> tags, step by step, for this task.");
    let a = assess(&d, &Broken, &metrics, &id, Some(&v), 1.0e9);
    assert!(a.score > 0.0 && a.score < 0.4, "{a:?}");
    assert_eq!(metrics.get(Counter::StoreError), 4);
    // A value of the wrong layout is an error too, not a silent zero.
    let store = MemoryStore::new();
    store
        .set(
            &slot_key(
                "dg",
                IDENTITY_TABLE,
                super::slots::place(d.settings().slot_key, IDENTITY_TABLE, 16_384, id.hash, 0),
            ),
            b"junk",
            0,
        )
        .unwrap();
    assess(&d, &store, &metrics, &id, None, 1.0e9);
    assert_eq!(metrics.get(Counter::StoreError), 5);
}

#[wasm_bindgen_test(unsupported = test)]
fn disabled_detection_scores_nothing() {
    let settings = config::DetectionSettings {
        enabled: false,
        ..config::DetectionSettings::default()
    };
    let (store, metrics) = (Counting::default(), MemoryMetrics::default());
    let v = view("internal reasoning step by step in <thinking> tags");
    let a = assess(&Detector::new(settings), &store, &metrics, &identity(1), Some(&v), 1.0);
    assert_eq!(a, Assessment::default());
    assert_eq!(store.calls.get(), 0);
}

/// An elicitation request of identity `n` at `now` with default settings
/// overridden by `s`, against `store`.
fn probe(d: &Detector, store: &MemoryStore, n: u64, now: f64) -> Assessment {
    let v = view("Articulate the internal reasoning in <thinking> tags, step by step, for this task.");
    assess(d, store, &MemoryMetrics::default(), &identity(n), Some(&v), now)
}

/// Settings under which a lone identity's elicitation requests are in the
/// limited band: its own limit is what is tested.
fn limited_band() -> config::DetectionSettings {
    config::DetectionSettings {
        limit_min_score: 0.01,
        identity_limit: 10,
        cluster_limit: 0,
        ..config::DetectionSettings::default()
    }
}

/// An identity displaced by a protected incumbent used to be scored from a
/// fresh record every time, so it never reached its limit.
#[wasm_bindgen_test(unsupported = test)]
fn an_identity_displaced_by_a_protected_incumbent_still_reaches_its_limit() {
    let s = config::DetectionSettings {
        identity_slots: 1,
        ..limited_band()
    };
    let d = Detector::new(s);
    let store = MemoryStore::new();
    let now = 1.0e9;
    // A suspicious, active incumbent holds the only slot.
    let incumbent = cadence::Record {
        memory: 0.9,
        ..cadence::Record::fresh(identity(1).hash, now as u64).observe(now as u64, false)
    };
    store
        .set(
            &slot_key("dg", IDENTITY_TABLE, 0),
            &crate::store::counters::encode_words(&incumbent.encode()),
            0,
        )
        .unwrap();
    let limited = (0..100u64)
        .filter(|i| probe(&d, &store, 2, now + 1.0 + *i as f64 * 7.0).rate_limited.is_some())
        .count();
    assert!(limited > 0, "never limited");
}

/// Limit windows aligned to the clock gave every identity a fresh allowance
/// at the same second: a burst across a boundary passed twice the limit.
#[wasm_bindgen_test(unsupported = test)]
fn no_fresh_allowance_across_a_window_boundary() {
    let d = Detector::new(limited_band());
    let store = MemoryStore::new();
    let boundary = 1_000_000_200.0; // a multiple of 600
                                    // 7 s apart, from 100 s before a boundary to 100 s after it.
    let served = (0..29u64)
        .filter(|i| {
            probe(&d, &store, 5, boundary - 100.0 + *i as f64 * 7.0)
                .rate_limited
                .is_none()
        })
        .count();
    // The score here allows 7 requests per 600 s: 7 at once, then about
    // one per 86 s, so at most 10 in these 200 s (14 with aligned windows).
    assert!(served <= 10, "{served} served within 200 s");
}

/// Two identities throttled at different times are not released at the
/// same second.
#[wasm_bindgen_test(unsupported = test)]
fn throttled_identities_are_not_released_in_step() {
    let d = Detector::new(limited_band());
    let store = MemoryStore::new();
    let release = |n: u64, start: f64| {
        (0..40u64)
            .find_map(|i| {
                let now = start + i as f64 * 7.0;
                probe(&d, &store, n, now)
                    .rate_limited
                    .map(|l| now + l.retry_after_secs as f64)
            })
            .expect("limited")
    };
    let (a, b) = (release(11, 1_000_000_210.0), release(12, 1_000_000_410.0));
    assert!((a - b).abs() > 60.0, "released at {a} and {b}");
}

/// A newcomer whose two places are both held by identities that would
/// yield takes the place of the one with less history: a fresh-identity
/// flood used to take the first place whenever its incumbent yielded, so a
/// campaign account idle for a few minutes (its recent-request count faded
/// below one) lost its record (cadence, memory) to a one-off token while a
/// one-off held the other place (found while looking into the `chinese`
/// campaign served 2.9% under a million fresh identities at 97d13d9; see
/// docs/benchmarks.md).
#[wasm_bindgen_test(unsupported = test)]
fn a_newcomer_displaces_a_one_off_before_an_identity_with_history() {
    let s = config::DetectionSettings {
        identity_slots: 64,
        ..config::DetectionSettings::default()
    };
    let d = Detector::new(s.clone());
    let store = MemoryStore::new();
    let now = 1.0e9 as u64;
    let place = |n: u64, choice: u8| super::slots::place(s.slot_key, IDENTITY_TABLE, 64, identity(n).hash, choice);
    let put = |slot: u64, r: cadence::Record| {
        store
            .set(
                &slot_key("dg", IDENTITY_TABLE, slot),
                &crate::store::counters::encode_words(&r.encode()),
                0,
            )
            .unwrap();
    };
    // An account with history (twelve requests, the last 30 minutes ago)
    // and a one-off token seen as long ago, in the newcomer's two places.
    let newcomer = (100..10_000u64)
        .find(|&n| place(n, 0) != place(n, 1) && place(n, 0) != place(1, 1))
        .unwrap();
    let (first, second) = (place(newcomer, 0), place(newcomer, 1));
    let mut account = cadence::Record::fresh(identity(1).hash, now - 20_000);
    for k in 0..12u64 {
        account = account.observe(now - 20_000 + k * 1_500, false);
    }
    assert!(account.yields_to(identity(newcomer).hash, now, 3_600.0, 600.0));
    put(first, account);
    let one_off = cadence::Record::fresh(identity(2).hash, now - 1_800).observe(now - 1_800, false);
    put(second, one_off);
    let v = view("What is a good name for a golden retriever puppy?");
    assess(
        &d,
        &store,
        &MemoryMetrics::default(),
        &identity(newcomer),
        Some(&v),
        now as f64,
    );
    let owner = |slot: u64| {
        let bytes = store.get(&slot_key("dg", IDENTITY_TABLE, slot)).unwrap().unwrap().value;
        cadence::Record::decode(&crate::store::counters::decode_words::<{ cadence::WORDS }>("k", &bytes).unwrap()).owner
    };
    assert_eq!(owner(first), identity(1).hash, "the account with history was displaced");
    assert_eq!(owner(second), identity(newcomer).hash);
}

/// The eviction flood at table scale (issue 10): an account that has
/// shown some suspicion (remembered score 0.2, under the protection of
/// `PROTECT_SCORE`) and is idle for an hour keeps both of a newcomer's
/// places against a newcomer whose request carries no evidence (the flood's
/// harmless text from accepted keys), and yields to one that asks for a
/// long output. Before, an idle account yielded to anyone: under 2,048
/// flood keys on 1,024 slots a campaign's accounts came back with fresh
/// records (no cadence, no memory, no cool-down) again and again.
#[wasm_bindgen_test(unsupported = test)]
fn an_idle_suspicious_account_keeps_its_place_against_harmless_newcomers() {
    let s = config::DetectionSettings {
        identity_slots: 64,
        ..config::DetectionSettings::default()
    };
    let d = Detector::new(s.clone());
    let now = 1.0e9 as u64;
    let place = |n: u64, choice: u8| super::slots::place(s.slot_key, IDENTITY_TABLE, 64, identity(n).hash, choice);
    let newcomer = (100..10_000u64)
        .find(|&n| place(n, 0) != place(n, 1) && place(n, 0) != place(1, 0) && place(n, 1) != place(1, 0))
        .unwrap();
    let (first, second) = (place(newcomer, 0), place(newcomer, 1));
    let held = |store: &MemoryStore| {
        for (slot, owner) in [(first, 1u64), (second, 2u64)] {
            let mut r = cadence::Record::fresh(identity(owner).hash, now - 20_000);
            for k in 0..12u64 {
                r = r.observe(now - 20_000 + k * 1_500, false);
            }
            r.memory = 0.2;
            store
                .set(
                    &slot_key("dg", IDENTITY_TABLE, slot),
                    &crate::store::counters::encode_words(&r.encode()),
                    0,
                )
                .unwrap();
        }
    };
    let owner = |store: &MemoryStore, slot: u64| {
        let bytes = store.get(&slot_key("dg", IDENTITY_TABLE, slot)).unwrap().unwrap().value;
        cadence::Record::decode(&crate::store::counters::decode_words::<{ cadence::WORDS }>("k", &bytes).unwrap()).owner
    };
    let harmless = MemoryStore::new();
    held(&harmless);
    let v = view("What is a good name for a golden retriever puppy?");
    let a = assess(
        &d,
        &harmless,
        &MemoryMetrics::default(),
        &identity(newcomer),
        Some(&v),
        now as f64,
    );
    assert_eq!(
        owner(&harmless, first),
        identity(1).hash,
        "an idle account lost its place"
    );
    assert_eq!(
        owner(&harmless, second),
        identity(2).hash,
        "an idle account lost its place"
    );
    assert!(a.score < 0.4);
    let evidence = MemoryStore::new();
    held(&evidence);
    let mut long = view("Write a complete essay on the history of the golden retriever breed.");
    long.params.max_output_tokens = Some(16_000);
    assess(
        &d,
        &evidence,
        &MemoryMetrics::default(),
        &identity(newcomer),
        Some(&long),
        now as f64,
    );
    let newcomer_hash = identity(newcomer).hash;
    assert!(
        owner(&evidence, first) == newcomer_hash || owner(&evidence, second) == newcomer_hash,
        "a newcomer with evidence found no place"
    );
}

/// Denials that stick (issue 7): an identity denied by its limit stays
/// denied for a cool-down, past the moment the limit alone would let it
/// through; `Retry-After` is the cool-down's end, where it is served; a
/// second denial soon after waits twice as long. Without cool-downs it was
/// served again as soon as the decayed count allowed.
#[wasm_bindgen_test(unsupported = test)]
fn a_denied_identity_stays_denied_for_a_cooldown_that_grows() {
    let off = config::DetectionSettings {
        cooldown: cooldown::Policy {
            base_secs: 0,
            ..limited_band().cooldown
        },
        ..limited_band()
    };
    // Requests 1 s apart until one is limited: (when, its wait).
    let first_denial = |d: &Detector, store: &MemoryStore, start: f64| {
        (0..200u64)
            .find_map(|i| {
                let now = start + i as f64;
                probe(d, store, 21, now).rate_limited.map(|l| (now, l))
            })
            .expect("limited")
    };
    let t0 = 1_000_000_000.0;
    let (store, d) = (MemoryStore::new(), Detector::new(off));
    let (t, limit) = first_denial(&d, &store, t0);
    assert!(limit.retry_after_secs < 600, "{limit:?}");
    let back = t + limit.retry_after_secs as f64;
    assert_eq!(
        probe(&d, &store, 21, back).rate_limited,
        None,
        "served again after the limit's wait"
    );

    let (store, d) = (MemoryStore::new(), Detector::new(limited_band()));
    let (t, first) = first_denial(&d, &store, t0);
    assert_eq!(first.reason, IDENTITY_RATE_LIMIT);
    assert_eq!(first.retry_after_secs, 600, "the cool-down is the wait");
    let held = probe(&d, &store, 21, back).rate_limited.expect("still denied");
    assert_eq!(held.reason, DENIAL_COOLDOWN);
    assert_eq!(
        held.retry_after_secs as f64,
        t + 600.0 - back,
        "Retry-After: the cool-down's end"
    );
    assert!(probe(&d, &store, 21, t + 599.0).rate_limited.is_some());
    assert_eq!(
        probe(&d, &store, 21, t + 600.0).rate_limited,
        None,
        "served at Retry-After"
    );
    // Denied again soon after: twice as long.
    let (_, second) = first_denial(&d, &store, t + 601.0);
    assert_eq!(second.retry_after_secs, 1_200);
}

/// A cool-down holds only while the identity is still suspicious: one whose
/// requests fall below the limited band is served at once (a real customer
/// denied once recovers), and its strikes fade.
#[wasm_bindgen_test(unsupported = test)]
fn an_identity_that_stops_looking_suspicious_is_not_held_by_its_cooldown() {
    let s = config::DetectionSettings {
        limit_min_score: 0.05,
        ..limited_band()
    };
    let (store, d) = (MemoryStore::new(), Detector::new(s));
    let t0 = 1_000_000_000.0;
    let t = (0..200u64)
        .map(|i| t0 + i as f64)
        .find(|now| probe(&d, &store, 22, *now).rate_limited.is_some())
        .expect("limited");
    let plain = view("What is a good name for a grey kitten?");
    let a = assess(
        &d,
        &store,
        &MemoryMetrics::default(),
        &identity(22),
        Some(&plain),
        t + 120.0,
    );
    assert!(a.score < 0.05, "{a:?}");
    assert_eq!(a.rate_limited, None, "{a:?}");
}

/// Output tokens read from the upstream's answers to identity `n`.
fn answered(d: &Detector, store: &MemoryStore, n: u64, tokens: u64, now: f64) {
    let (clock, metrics) = (ManualClock::new(now), MemoryMetrics::default());
    let host = Host {
        store,
        clock: &clock,
        metrics: &metrics,
    };
    d.answered(&identity(n), Charge::default(), tokens, now, &host);
}

/// A detector whose only limit is the identity's token budget of `tokens`,
/// with a lone elicitation request in the limited band.
fn token_budget_of(tokens: u64) -> Detector {
    Detector::new(config::DetectionSettings {
        identity_limit: 0,
        token_limit: tokens,
        ..limited_band()
    })
}

/// A suspicious identity that has received its token budget is limited
/// (429 with `identity_token_limit`) until its decayed token count is back
/// under the budget, however few requests it sent; its `Retry-After` is
/// when that happens. Tokens of an unsuspicious identity limit nothing.
#[wasm_bindgen_test(unsupported = test)]
fn token_budget_limits_a_suspicious_identity_until_its_tokens_fade() {
    let d = token_budget_of(10_000);
    let store = MemoryStore::new();
    let now = 1.0e9;
    assert_eq!(probe(&d, &store, 7, now).rate_limited, None);
    answered(&d, &store, 7, 40_000, now + 1.0);
    let limited = probe(&d, &store, 7, now + 2.0)
        .rate_limited
        .expect("limited by its tokens");
    assert_eq!(limited.reason, TOKEN_LIMIT);
    let later = now + 2.0 + limited.retry_after_secs as f64;
    assert_eq!(
        probe(&d, &store, 7, later).rate_limited,
        None,
        "still limited after Retry-After"
    );
    assert!(probe(&d, &store, 7, later - 30.0).rate_limited.is_some());
    // Another identity is not charged with these tokens.
    assert_eq!(probe(&d, &store, 8, now + 3.0).rate_limited, None);

    // Below `limit_min_score` no budget applies.
    let calm = Detector::new(config::DetectionSettings {
        token_limit: 10,
        limit_min_score: 1.0,
        ..config::DetectionSettings::default()
    });
    let store = MemoryStore::new();
    assert_eq!(probe(&calm, &store, 9, now).rate_limited, None);
    answered(&calm, &store, 9, 1_000_000, now + 1.0);
    assert_eq!(probe(&calm, &store, 9, now + 2.0).rate_limited, None);
}

/// Answers without a record (never seen, or a guest) change nothing and
/// cost at most the reads.
#[wasm_bindgen_test(unsupported = test)]
fn tokens_of_an_unknown_identity_write_nothing() {
    let d = Detector::new(limited_band());
    let store = MemoryStore::new();
    answered(&d, &store, 42, 5_000, 1.0e9);
    assert_eq!(store.len(), 0);
}

/// The output tokens of an identity's answers count in the template
/// cluster its request was judged in (`Assessment::charge`): another
/// identity sending the same template meets the cluster's token budget
/// (`cluster_token_limit`) although it received nothing itself.
#[wasm_bindgen_test(unsupported = test)]
fn a_clusters_tokens_count_across_its_identities() {
    let d = Detector::new(config::DetectionSettings {
        identity_limit: 0,
        token_limit: 0,
        cluster_token_limit: 10_000,
        ..limited_band()
    });
    let store = MemoryStore::new();
    let now = 1.0e9;
    let (clock, metrics) = (ManualClock::new(now), MemoryMetrics::default());
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    // Identity 7's first request counts in its cluster once answered 2xx.
    let first = probe(&d, &store, 7, now);
    assert_eq!(first.rate_limited, None);
    d.count_deferred(&identity(7), first.deferred, 200, &host);
    let a = probe(&d, &store, 7, now + 1.0);
    assert_eq!(a.rate_limited, None);
    assert_ne!(a.charge, Charge::default());
    d.answered(&identity(7), a.charge, 40_000, now + 2.0, &host);
    let limited = probe(&d, &store, 8, now + 3.0)
        .rate_limited
        .expect("limited by its cluster's tokens");
    assert_eq!(limited.reason, CLUSTER_TOKEN_LIMIT);
    // The same tokens charged to the identity alone leave the cluster free.
    let store = MemoryStore::new();
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let first = probe(&d, &store, 7, now);
    d.count_deferred(&identity(7), first.deferred, 200, &host);
    probe(&d, &store, 7, now + 1.0);
    d.answered(&identity(7), Charge::default(), 40_000, now + 2.0, &host);
    assert_eq!(probe(&d, &store, 8, now + 3.0).rate_limited, None);
}

/// An agent's call (carrying tool results, or offering tools) meets no
/// token budget: a coding agent's user whose first answer was long is not
/// denied its next calls; the same identity's plain one-shot requests are.
#[wasm_bindgen_test(unsupported = test)]
fn tool_loop_steps_meet_no_token_budget() {
    let d = token_budget_of(10_000);
    let store = MemoryStore::new();
    let now = 1.0e9;
    let mut step = view("Articulate the internal reasoning in <thinking> tags, step by step, for this task.");
    step.turns.push(Turn {
        role: Some(Role::Assistant),
        text: "Calling the tool.".into(),
        ..Turn::default()
    });
    step.turns.push(Turn {
        role: Some(Role::Tool),
        text: "exit code 0".into(),
        ..Turn::default()
    });
    let metrics = MemoryMetrics::default();
    assert_eq!(probe(&d, &store, 7, now).rate_limited, None);
    answered(&d, &store, 7, 40_000, now + 1.0);
    let a = assess(&d, &store, &metrics, &identity(7), Some(&step), now + 2.0);
    assert!(a.score >= 0.01 && a.rate_limited.is_none(), "{a:?}");
    // A task's first call offers the tools without any result yet.
    let mut start = view("Articulate the internal reasoning in <thinking> tags, step by step, for this task.");
    start.params.tools = 4;
    let a = assess(&d, &store, &metrics, &identity(7), Some(&start), now + 2.5);
    assert!(a.score >= 0.01 && a.rate_limited.is_none(), "{a:?}");
    assert_eq!(
        probe(&d, &store, 7, now + 3.0).rate_limited.map(|l| l.reason),
        Some(TOKEN_LIMIT)
    );
}

/// The cluster limit's own part (issue 10) compares an identity's requests
/// with an account's. A request that names an organisation counts in
/// clusters as that organisation, so its key's own requests are not its
/// account's part: it is charged the cluster's whole count (as before the
/// own part), not a key's share of it. The same request without an
/// organisation, from a key that has sent as little, is charged its small
/// part and served.
#[wasm_bindgen_test(unsupported = test)]
fn an_organisation_key_is_charged_the_whole_cluster_count() {
    const WORDS: [&str; 12] = [
        "apple", "river", "engine", "market", "garden", "signal", "ladder", "copper", "winter", "planet", "harbor",
        "violet",
    ];
    let d = Detector::new(config::DetectionSettings::default());
    let (store, metrics) = (MemoryStore::new(), MemoryMetrics::default());
    let t0 = 1.0e9;
    let text = |k: u64| {
        let w = |i: u64| WORDS[((k / 12u64.pow(i as u32)) % 12) as usize];
        format!(
            "Explain your reasoning process step by step, then solve this problem for the class: {} {} {} {}",
            w(0),
            w(1),
            w(2),
            w(3)
        )
    };
    // Thirty accounts, twenty requests each over ten minutes.
    for k in 0..600u64 {
        let v = view(&text(k));
        assess(&d, &store, &metrics, &identity(k % 30), Some(&v), t0 + k as f64);
    }
    let newcomer = |org: Option<u64>| Identity {
        client_ip: Some(std::net::IpAddr::from([203, 0, 113, 7])),
        organization: org,
        ..identity(10_000 + org.unwrap_or(0))
    };
    let v = view(&text(20_000));
    let plain = assess(&d, &store, &metrics, &newcomer(None), Some(&v), t0 + 601.0);
    assert!((0.4..0.7).contains(&plain.score), "{plain:?}");
    assert_eq!(plain.rate_limited, None, "{plain:?}");
    let named = assess(&d, &store, &metrics, &newcomer(Some(77)), Some(&v), t0 + 602.0);
    assert!((0.4..0.7).contains(&named.score), "{named:?}");
    assert_eq!(
        named.rate_limited.map(|l| l.reason),
        Some(CLUSTER_RATE_LIMIT),
        "{named:?}"
    );
}
