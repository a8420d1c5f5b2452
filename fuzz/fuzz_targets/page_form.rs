//! The pages' URL-encoded forms: any body either decodes into the form, with no character
//! the desk forbids (`caredesk_domain::text`) in any field, or is refused with a reason.
#![no_main]

use caredesk_domain::text::forbidden_character;
use caredesk_web::edge::decode_page_form;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

/// The sign-in form's fields, the richest of the URL-encoded page forms.
#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: String,
    next: Option<String>,
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(form) = decode_page_form::<SignIn>(bytes) else {
        return;
    };
    for field in [&form.email, &form.password]
        .into_iter()
        .chain(form.next.as_ref())
    {
        assert_eq!(
            forbidden_character(field),
            None,
            "a forbidden character went through: {field:?}"
        );
    }
});
