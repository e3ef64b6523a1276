//! [`Clock`] from Envoy's wall clock (`proxy_get_current_time_nanoseconds`).

use super::abi;
use crate::clock::Clock;

pub struct HostClock;

impl Clock for HostClock {
    fn now_secs(&self) -> f64 {
        // A failing clock call reads as the epoch: windows then start at 0,
        // which is wrong but bounded, and never a panic.
        abi::now_nanos().map_or(0.0, |ns| ns as f64 / 1e9)
    }
}
