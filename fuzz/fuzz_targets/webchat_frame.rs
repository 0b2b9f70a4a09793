//! The widget socket's input: client frames ([`protocol::parse`]), visitor sessions
//! ([`SessionKey`]) and identity hashes ([`identity::verify`]).
//!
//! The input is one text, used as the frame, as a presented session and as a visitor id and
//! identity (so seeds are frame files). Properties: a frame parses or gets a `bad_frame` error
//! without a panic; a session verifies only for the inbox and visitor it was issued for, and
//! never after a one-bit change; an identity hash is accepted exactly when it is the computed
//! one, in either hex case.

#![no_main]

use kefu_channel_webchat::identity;
use kefu_channel_webchat::protocol;
use kefu_channel_webchat::session::SessionKey;
use libfuzzer_sys::fuzz_target;

const INBOX: i64 = 12;

fuzz_target!(|text: &str| {
    if let Err(e) = protocol::parse(text) {
        assert_eq!(e.code, "bad_frame");
        assert!(e.client_id.is_none());
    }

    let key = SessionKey::new([7; 32]);
    let _ = key.verify(INBOX, text);
    let issued = key.issue(INBOX, text);
    assert_eq!(key.verify(INBOX, &issued).as_deref(), Some(text));
    assert_eq!(key.verify(INBOX + 1, &issued), None);
    assert_eq!(SessionKey::new([8; 32]).verify(INBOX, &issued), None);
    let mut tampered = issued.clone().into_bytes();
    let at = text.len() % tampered.len();
    tampered[at] ^= 0x01;
    if let Ok(tampered) = String::from_utf8(tampered) {
        // The MAC covers the whole payload, and the unpadded base64 of the signature refuses
        // non-zero trailing bits, so no one-bit change goes through.
        assert_eq!(key.verify(INBOX, &tampered), None, "{tampered:?}");
    }

    let (user_id, given) = text.split_once('\n').unwrap_or((text, ""));
    let accepted = identity::verify("identity-secret", user_id, given);
    assert_eq!(
        accepted,
        given.eq_ignore_ascii_case(&identity::user_hash("identity-secret", user_id))
    );
    let right = identity::user_hash("identity-secret", user_id);
    assert!(identity::verify(
        "identity-secret",
        user_id,
        &right.to_ascii_uppercase()
    ));
});
