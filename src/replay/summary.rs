//! The replay's summary on standard error: requests, actions by kind,
//! identities seen, throughput.

use std::collections::HashSet;

use crate::engine::Decision;
use crate::hash::fingerprint;
use crate::verdict::Action;

#[derive(Debug, Default)]
pub struct Summary {
    pub requests: u64,
    /// Indexed like `Action::ALL`.
    pub actions: [u64; 4],
    /// 64-bit fingerprints of identity keys (8 bytes an identity, so even
    /// millions of identities fit).
    identities: HashSet<u64>,
    pub elapsed_secs: f64,
}

impl Summary {
    pub fn record(&mut self, d: &Decision) {
        self.requests += 1;
        if let Some(slot) = Action::ALL
            .iter()
            .position(|a| *a == d.verdict.action)
            .and_then(|i| self.actions.get_mut(i))
        {
            *slot += 1;
        }
        self.identities.insert(fingerprint(d.identity.as_bytes()));
    }

    pub fn identities(&self) -> usize {
        self.identities.len()
    }

    pub fn requests_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.requests as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// The multi-line text printed to standard error.
    pub fn render(&self) -> String {
        let actions: Vec<String> = Action::ALL
            .iter()
            .zip(self.actions.iter())
            .map(|(a, n)| format!("{}={n}", a.as_str()))
            .collect();
        format!(
            "requests: {}\nactions: {}\nidentities seen: {}\nthroughput: {:.0} requests/s ({:.2} s)\n",
            self.requests,
            actions.join(" "),
            self.identities(),
            self.requests_per_sec(),
            self.elapsed_secs
        )
    }
}
