//! [`SharedStore`] over Envoy's shared data (shared by every VM of the same
//! `vm_id`, i.e. across worker threads), with every host status mapped to a
//! typed result instead of the SDK's panic. Counts the keys it creates and
//! their bytes (`shared_data.keys_created`, `.bytes_created`): the only
//! view of the shared-data footprint Envoy offers.

use super::abi;
use super::host_metrics::HostMetrics;
use crate::metrics::Counter;
use crate::store::{SharedStore, StoreError, Versioned};

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
