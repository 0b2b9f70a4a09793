//! Identity verification: the website's backend computes
//! `user_hash = hex(HMAC-SHA256(hmac_secret, user_id))` and the widget passes it along; Kefu
//! recomputes it and compares in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// `hex(HMAC-SHA256(secret, user_id))`.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `given` is the right hash of `user_id` (hex, any case).
pub fn verify(secret: &str, user_id: &str, given: &str) -> bool {
    let want = user_hash(secret, user_id);
    let given = given.to_ascii_lowercase();
    want.len() == given.len() && bool::from(want.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_an_independent_computation() {
        // Python: hmac.new(b"key", b"The quick brown fox jumps over the lazy dog", hashlib.sha256).hexdigest()
        assert_eq!(
            user_hash("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let h = user_hash("s3cret-s3cret-s3cret", "user-42");
        assert!(verify("s3cret-s3cret-s3cret", "user-42", &h));
        assert!(verify("s3cret-s3cret-s3cret", "user-42", &h.to_uppercase()));
        assert!(!verify("s3cret-s3cret-s3cret", "user-43", &h));
        assert!(!verify("other-secret-other", "user-42", &h));
        assert!(!verify("s3cret-s3cret-s3cret", "user-42", ""));
    }
}
