//! The held-out scenario's accounts (see [`super::heldout`]): for every
//! group in [`GROUPS`], its accounts with their keys, client, address, time
//! zone and the moment they first appear.

use super::client::{self, Sdk};
use super::heldout_groups::{Addr, GROUPS};
use super::heldout_schedule::DAY;
use super::params;
use super::rng::Rng;

/// One held-out account.
#[derive(Clone, Debug)]
pub(super) struct Member {
    /// Index into [`GROUPS`].
    pub group: usize,
    /// Index within the group (a campaign account keeps its language).
    pub index: usize,
    pub account: String,
    pub credential: String,
    pub sdk: Sdk,
    pub ip: String,
    pub tz_hours: f64,
    /// Seconds after the trace starts before the account sends at all.
    pub start_offset: f64,
}

const TIMEZONES: [f64; 8] = [-8.0, -5.0, -3.0, 0.0, 1.0, 3.0, 5.5, 9.0];
/// First octets of large cloud providers' ranges.
const CLOUD: [u8; 8] = [3, 13, 18, 34, 35, 44, 52, 54];

fn residential(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(60, 110),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

/// Every held-out account, in a fixed order.
pub(super) fn members(seed: u64, scale: f64) -> Vec<Member> {
    let mut rng = Rng::derive(seed, "heldout-population", 0);
    let mut out = Vec::new();
    for (gi, g) in GROUPS.iter().enumerate() {
        // A campaign's or a company's fixed addresses. They are drawn for
        // every group, used or not: the draws are part of the seeded
        // sequence, so skipping them would change every later account.
        let nat = residential(&mut rng);
        let backend = format!(
            "{}.{}.{}",
            rng.pick(&CLOUD).copied().unwrap_or(34),
            rng.below(256),
            rng.below(256)
        );
        let tz = rng.pick(&TIMEZONES).copied().unwrap_or(0.0);
        let mut subnet = String::new();
        for i in 0..params::scaled(g.accounts, scale) {
            let sdk = g.client.sdk();
            let ip = match g.addr {
                Addr::Proxy(per) => {
                    if i % per.max(1) == 0 {
                        subnet = format!("{}.{}.{}", rng.range(45, 195), rng.below(256), rng.below(256));
                    }
                    format!("{subnet}.{}", rng.range(2, 254))
                }
                Addr::CloudSpread => format!(
                    "{}.{}.{}.{}",
                    rng.pick(&CLOUD).copied().unwrap_or(34),
                    rng.below(256),
                    rng.below(256),
                    rng.range(2, 254)
                ),
                Addr::Residential => residential(&mut rng),
                Addr::OneNat => nat.clone(),
                Addr::Backend => format!("{backend}.{}", 10 + rng.below(3)),
            };
            out.push(Member {
                group: gi,
                index: i,
                account: format!("acct_{}", rng.hex(12)),
                credential: client::credential(sdk.provider, &mut rng),
                sdk,
                ip,
                tz_hours: if g.class == "benign" && g.addr == Addr::Residential {
                    rng.pick(&TIMEZONES).copied().unwrap_or(0.0)
                } else {
                    tz
                },
                start_offset: rng.f64() * g.ramp_days * DAY,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_have_the_promised_shapes() {
        let ms = members(1, 1.0);
        let of = |name: &str| -> Vec<&Member> {
            ms.iter()
                .filter(|m| GROUPS.get(m.group).is_some_and(|g| g.name == name))
                .collect()
        };
        let block = |ip: &str| ip.rsplit_once('.').map(|(b, _)| b.to_owned()).unwrap_or_default();
        let mut cloud: Vec<String> = of("cloud_spread").iter().map(|m| block(&m.ip)).collect();
        cloud.sort();
        cloud.dedup();
        assert!(
            cloud.len() * 10 >= of("cloud_spread").len() * 9,
            "cloud accounts share /24s"
        );
        let class: Vec<&str> = of("classroom").iter().map(|m| m.ip.as_str()).collect();
        assert_eq!(class.len(), 30);
        assert!(class.iter().all(|ip| *ip == class[0]), "one NAT");
        let mut eval: Vec<String> = of("eval_company").iter().map(|m| block(&m.ip)).collect();
        eval.dedup();
        assert_eq!(eval.len(), 1, "one cloud /24");
        assert_eq!(of("few_busy").len(), 20);
    }
}
