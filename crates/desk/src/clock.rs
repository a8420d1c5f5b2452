//! "Now", as the desk sees it: the system clock in production, a hand-set clock in tests
//! (every SLA answer can be checked at a chosen instant) and in the demo (which acts at
//! moments of a past week). The API, the pages, the worker and the CLI all read this one.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(Arc<Mutex<Timestamp>>),
}

impl Clock {
    /// A clock that stays at `at` until moved.
    pub fn manual(at: Timestamp) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(at)))
    }

    /// Now, to the second (the store keeps whole seconds).
    pub fn now(&self) -> Timestamp {
        let now = match self {
            Clock::System => Timestamp::now(),
            Clock::Manual(at) => *at.lock().unwrap_or_else(PoisonError::into_inner),
        };
        Timestamp::from_second(now.as_second()).unwrap_or(now)
    }

    /// Moves a manual clock to `at`; the system clock cannot be moved.
    pub fn set(&self, at: Timestamp) {
        if let Clock::Manual(current) = self {
            *current.lock().unwrap_or_else(PoisonError::into_inner) = at;
        }
    }

    pub fn advance(&self, by: SignedDuration) {
        if let Clock::Manual(current) = self {
            let mut current = current.lock().unwrap_or_else(PoisonError::into_inner);
            *current = current.checked_add(by).unwrap_or(*current);
        }
    }
}
