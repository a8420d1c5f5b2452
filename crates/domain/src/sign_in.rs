//! How often someone may guess a password: a few free attempts per account and per client
//! address, then a wait that doubles with every further failure, up to a longest wait.
//!
//! The same rule answers for an account that exists and one that does not, so the answer
//! reveals nothing. A failure is counted when the attempt starts (and forgiven when the
//! password proves right), so that a burst of concurrent guesses is counted in full before
//! any of them is checked.

use jiff::{SignedDuration, Timestamp};

/// The limits, from the service's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInThrottle {
    /// Failures an account may have before it must wait.
    pub free_attempts_per_account: u32,
    /// Failures one client address may have (over all accounts) before it must wait.
    pub free_attempts_per_address: u32,
    /// The wait doubles from one second up to this.
    pub longest_wait: SignedDuration,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self {
            free_attempts_per_account: 5,
            free_attempts_per_address: 20,
            longest_wait: SignedDuration::from_mins(15),
        }
    }
}

/// The failures recorded for one account or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Timestamp,
}

/// What becomes of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Go on and check the password; these are the failures to record meanwhile (the
    /// attempt counted as failed until the password proves right).
    Check {
        account: Failures,
        address: Failures,
    },
    /// Refused without a look at the password: try again after this long.
    Wait(SignedDuration),
}

impl SignInThrottle {
    /// Failures this old are forgotten: the next one starts the count again.
    pub fn memory(&self) -> SignedDuration {
        self.longest_wait
            .checked_mul(4)
            .unwrap_or(self.longest_wait)
            .max(SignedDuration::from_hours(1))
    }

    /// Whether an attempt may go on, given what is recorded for its account and address.
    pub fn attempt(
        &self,
        account: Option<Failures>,
        address: Option<Failures>,
        now: Timestamp,
    ) -> Attempt {
        let account = self.remembered(account, now);
        let address = self.remembered(address, now);
        let wait = [
            self.left_to_wait(account, self.free_attempts_per_account, now),
            self.left_to_wait(address, self.free_attempts_per_address, now),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => Attempt::Wait(wait),
            None => Attempt::Check {
                account: counted(account, now),
                address: counted(address, now),
            },
        }
    }

    fn remembered(&self, failures: Option<Failures>, now: Timestamp) -> Option<Failures> {
        failures.filter(|failures| now.duration_since(failures.last_at) < self.memory())
    }

    /// How long is left to wait after these failures, when `free` of them are allowed: one
    /// second after the last free one, doubling with each further failure.
    fn left_to_wait(
        &self,
        failures: Option<Failures>,
        free: u32,
        now: Timestamp,
    ) -> Option<SignedDuration> {
        let failures = failures?;
        let beyond = failures.count.checked_sub(free)?;
        let wait = SignedDuration::from_secs(1_i64 << beyond.min(40)).min(self.longest_wait);
        let left = wait.checked_sub(now.duration_since(failures.last_at))?;
        left.is_positive().then_some(left)
    }
}

fn counted(failures: Option<Failures>, now: Timestamp) -> Failures {
    Failures {
        count: failures
            .map_or(0, |failures| failures.count)
            .saturating_add(1),
        last_at: now,
    }
}

/// Whole seconds to announce in `Retry-After`: never less than the wait.
pub fn retry_after_seconds(wait: SignedDuration) -> u64 {
    let seconds = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
    u64::try_from(seconds.max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn failures(count: u32, last_at: &str) -> Option<Failures> {
        Some(Failures {
            count,
            last_at: at(last_at),
        })
    }

    #[test]
    fn the_free_attempts_go_on_and_are_counted() {
        let throttle = SignInThrottle::default();
        let now = at("2026-12-04T10:00:00Z");
        assert_eq!(
            throttle.attempt(None, None, now),
            Attempt::Check {
                account: Failures {
                    count: 1,
                    last_at: now
                },
                address: Failures {
                    count: 1,
                    last_at: now
                },
            }
        );
        let Attempt::Check { account, address } = throttle.attempt(
            failures(4, "2026-12-04T10:00:00Z"),
            failures(9, "2026-12-04T09:59:00Z"),
            now,
        ) else {
            panic!("the fifth attempt is free");
        };
        assert_eq!((account.count, address.count), (5, 10));
    }

    #[test]
    fn past_the_free_attempts_the_wait_doubles_up_to_the_longest() {
        let throttle = SignInThrottle::default();
        let last = "2026-12-04T10:00:00Z";
        let now = at(last);
        assert_eq!(
            throttle.attempt(failures(5, last), None, now),
            Attempt::Wait(SignedDuration::from_secs(1))
        );
        assert_eq!(
            throttle.attempt(failures(8, last), None, now),
            Attempt::Wait(SignedDuration::from_secs(8))
        );
        assert_eq!(
            throttle.attempt(failures(60, last), None, now),
            Attempt::Wait(SignedDuration::from_mins(15))
        );
        // Time already waited counts.
        assert_eq!(
            throttle.attempt(failures(8, last), None, at("2026-12-04T10:00:05Z")),
            Attempt::Wait(SignedDuration::from_secs(3))
        );
        assert!(matches!(
            throttle.attempt(failures(8, last), None, at("2026-12-04T10:00:08Z")),
            Attempt::Check { .. }
        ));
    }

    #[test]
    fn an_address_has_its_own_allowance_and_the_longer_wait_wins() {
        let throttle = SignInThrottle::default();
        let last = "2026-12-04T10:00:00Z";
        let now = at(last);
        assert!(matches!(
            throttle.attempt(None, failures(19, last), now),
            Attempt::Check { .. }
        ));
        assert_eq!(
            throttle.attempt(failures(6, last), failures(23, last), now),
            Attempt::Wait(SignedDuration::from_secs(8))
        );
    }

    #[test]
    fn old_failures_are_forgotten() {
        let throttle = SignInThrottle::default();
        let Attempt::Check { account, .. } = throttle.attempt(
            failures(60, "2026-12-04T08:00:00Z"),
            None,
            at("2026-12-04T10:00:00Z"),
        ) else {
            panic!("two hours later the account starts again");
        };
        assert_eq!(account.count, 1);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(SignedDuration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(SignedDuration::from_millis(2500)), 3);
        assert_eq!(retry_after_seconds(SignedDuration::from_secs(900)), 900);
    }
}
