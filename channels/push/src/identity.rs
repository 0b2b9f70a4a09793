//! `user_hash`: how the app backend vouches for a user id.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(app_secret: &str, external_id: &str) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(external_id.as_bytes());
    mac
}

/// `hex(HMAC-SHA256(app_secret, external_id))`, lowercase: what an app backend computes for
/// each user and hands to the app together with the user's id.
pub fn user_hash(app_secret: &str, external_id: &str) -> String {
    hex::encode(mac(app_secret, external_id).finalize().into_bytes())
}

/// Whether `given` (hex, either case) is the user hash of `external_id`, compared in constant
/// time.
pub(crate) fn verify_user_hash(app_secret: &str, external_id: &str, given: &str) -> bool {
    let Ok(given) = hex::decode(given.trim()) else {
        return false;
    };
    mac(app_secret, external_id).verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PROTOCOLS.md vector IV1 (intercom/identity-verification-code-samples).
    const IV1: &str = "aa747c502a898200f9e4fa21bac68136f886a0e27aec70ba06daf2e2a5cb5597";

    #[test]
    fn matches_the_intercom_vector() {
        assert_eq!(user_hash("secret", "Message"), IV1);
        assert!(verify_user_hash("secret", "Message", IV1));
        assert!(verify_user_hash(
            "secret",
            "Message",
            &IV1.to_ascii_uppercase()
        ));
    }

    #[test]
    fn refuses_forgeries() {
        let forged = [
            "",
            "not hex",
            &IV1[..62],                      // truncated
            &format!("{IV1}00"),             // extended
            &user_hash("secret", "Mallory"), // another user's hash
            &user_hash("wrong", "Message"),  // another secret
        ];
        for f in forged {
            assert!(!verify_user_hash("secret", "Message", f), "{f:?} accepted");
        }
    }
}
