//! How often someone may guess a password: a few free attempts per account and per client
//! address, then a wait that doubles with every further failure, up to a longest wait.
//!
//! The same rule answers for an account that exists and one that does not, so the answer
//! reveals nothing. A failure is counted when the attempt starts (and forgiven when the
//! password proves right), so that a burst of concurrent guesses is counted in full before
//! any of them is checked.
//!
//! Administrators hear of a burst: the first attempt past an account's or an address's free
//! ones (refused, or let through after its wait, for a patient guesser) raises an alert,
//! once for as long as its failures are remembered. Of the e-mails that are nobody's and of
//! the addresses, at most [`ALERTS_PER_HOUR`] are told an hour (a spray over thousands of
//! accounts is one story, not thousands of mails); the desk's own accounts always are.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

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

/// Addresses and e-mails of nobody's whose throttling administrators are told of in one
/// hour, at most (the desk's own accounts are always told).
pub const ALERTS_PER_HOUR: u32 = 10;

/// The failures recorded for one account or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Timestamp,
    /// When administrators were last told that it was throttled.
    pub alerted_at: Option<Timestamp>,
}

/// What becomes of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Go on and check the password; these are the failures to record meanwhile (the
    /// attempt counted as failed until the password proves right). `alert` is set when the
    /// attempt is past the free ones (a guesser who waits out every wait) and the
    /// administrators have not heard of it yet.
    Check {
        account: Failures,
        address: Failures,
        alert: Alert,
    },
    /// Refused without a look at the password: try again after `left`; `alert` says which
    /// of the limits reached the administrators have not heard of yet.
    Wait { left: SignedDuration, alert: Alert },
}

/// The limits of a refused attempt that administrators are to be told of, with the
/// failures that reached each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Alert {
    pub account: Option<u32>,
    pub address: Option<u32>,
}

impl Alert {
    pub fn any(&self) -> bool {
        self.account.is_some() || self.address.is_some()
    }
}

/// What administrators are told of a burst of failed sign-ins; kept with the alert, so that
/// it reads the same whenever it is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInBurst {
    /// Where the refused attempt came from: an IP address, or an IPv6 client's /64 network.
    pub address: String,
    /// The address's failures, when it reached its own limit.
    pub address_failures: Option<u32>,
    /// The account's failures, when it reached its limit.
    pub account_failures: Option<u32>,
    /// The account's e-mail, when it reached its limit and is one of the desk's accounts
    /// (an e-mail of nobody's is not repeated: it may be a mistyped password).
    pub account: Option<String>,
    /// The longest wait between two attempts, in minutes.
    pub longest_wait_minutes: u64,
    pub at: Timestamp,
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
        let account_wait = self.left_to_wait(account, self.free_attempts_per_account, now);
        let address_wait = self.left_to_wait(address, self.free_attempts_per_address, now);
        match account_wait.max(address_wait) {
            Some(left) => Attempt::Wait {
                left,
                alert: Alert {
                    account: self.news(account.filter(|_| account_wait.is_some()), now),
                    address: self.news(address.filter(|_| address_wait.is_some()), now),
                },
            },
            None => {
                let account = counted(account, now);
                let address = counted(address, now);
                let past = |failures: Failures, free: u32| {
                    (failures.count > free)
                        .then_some(failures)
                        .and_then(|failures| self.news(Some(failures), now))
                };
                Attempt::Check {
                    alert: Alert {
                        account: past(account, self.free_attempts_per_account),
                        address: past(address, self.free_attempts_per_address),
                    },
                    account,
                    address,
                }
            }
        }
    }

    /// The longest wait, in whole minutes (at least one), as the alert tells it.
    pub fn longest_wait_minutes(&self) -> u64 {
        let seconds = u64::try_from(self.longest_wait.as_secs()).unwrap_or(0);
        seconds.div_ceil(60).max(1)
    }

    /// Alerts older than this are forgotten: a burst that goes on is told of again.
    pub fn alert_memory(&self) -> SignedDuration {
        self.memory()
    }

    /// The count of `failures` past their limit, unless administrators were told of them
    /// within the alert's memory.
    fn news(&self, failures: Option<Failures>, now: Timestamp) -> Option<u32> {
        let failures = failures?;
        let told = failures
            .alerted_at
            .is_some_and(|at| now.duration_since(at) < self.alert_memory());
        (!told).then_some(failures.count)
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
        alerted_at: failures.and_then(|failures| failures.alerted_at),
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
            alerted_at: None,
        })
    }

    fn wait(left: SignedDuration, account: Option<u32>, address: Option<u32>) -> Attempt {
        Attempt::Wait {
            left,
            alert: Alert { account, address },
        }
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
                    last_at: now,
                    alerted_at: None,
                },
                address: Failures {
                    count: 1,
                    last_at: now,
                    alerted_at: None,
                },
                alert: Alert::default(),
            }
        );
        let Attempt::Check {
            account, address, ..
        } = throttle.attempt(
            failures(4, "2026-12-04T10:00:00Z"),
            failures(9, "2026-12-04T09:59:00Z"),
            now,
        )
        else {
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
            wait(SignedDuration::from_secs(1), Some(5), None)
        );
        assert_eq!(
            throttle.attempt(failures(8, last), None, now),
            wait(SignedDuration::from_secs(8), Some(8), None)
        );
        assert_eq!(
            throttle.attempt(failures(60, last), None, now),
            wait(SignedDuration::from_mins(15), Some(60), None)
        );
        // Time already waited counts.
        assert_eq!(
            throttle.attempt(failures(8, last), None, at("2026-12-04T10:00:05Z")),
            wait(SignedDuration::from_secs(3), Some(8), None)
        );
        // A guesser who waits out the wait is let through, and told of.
        let Attempt::Check { alert, .. } =
            throttle.attempt(failures(8, last), None, at("2026-12-04T10:00:08Z"))
        else {
            panic!("the wait is over");
        };
        assert_eq!(alert.account, Some(9));
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
            wait(SignedDuration::from_secs(8), Some(6), Some(23))
        );
        // The account's limit alone is reached: only it is news.
        assert_eq!(
            throttle.attempt(failures(6, last), failures(7, last), now),
            wait(SignedDuration::from_secs(2), Some(6), None)
        );
    }

    #[test]
    fn administrators_hear_of_a_burst_once_while_it_is_remembered() {
        let throttle = SignInThrottle::default();
        let last = "2026-12-04T10:00:00Z";
        let told = |count: u32, alerted_at: &str| {
            Some(Failures {
                alerted_at: Some(at(alerted_at)),
                ..failures(count, last).unwrap()
            })
        };
        assert_eq!(
            throttle.attempt(told(9, "2026-12-04T09:59:00Z"), None, at(last)),
            wait(SignedDuration::from_secs(16), None, None),
            "told a minute ago"
        );
        assert_eq!(
            throttle.attempt(told(9, "2026-12-04T08:59:00Z"), None, at(last)),
            wait(SignedDuration::from_secs(16), Some(9), None),
            "an hour later, the burst that goes on is news again"
        );
        // A counted attempt keeps the record of the alert.
        let Attempt::Check { account, .. } = throttle.attempt(
            told(2, "2026-12-04T09:59:00Z"),
            None,
            at("2026-12-04T10:00:30Z"),
        ) else {
            panic!("the third attempt is free");
        };
        assert_eq!(account.alerted_at, Some(at("2026-12-04T09:59:00Z")));
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
