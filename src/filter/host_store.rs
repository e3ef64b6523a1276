//! [`SharedStore`] over Envoy's shared data (shared by every VM of the same
//! `vm_id`, i.e. across worker threads), with every host status mapped to a
//! typed result instead of the SDK's panic. Counts the keys it creates and
//! their bytes (`shared_data.keys_created`, `.bytes_created`): the only
//! view of the shared-data footprint Envoy offers.

use std::cell::RefCell;

use super::abi;
use super::host_clock::HostClock;
use super::host_metrics::HostMetrics;
use crate::engine::Host;
use crate::fleet::touched::{Touched, Touching};
use crate::metrics::Counter;
use crate::store::{SharedStore, StoreError, Versioned};

/// Runs `f` with the engine's host over Envoy: shared data (in fleet mode
/// through `Touching`, which notes every detection slot written in
/// `touched` for the next sync), the clock and `metrics`.
pub fn with_host<R>(
    metrics: &HostMetrics,
    touched: Option<&RefCell<Touched>>,
    namespace: &str,
    f: impl FnOnce(&Host<'_>) -> R,
) -> R {
    let host_store = HostStore { metrics };
    let touching = touched.map(|touched| Touching {
        inner: &host_store,
        namespace,
        touched,
    });
    let store: &dyn SharedStore = match &touching {
        Some(t) => t,
        None => &host_store,
    };
    f(&Host {
        store,
        clock: &HostClock,
        metrics,
    })
}

pub struct HostStore<'a> {
    pub metrics: &'a HostMetrics,
}

impl SharedStore for HostStore<'_> {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        match abi::get_shared_data(key) {
            Ok(Some((value, cas))) => Ok(Some(Versioned { value, cas })),
            Ok(None) => Ok(None),
            Err(_) => Err(StoreError::Host),
        }
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        match abi::set_shared_data(key, value, cas) {
            Ok(()) => {
                // cas 0 is how `store::counters` creates a missing key (two
                // workers creating one key at once both count: rare, and
                // an over-count, never an under-count).
                if cas == 0 {
                    self.metrics.add(Counter::SharedDataKeysCreated, 1);
                    self.metrics
                        .add(Counter::SharedDataBytesCreated, key.len() + value.len());
                }
                Ok(())
            }
            Err(abi::CAS_MISMATCH) => Err(StoreError::CasMismatch),
            Err(_) => Err(StoreError::Host),
        }
    }
}
