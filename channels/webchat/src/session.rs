//! Visitor sessions: `<inbox_id>.<visitor_id>.<signature>`, signed with a key Kefu derives from
//! its `secret_key`. The visitor id is random (or `user:<id>` for a verified identity), so a
//! session cannot be guessed, and a changed one fails the signature check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks sessions.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// A key from 32 secret bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// The signature of `payload` under this key.
    pub(crate) fn sign(&self, payload: &str) -> Vec<u8> {
        self.mac(payload).finalize().into_bytes().to_vec()
    }

    /// Whether `sig` is the signature of `payload` (compared in constant time).
    pub(crate) fn check(&self, payload: &str, sig: &[u8]) -> bool {
        self.mac(payload).verify_slice(sig).is_ok()
    }

    /// A session for `visitor` in `inbox`.
    pub fn issue(&self, inbox: i64, visitor: &str) -> String {
        let payload = format!("{inbox}.{}", URL_SAFE_NO_PAD.encode(visitor));
        let sig = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{sig}")
    }

    /// The visitor of a valid session for `inbox`.
    pub fn verify(&self, inbox: i64, session: &str) -> Option<String> {
        let (payload, sig) = session.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        self.mac(payload).verify_slice(&sig).ok()?;
        let (inbox_part, visitor) = payload.split_once('.')?;
        if inbox_part.parse::<i64>().ok()? != inbox {
            return None;
        }
        String::from_utf8(URL_SAFE_NO_PAD.decode(visitor).ok()?).ok()
    }
}

/// A new anonymous visitor id.
pub fn new_visitor() -> String {
    let r: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(22)
        .map(char::from)
        .collect();
    format!("visitor:{r}")
}

/// The dedupe key of a message visitor `visitor` (an id from [`new_visitor`] or `user:<id>`)
/// wrote with `client_id`: a resend of the same `client_id` maps to the same key, and no two
/// (visitor, `client_id`) pairs share one.
///
/// The visitor id is hashed to a fixed width, so the key splits one way only whatever either
/// part contains. (Keys used to be `wc:<visitor>:<client_id>`, where verified user `acme` with
/// `client_id` `42:msg-1` and user `acme:42` with `msg-1` met; the second message was
/// acknowledged but never stored.) Keys in the old form are never produced again and cannot
/// equal a new one (different prefix), so an old key cannot swallow a new message. A widget
/// resends a `client_id` only while the message is unacknowledged in an open tab, and the server
/// acknowledges what it committed before a graceful shutdown; only a message committed by the
/// old version whose acknowledgement was lost to a crash at the upgrade itself could be stored
/// a second time.
pub fn message_dedupe_key(visitor: &str, client_id: &str) -> String {
    let visitor = hex::encode(&Sha256::digest(visitor.as_bytes())[..16]);
    format!("webchat:{visitor}:{client_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_verify_only_unchanged_and_for_their_inbox() {
        let k = SessionKey::new([7; 32]);
        let v = new_visitor();
        let s = k.issue(3, &v);
        assert_eq!(k.verify(3, &s), Some(v.clone()));
        assert_eq!(k.verify(4, &s), None, "another inbox");
        assert_eq!(SessionKey::new([8; 32]).verify(3, &s), None, "another key");
        let forged = s.replacen('3', "4", 1);
        assert_eq!(k.verify(4, &forged), None, "edited inbox");
        for junk in ["", "x", "1.2", "1.2.3", "..."] {
            assert_eq!(k.verify(1, junk), None, "{junk:?}");
        }
    }

    #[test]
    fn dedupe_keys_never_meet_across_visitors() {
        // The collision of issue 17: the same text split differently between id and client_id.
        let a = message_dedupe_key("user:acme", "42:msg-1");
        let b = message_dedupe_key("user:acme:42", "msg-1");
        assert_ne!(a, b);
        assert_eq!(a, message_dedupe_key("user:acme", "42:msg-1"), "stable");
        let v = new_visitor();
        assert_ne!(
            message_dedupe_key(&v, "c-1"),
            message_dedupe_key("user:x", "c-1")
        );
        // Never the old `wc:` form, so a stored old key cannot answer for a new message.
        assert!(a.starts_with("webchat:") && a.len() == "webchat:".len() + 32 + 1 + 8);
    }
}
