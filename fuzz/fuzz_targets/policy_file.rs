//! The policy file: any text either loads as a policy or is refused with an error, and a
//! policy that loads can compute due times on every one of its calendars.
#![no_main]

use caredesk_domain::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(policy) = Policy::from_toml(text, "fuzzed.toml") else {
        return;
    };
    let start = jiff::Timestamp::from_second(1_790_000_000).expect("a fixed instant");
    let week = jiff::SignedDuration::from_hours(7 * 24);
    for calendar in policy.calendars.values() {
        // A calendar with no open time left answers an error; none may panic or spin.
        if let Ok(due) = calendar.due(start, 600) {
            assert!(due >= start, "due {due} before the start {start}");
        }
        let _ = calendar.elapsed(start, start.saturating_add(week).expect("in range"));
    }
});
