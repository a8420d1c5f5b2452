//! `caredesk sla due --batch` and `sla elapsed --batch`: any input either answers a line per
//! line or stops at a line it names, never panics.
#![no_main]

use std::sync::OnceLock;

use caredesk_domain::policy::Policy;
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| Policy::built_in().expect("the built-in policy loads"))
}

fuzz_target!(|bytes: &[u8]| {
    let mut answers = Vec::new();
    let _ = caredesk_cli::batch::due(policy(), bytes, &mut answers);
    answers.clear();
    let _ = caredesk_cli::batch::elapsed(policy(), bytes, &mut answers);
});
