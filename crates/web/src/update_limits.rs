//! How often installed products may ask the update manager: per serial (each licence's
//! installations together) and per client address, counted in this instance's memory
//! (GCRA, the `governor` crate) so that the check costs no database write. A product asks
//! once a day; the limits only stop a loop gone wrong or someone trying codes. With
//! several instances, each counts its own share.

use std::net::IpAddr;
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

    /// Counts one check from `address`: none when it may go on, else how many seconds to
    /// wait (at least one).
    pub fn check_address(&self, address: Option<IpAddr>) -> Option<u64> {
        self.prune_now_and_then();
        let address = address?;
        let not_until = self.per_address.check_key(&address).err()?;
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
        assert_eq!(
            limits.check_address(None),
            None,
            "no address: nothing to count"
        );
    }
}
