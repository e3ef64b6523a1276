//! [`SharedStore`] over Envoy's shared data (shared by every VM of the same
//! `vm_id`, i.e. across worker threads), with every host status mapped to a
//! typed result instead of the SDK's panic.

use super::abi;
use crate::store::{SharedStore, StoreError, Versioned};

pub struct HostStore;

impl SharedStore for HostStore {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        match abi::get_shared_data(key) {
            Ok(Some((value, cas))) => Ok(Some(Versioned { value, cas })),
            Ok(None) => Ok(None),
            Err(_) => Err(StoreError::Host),
        }
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        match abi::set_shared_data(key, value, cas) {
            Ok(()) => Ok(()),
            Err(abi::CAS_MISMATCH) => Err(StoreError::CasMismatch),
            Err(_) => Err(StoreError::Host),
        }
    }
}
