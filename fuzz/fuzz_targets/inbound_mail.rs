//! Inbound mail: any bytes either read as a message or are refused, and what is read holds
//! nothing the database cannot store.
#![no_main]

use caredesk_mail::inbound::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(mail) = parse(bytes, 1 << 20) else {
        return;
    };
    let mut texts = vec![&mail.message_id, &mail.subject, &mail.text];
    if let Some((name, address)) = &mail.from {
        texts.extend([name, address]);
    }
    texts.extend(mail.replies_to.iter());
    for attachment in &mail.attachments {
        texts.extend([&attachment.filename, &attachment.content_type]);
    }
    for text in texts {
        assert!(
            !text.contains('\0'),
            "a NUL character went through: {text:?}"
        );
    }
});
