//! The desk the benchmarks call: the built-in policy and the system's clock.

use caredesk_desk::{Clock, Desk, DeskLimits};
use caredesk_domain::policy::Policy;
use caredesk_mail::MessageIds;
use caredesk_store::Store;

/// The desk over `store`.
pub fn bench_desk(store: &Store) -> Desk {
    Desk {
        store: store.clone(),
        current_policy: caredesk_desk::CurrentPolicy::new(Policy::built_in().unwrap()),
        clock: Clock::System,
        mail_ids: MessageIds::new("caredesk.bench"),
        limits: DeskLimits::default(),
        client_address: None,
        activation_keys: Default::default(),
        update_cache: Default::default(),
    }
}
