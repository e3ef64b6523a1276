//! Detection: turns one request, its identity and the shared counters into a
//! suspicion score with reason codes, and applies dynamic limits.
//!
//! Files: `normalize` (tokens), `template` (skeleton and SimHash
//! fingerprints), `instruction` (which clusters a request joins: user-turn
//! skeletons, or the system prompt when it carries the instructions),
//! `elicitation` (phrases), `params` (extraction-shaped
//! parameters), `hll` (cardinality sketch), `cadence` (per-identity slot),
//! `correlate` (cluster slots across accounts), `score` (combination and
//! reason codes), `sync` (synchronised rounds across a template's accounts),
//! `limits` (dynamic limits), `config`.
//!
//! Shared-data cost per request: one read-modify-write (a `get` and a `set`)
//! for each of the template prefix slot, the template suffix slot, the
//! address-block slot and the identity slot: at most 8 calls without cas
//! contention, fewer when the body has no user text or the client address is
//! unknown.

pub mod cadence;
pub mod config;
pub mod correlate;
pub mod elicitation;
pub mod hll;
pub mod instruction;
pub mod limits;
pub mod normalize;
pub mod params;
pub mod score;
pub mod sync;
pub mod template;

use crate::api::RequestView;
use crate::hash::fingerprint;
use crate::host::Host;
use crate::identity::Identity;
use crate::metrics::Counter;
use crate::request::RequestMeta;
use crate::store::counters::{cas_update, decode_words, encode_words, slot_key, UpdateError};
use crate::verdict::ReasonCode;

pub use score::ALL_REASONS;

/// Everything detection may look at for one request.
pub struct Observation<'a> {
    pub identity: &'a Identity,
    /// `None` when the body could not be parsed.
    pub view: Option<&'a RequestView>,
    pub meta: &'a RequestMeta,
    /// Seconds since the epoch (the host clock, or the trace's timestamp).
    pub now: f64,
}

/// Detection's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assessment {
    /// Suspicion in [0, 1].
    pub score: f64,
    /// Most important first.
    pub reasons: Vec<ReasonCode>,
    /// `Some(retry_after_secs)` when a (dynamic) rate limit is exceeded.
    pub rate_limited: Option<u64>,
}

/// Stateless between requests: all state lives in the shared store.
pub struct Detector {
    settings: config::DetectionSettings,
}

/// Table names in shared-data keys (`<ns>:v1:<kind>:<slot>`). The suffix is
/// the record layout: Envoy keeps shared data across module reloads, and a
/// value of an older layout would fail to decode on every request, so a
/// layout change takes new keys (`2`: long-output and synchronisation
/// counters).
const TEMPLATE_TABLE: &str = "tpl2";
const NETWORK_TABLE: &str = "net2";
const IDENTITY_TABLE: &str = "id2";

impl Detector {
    /// Keys go under `settings.namespace` (the engine copies
    /// `shared_data.namespace` there).
    pub fn new(settings: config::DetectionSettings) -> Detector {
        Detector { settings }
    }

    /// The same, with the shared-data namespace given explicitly.
    pub fn with_namespace(mut settings: config::DetectionSettings, namespace: &str) -> Detector {
        settings.namespace = namespace.to_owned();
        Detector { settings }
    }

    pub fn settings(&self) -> &config::DetectionSettings {
        &self.settings
    }

    pub fn assess(&self, obs: &Observation<'_>, host: &Host<'_>) -> Assessment {
        let s = &self.settings;
        if !s.enabled {
            return Assessment::default();
        }
        let now = if obs.now.is_finite() && obs.now > 0.0 {
            obs.now as u64
        } else {
            0
        };
        let id = obs.identity.hash;

        // Content: work proportional to the inspected body.
        let (mut elicit, mut extract, mut owners, mut long) = (0.0, 0.0, None, false);
        if let Some(view) = obs.view {
            let user = view.last_user_text();
            let system_elicit = elicitation::elicitation(&[&view.system], &s.extra_phrases);
            let user_elicit = elicitation::elicitation(&[user], &s.extra_phrases);
            elicit = 1.0 - (1.0 - system_elicit) * (1.0 - user_elicit);
            extract = params::extraction(&view.params, s.long_output_tokens);
            long = view.params.max_output_tokens.is_some_and(|m| m >= s.long_output_tokens);
            let tokens = normalize::token_hashes(user);
            let instructing = (system_elicit >= instruction::SYSTEM_ELICITATION_MIN)
                .then(|| system_fingerprint(view))
                .flatten();
            owners = instruction::owners(
                &tokens,
                template::keys(&tokens, s.skeleton_tokens).as_ref(),
                instructing,
            );
        }

        let block = obs.identity.client_ip.map(correlate::address_block);
        // Across accounts: the better-shared of the two skeletons.
        let mut share = 0.0;
        let mut cluster: Option<correlate::ClusterView> = None;
        // Harvest and rounds from either skeleton: one of them may be mixed
        // with other traffic (a seed item's ending is also a benchmark's).
        let (mut harvest, mut sync) = (0.0f64, 0.0f64);
        if let Some(o) = &owners {
            for owner in o.keys.into_iter().flatten() {
                let v = self.touch(
                    host,
                    TEMPLATE_TABLE,
                    s.template_slots,
                    owner,
                    id,
                    (Some(o.text), block, long),
                    now,
                );
                let sh = score::share(
                    v.accounts,
                    v.texts,
                    v.requests,
                    s.share_min_accounts,
                    s.share_full_accounts,
                );
                if v.tracked && v.accounts >= s.share_min_accounts as f64 {
                    harvest = harvest.max(score::harvest(v.long_requests, v.texts, v.requests));
                    sync = sync.max(sync::strength(v.synced_requests, v.requests, 50.0));
                }
                if v.tracked && (cluster.is_none() || sh > share) {
                    share = sh;
                    cluster = Some(v);
                }
            }
        }
        let concentration = cluster.map_or(0.0, |c| {
            score::concentration(c.accounts, c.blocks, s.share_min_accounts)
        });

        let infra = block
            .map(|b| self.touch(host, NETWORK_TABLE, s.network_slots, b, id, (None, None, false), now))
            .map_or(0.0, |v| score::infra(v.accounts, s.infra_full_accounts));

        // The identity's slot: cadence, score memory and its own limit, in
        // one read-modify-write.
        let key = slot_key(&s.namespace, IDENTITY_TABLE, id % s.identity_slots.max(1));
        let mut out = Assessment::default();
        let mut limit_state = (0u64, now);
        let result = cas_update(host.store, &key, |cur| {
            let stored = match cur {
                Some(bytes) => Some(cadence::Record::decode(&decode_words::<{ cadence::WORDS }>(
                    &key, bytes,
                )?)),
                None => None,
            };
            let (base, keep) = match stored {
                Some(r) if r.owner == id => (r, true),
                Some(r) if !r.yields_to(id, now) => (cadence::Record::fresh(id, now), false),
                _ => (cadence::Record::fresh(id, now), true),
            };
            let mut rec = base.observe(now, long);
            let features = rec.features(now, base.memory);
            let signals = score::Signals {
                share,
                elicitation: elicit,
                extraction: extract,
                cadence: features,
                infra,
                concentration,
                sync,
                harvest,
            };
            let (raw, mut reasons) = score::combine(&signals);
            let final_score = score::with_memory(raw, &mut reasons, base.memory);
            rec.memory = score::remember(base.memory, raw);
            let limit_start = now - now % s.limit_window_secs.max(1);
            rec.limit_count = if rec.limit_start == limit_start {
                rec.limit_count.saturating_add(1)
            } else {
                1
            };
            rec.limit_start = limit_start;
            limit_state = (rec.limit_count, limit_start);
            out = Assessment {
                score: final_score,
                reasons,
                rate_limited: None,
            };
            match (keep, stored) {
                (true, _) | (false, None) => Ok(encode_words(&rec.encode())),
                // The incumbent stays: write it back unchanged.
                (false, Some(r)) => Ok(encode_words(&r.encode())),
            }
        });
        if let Err(e) = result {
            self.store_failed(host, &e);
            // Score without history rather than not at all.
            let features = cadence::Features {
                age_secs: 0,
                ..cadence::Features::default()
            };
            let signals = score::Signals {
                share,
                elicitation: elicit,
                extraction: extract,
                cadence: features,
                infra,
                concentration,
                sync,
                harvest,
            };
            let (raw, reasons) = score::combine(&signals);
            out = Assessment {
                score: raw,
                reasons,
                rate_limited: None,
            };
        }

        // Dynamic limits, for the identity and for its template cluster.
        let w = s.limit_window_secs;
        let by_identity = limits::check(
            limit_state.0,
            s.identity_limit,
            out.score,
            s.limit_min_score,
            limit_state.1,
            w,
            now,
        );
        let by_cluster = cluster.and_then(|c| {
            let start = now - now % w.max(1);
            limits::check(
                c.window_requests,
                s.cluster_limit,
                out.score,
                s.limit_min_score,
                start,
                w,
                now,
            )
        });
        out.rate_limited = by_identity.max(by_cluster);
        if out.rate_limited.is_some() {
            out.reasons.push(score::DYNAMIC_LIMIT);
        }
        out
    }

    /// One read-modify-write of a cluster slot; an untracked view on error.
    #[allow(clippy::too_many_arguments)]
    fn touch(
        &self,
        host: &Host<'_>,
        table: &str,
        slots: u64,
        owner: u64,
        identity: u64,
        (text, block, long): (Option<u64>, Option<u64>, bool),
        now: u64,
    ) -> correlate::ClusterView {
        let s = &self.settings;
        let key = slot_key(&s.namespace, table, owner % slots.max(1));
        let touch = correlate::Touch {
            owner,
            identity,
            text,
            block,
            long,
            now,
            window_secs: s.window_secs,
            limit_window_secs: s.limit_window_secs,
        };
        let mut view = correlate::ClusterView::default();
        let result = cas_update(host.store, &key, |cur| {
            let words = match cur {
                Some(bytes) => Some(decode_words::<{ correlate::WORDS }>(&key, bytes)?),
                None => None,
            };
            let (next, v) = correlate::apply(words.as_ref(), &touch);
            view = v;
            Ok(encode_words(&next))
        });
        if let Err(e) = result {
            self.store_failed(host, &e);
            return correlate::ClusterView::default();
        }
        view
    }

    fn store_failed(&self, host: &Host<'_>, e: &UpdateError) {
        host.metrics.incr(match e {
            UpdateError::GaveUp => Counter::CasGaveUp,
            _ => Counter::StoreError,
        });
    }
}

/// Fingerprint of a request's system prompt: kept apart from the user-turn
/// templates, since thousands of an app's users share one system prompt.
pub fn system_fingerprint(view: &RequestView) -> Option<u64> {
    (!view.system.is_empty()).then(|| fingerprint(normalize::lower_collapsed(&view.system, 64 * 1024).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Api, Endpoint, GenParams, Provider, Role, Turn};
    use crate::clock::ManualClock;
    use crate::metrics::MemoryMetrics;
    use crate::store::{MemoryStore, SharedStore, StoreError, Versioned};
    use std::cell::Cell;
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
            kind: crate::identity::IdentityKind::Credential,
            client_ip: Some(std::net::IpAddr::from([198, 51, 100, (n % 200) as u8])),
            tls_fingerprint: None,
            user_agent: None,
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

    #[wasm_bindgen_test(unsupported = test)]
    fn at_most_eight_shared_data_calls_per_request() {
        let store = Counting::default();
        let (clock, metrics) = (ManualClock::new(1.0e9), MemoryMetrics::default());
        let host = Host {
            store: &store,
            clock: &clock,
            metrics: &metrics,
        };
        let d = Detector::with_namespace(config::DetectionSettings::default(), "t");
        for i in 0..50u64 {
            let before = store.calls.get();
            let id = identity(i);
            let v = view(&format!(
                "Please solve problem {i} about trains and think step by step, justify each step."
            ));
            let meta = RequestMeta::default();
            d.assess(
                &Observation {
                    identity: &id,
                    view: Some(&v),
                    meta: &meta,
                    now: 1.0e9 + i as f64,
                },
                &host,
            );
            assert!(store.calls.get() - before <= 8, "{} calls", store.calls.get() - before);
        }
        // Unparsed body, unknown address: the identity slot only.
        let before = store.calls.get();
        let id = Identity {
            client_ip: None,
            ..identity(1)
        };
        d.assess(
            &Observation {
                identity: &id,
                view: None,
                meta: &RequestMeta::default(),
                now: 1.0e9,
            },
            &host,
        );
        assert_eq!(store.calls.get() - before, 2);
        assert_eq!(metrics.snapshot(), vec![]);
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
        let (clock, metrics) = (ManualClock::new(1.0e9), MemoryMetrics::default());
        let host = Host {
            store: &Broken,
            clock: &clock,
            metrics: &metrics,
        };
        let d = Detector::new(config::DetectionSettings::default());
        let id = identity(3);
        let v = view("Articulate the internal reasoning in <thinking> tags, step by step, for this task.");
        let a = d.assess(
            &Observation {
                identity: &id,
                view: Some(&v),
                meta: &RequestMeta::default(),
                now: 1.0e9,
            },
            &host,
        );
        assert!(a.score > 0.0 && a.score < 0.4, "{a:?}");
        assert_eq!(metrics.get(Counter::StoreError), 4);
        // A value of the wrong layout is an error too, not a silent zero.
        let store = MemoryStore::new();
        let host = Host {
            store: &store,
            clock: &clock,
            metrics: &metrics,
        };
        store
            .set(&slot_key("dg", IDENTITY_TABLE, id.hash % 16_384), b"junk", 0)
            .unwrap();
        d.assess(
            &Observation {
                identity: &id,
                view: None,
                meta: &RequestMeta::default(),
                now: 1.0e9,
            },
            &host,
        );
        assert_eq!(metrics.get(Counter::StoreError), 5);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn disabled_detection_scores_nothing() {
        let settings = config::DetectionSettings {
            enabled: false,
            ..config::DetectionSettings::default()
        };
        let store = Counting::default();
        let (clock, metrics) = (ManualClock::new(1.0e9), MemoryMetrics::default());
        let host = Host {
            store: &store,
            clock: &clock,
            metrics: &metrics,
        };
        let id = identity(1);
        let v = view("internal reasoning step by step in <thinking> tags");
        let a = Detector::new(settings).assess(
            &Observation {
                identity: &id,
                view: Some(&v),
                meta: &RequestMeta::default(),
                now: 1.0,
            },
            &host,
        );
        assert_eq!(a, Assessment::default());
        assert_eq!(store.calls.get(), 0);
    }
}
