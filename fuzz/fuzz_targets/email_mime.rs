//! Raw mail into envelopes ([`parse_message`]): any bytes give an envelope for the inbox, with
//! a sender and a dedupe key, without a panic (the parser's own `catch_unwind` does not hide
//! one here: libFuzzer aborts on any panic).

#![no_main]

use kefu_channel_email::parse::{ParseOptions, parse_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let opts = ParseOptions {
        address: Some("support@example.com".into()),
        // Small, so that the size limit's path runs too.
        max_attachment_bytes: 64,
        ..ParseOptions::new(7)
    };
    let env = parse_message(raw, &opts);
    assert_eq!(env.inbox_id, 7);
    assert!(!env.sender.external_id.is_empty());
    assert!(env.dedupe_key.as_deref().is_some_and(|k| !k.is_empty()));
    if let Some(token) = &env.thread.conversation_token {
        assert!(!token.is_empty());
    }
});
