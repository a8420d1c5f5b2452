//! How often installed products may ask the update manager: per serial (each licence's
//! installations together) and per client address, counted in this instance's memory
//! (GCRA, the `governor` crate) so that the check costs no database write. A product asks
//! once a day; the limits only stop a loop gone wrong or someone trying codes. With
//! several instances, each counts its own share.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Forgotten counters are pruned once every this many checks.
const PRUNE_EVERY: u64 = 10_000;

pub struct UpdateLimits {
    per_serial: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl UpdateLimits {
    /// At most `per_serial_per_hour` checks an hour for a serial and `per_address_per_minute`
    /// a minute from an address, each allowed in a burst.
    pub fn new(per_serial_per_hour: NonZeroU32, per_address_per_minute: NonZeroU32) -> Self {
        UpdateLimits {
            per_serial: RateLimiter::keyed(Quota::per_hour(per_serial_per_hour)),
            per_address: RateLimiter::keyed(Quota::per_minute(per_address_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one check from `address` (see [`bucket`]): none when it may go on, else how
    /// many seconds to wait (at least one).
    pub fn check_address(&self, address: Option<IpAddr>) -> Option<u64> {
        self.prune_now_and_then();
        let not_until = self.per_address.check_key(&bucket(address)).err()?;
        Some(
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1,
        )
    }

    /// Counts one check for `serial`, as [`Self::check_address`].
    pub fn check_serial(&self, serial: &str) -> Option<u64> {
        let not_until = self.per_serial.check_key(&serial.to_string()).err()?;
        Some(
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1,
        )
    }

    fn prune_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.per_serial.retain_recent();
            self.per_address.retain_recent();
        }
    }
}

/// What an address is counted under: an IPv4 address, an IPv6 client's /64 network (one
/// host holds a whole /64), or one shared count when the address is not known.
fn bucket(address: Option<IpAddr>) -> IpAddr {
    match address {
        Some(IpAddr::V6(address)) => {
            IpAddr::V6(Ipv6Addr::from(u128::from(address) & !((1_u128 << 64) - 1)))
        }
        Some(address) => address,
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serial_and_an_address_are_limited_each_on_its_own() {
        let limits = UpdateLimits::new(NonZeroU32::new(2).unwrap(), NonZeroU32::new(3).unwrap());
        assert_eq!(limits.check_serial("SN-1"), None);
        assert_eq!(limits.check_serial("SN-1"), None);
        let wait = limits
            .check_serial("SN-1")
            .expect("a third check of SN-1 waits");
        assert!((1..=1800).contains(&wait), "{wait}");
        assert_eq!(
            limits.check_serial("SN-2"),
            None,
            "another serial is not held up"
        );

        let here: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limits.check_address(Some(here)), None);
        }
        let wait = limits
            .check_address(Some(here))
            .expect("a fourth from here waits");
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(
            limits.check_address(Some("192.0.2.2".parse().unwrap())),
            None
        );

        // An IPv6 client is counted by its /64: changing the host part does not help.
        for host in 1..=3 {
            let address: IpAddr = format!("2001:db8:1:2::{host}").parse().unwrap();
            assert_eq!(limits.check_address(Some(address)), None);
        }
        let elsewhere: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(limits.check_address(Some(elsewhere)).is_some());
        let next_network: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limits.check_address(Some(next_network)), None);
    }
}
