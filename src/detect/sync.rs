//! Synchronised rounds across a template's accounts.
//!
//! A campaign is driven by a scheduler: many of its accounts fire in the
//! same minute, then the template is quiet until the next round. People who
//! share a template (an app's users, a class) arrive independently, so the
//! distinct accounts in one minute stay close to the template's average
//! rate; only a crowd far above that rate is synchronised. A large
//! population is therefore never "synchronised" by its size alone (the bar
//! grows with its rate), and a one-off spike (a push notification) is a few
//! minutes out of a day: what counts is the *share* of the template's
//! requests that arrive in crowded minutes.
//!
//! Kept in two words of the template's slot: the current minute number and
//! a 64-bit linear-counting bitmap of the identities seen in it (distinct
//! accounts per minute up to about 200, fixed memory).

use super::cadence::ramp_up;

/// Distinct accounts in one minute below which nothing is a crowd.
pub const MIN_CROWD: f64 = 8.0;
/// A crowd is this many times the template's average accounts per minute.
pub const CROWD_FACTOR: f64 = 4.0;

/// The current minute of one template: its number and the accounts in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Minute {
    pub number: u64,
    pub bitmap: u64,
}

impl Minute {
    /// The minute after `identity` sent at `now`, and the distinct accounts
    /// in that minute so far (this one included).
    pub fn observe(self, now: u64, identity: u64) -> (Minute, f64) {
        let number = now / 60;
        let mut bitmap = if number == self.number { self.bitmap } else { 0 };
        // The identity hash is SipHash output: its top bits are uniform.
        bitmap |= 1u64 << (identity >> 58);
        let next = Minute { number, bitmap };
        (next, distinct(bitmap))
    }
}

/// Linear counting over 64 bits: the distinct items behind a bitmap.
pub fn distinct(bitmap: u64) -> f64 {
    let zeros = f64::from(bitmap.count_zeros());
    if zeros < 1.0 {
        return 64.0 * crate::mathfn::ln(64.0);
    }
    64.0 * crate::mathfn::ln(64.0 / zeros)
}

/// Whether `accounts` in one minute is a crowd for a template that sends
/// `requests` over `elapsed_secs` (an upper bound on its accounts per
/// minute, so the bar errs high).
pub fn crowded(accounts: f64, requests: f64, elapsed_secs: u64) -> bool {
    // Under ten minutes of history any rate is a guess: no crowd yet.
    if elapsed_secs < 600 {
        return false;
    }
    let per_minute = requests / (elapsed_secs as f64 / 60.0);
    accounts >= MIN_CROWD.max(CROWD_FACTOR * per_minute)
}

/// Synchronisation strength from the share of a template's requests that
/// arrived in crowded minutes: 0 up to 30%, 1 from 70%.
pub fn strength(synced: f64, requests: f64, min_requests: f64) -> f64 {
    if requests < min_requests.max(1.0) {
        return 0.0;
    }
    ramp_up(synced / requests, 0.3, 0.7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::fingerprint;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn id(n: u64) -> u64 {
        fingerprint(&n.to_le_bytes())
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn counts_distinct_accounts_per_minute() {
        let mut m = Minute::default();
        let mut last = 0.0;
        for i in 0..20 {
            (m, last) = m.observe(6_000 + i, id(i));
        }
        assert!((15.0..26.0).contains(&last), "{last}");
        // The same account again adds nothing.
        let (m2, again) = m.observe(6_030, id(3));
        assert_eq!(again, last);
        // A new minute starts empty.
        let (_, fresh) = m2.observe(6_060, id(3));
        assert!(fresh < 1.5, "{fresh}");
        assert!(distinct(u64::MAX) > 200.0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn crowds_are_relative_to_the_template_rate() {
        // 250 accounts in a minute of a template averaging 4.5 a minute.
        assert!(crowded(120.0, 4.5 * 1_440.0, 86_400));
        // A big app at 70 a minute: 100 accounts in a minute is ordinary.
        assert!(!crowded(100.0, 70.0 * 1_440.0, 86_400));
        // A quiet template: a handful together is no crowd.
        assert!(!crowded(5.0, 100.0, 86_400));
        // Too little history to know the rate.
        assert!(!crowded(200.0, 200.0, 300));
        assert_eq!(strength(90.0, 100.0, 50.0), 1.0);
        assert_eq!(strength(5.0, 100.0, 50.0), 0.0);
        assert_eq!(strength(30.0, 30.0, 50.0), 0.0);
    }
}
