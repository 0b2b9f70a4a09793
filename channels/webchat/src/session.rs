//! Visitor sessions: `<inbox_id>.<visitor_id>.<signature>`, signed with a key Kefu derives from
//! its `secret_key`. The visitor id is random (or `user:<id>` for a verified identity), so a
//! session cannot be guessed, and a changed one fails the signature check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::Sha256;

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
}
