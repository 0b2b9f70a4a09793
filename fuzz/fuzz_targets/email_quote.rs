//! Quote trimming ([`trim_quoted`]): any text is trimmed or left alone without a panic, and a
//! trimmed reply is non-empty, no longer than the text, and made only of the text's own lines.

#![no_main]

use kefu_channel_email::quote::trim_quoted;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Some(reply) = trim_quoted(text) else {
        return;
    };
    assert!(!reply.trim().is_empty());
    assert!(reply.len() <= text.len());
    for line in reply.lines() {
        assert!(text.contains(line), "{line:?} is not in the text");
    }
});
