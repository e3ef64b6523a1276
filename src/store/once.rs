//! "Say it once per process": a marker in shared data, so that a log line
//! written by the first of Envoy's many VMs (one per worker, more on the main
//! thread) is not repeated by every other.
//!
//! One key per event, whatever the configuration or module version: the
//! key's value is what was last announced (a configuration's fingerprint, a
//! version string), and a new value announces again. Keys built from the
//! configuration would add a key per configuration push, forever (shared
//! data has no eviction).

use super::SharedStore;

/// Every event that is announced once; the key space is this list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Started,
    Configured,
    DefaultSecret,
}

impl Event {
    fn key(self) -> &'static str {
        match self {
            Event::Started => "distill_guard:v1:once:started",
            Event::Configured => "distill_guard:v1:once:configured",
            Event::DefaultSecret => "distill_guard:v1:once:default_secret",
        }
    }
}

/// True for the first caller to announce `event` with `value` since it was
/// last announced with another value. Two VMs racing may both see true;
/// that only repeats a log line. A store error says false (a lost log line,
/// never a failure).
pub fn first(store: &dyn SharedStore, event: Event, value: &str) -> bool {
    let key = event.key();
    match store.get(key) {
        Ok(Some(v)) if v.value == value.as_bytes() => false,
        Ok(Some(v)) => store.set(key, value.as_bytes(), v.cas).is_ok(),
        Ok(None) => store.set(key, value.as_bytes(), 0).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn once_per_value_and_one_key_per_event_however_many_pushes() {
        let s = MemoryStore::new();
        assert!(first(&s, Event::Configured, "aaaa"));
        assert!(!first(&s, Event::Configured, "aaaa"));
        for push in 0..500 {
            let id = format!("{push:016x}");
            assert!(first(&s, Event::Configured, &id));
            assert!(!first(&s, Event::Configured, &id));
            assert!(first(&s, Event::DefaultSecret, &id));
        }
        assert!(first(&s, Event::Started, "distill-guard 0.1.0 (abc)"));
        assert!(!first(&s, Event::Started, "distill-guard 0.1.0 (abc)"));
        assert_eq!(s.len(), 3, "{:?}", s.keys());
    }
}
