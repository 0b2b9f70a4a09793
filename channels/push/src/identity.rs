//! `user_hash`: how the app backend vouches for a user id.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::settings::PushSettings;

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

/// Longest accepted `external_id`, in bytes.
pub(crate) const MAX_EXTERNAL_ID_BYTES: usize = 255;

/// Why an app user was not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRefused {
    /// The inbox's stored settings do not parse; an administrator must fix them.
    #[error("the app inbox's settings are invalid")]
    Misconfigured,
    /// `user_hash` is not `hex(HMAC-SHA256(app_secret, external_id))`.
    #[error("user_hash does not match external_id")]
    BadHash,
    /// The id is empty, too long or has control characters.
    #[error("external_id must be 1 to {MAX_EXTERNAL_ID_BYTES} bytes without control characters")]
    BadExternalId,
}

/// Checks an app user the way every app API call does: `user_hash` vouches for `external_id`
/// under the `app_secret` of the inbox whose settings are `settings`, and the id is
/// well-formed. Kefu's web chat WebSocket uses it so an app user chats live under the same
/// identity as over the app API.
pub fn authenticate_user(
    settings: &serde_json::Value,
    external_id: &str,
    user_hash: &str,
) -> Result<(), UserRefused> {
    let settings = PushSettings::from_value(settings).map_err(|_| UserRefused::Misconfigured)?;
    check_user(&settings.app_secret, external_id, user_hash)
}

/// [`authenticate_user`] once the settings are parsed.
pub(crate) fn check_user(
    app_secret: &str,
    external_id: &str,
    user_hash: &str,
) -> Result<(), UserRefused> {
    if !verify_user_hash(app_secret, external_id, user_hash) {
        return Err(UserRefused::BadHash);
    }
    let e = external_id;
    if e.trim().is_empty() || e.len() > MAX_EXTERNAL_ID_BYTES || e.chars().any(char::is_control) {
        return Err(UserRefused::BadExternalId);
    }
    Ok(())
}

/// The dedupe key of a message an app user wrote with `client_id`, whichever way it came (the
/// app API or the WebSocket), so a message resent the other way is stored once. Per user,
/// since two users' apps may pick the same `client_id`; the id is hashed to keep the key
/// short.
///
/// The hash also keeps the key unambiguous: it is always 32 hex digits, so the key splits into
/// user and `client_id` one way only, whatever characters either contains (user `acme` with
/// `client_id` `42:msg-1` and user `acme:42` with `msg-1` get different keys). The format has
/// been this since app users existed, so stored keys still match their resends.
pub fn message_dedupe_key(external_id: &str, client_id: &str) -> String {
    let user = hex::encode(&Sha256::digest(external_id.as_bytes())[..16]);
    format!("app:{user}:{client_id}")
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
    fn authenticates_users_like_the_app_api() {
        let settings = serde_json::json!({"app_secret": "app-secret-0123456789"});
        let hash = user_hash("app-secret-0123456789", "u-1");
        assert_eq!(authenticate_user(&settings, "u-1", &hash), Ok(()));
        assert_eq!(
            authenticate_user(&settings, "u-2", &hash),
            Err(UserRefused::BadHash)
        );
        let bad_id = "a\nb";
        let bad_hash = user_hash("app-secret-0123456789", bad_id);
        assert_eq!(
            authenticate_user(&settings, bad_id, &bad_hash),
            Err(UserRefused::BadExternalId)
        );
        assert_eq!(
            authenticate_user(&serde_json::json!({"app_secret": 1}), "u-1", &hash),
            Err(UserRefused::Misconfigured)
        );
        assert_ne!(
            message_dedupe_key("u-1", "c-1"),
            message_dedupe_key("u-2", "c-1"),
            "per user"
        );
        assert_ne!(
            message_dedupe_key("acme", "42:msg-1"),
            message_dedupe_key("acme:42", "msg-1"),
            "a delimiter in either part cannot make two users' keys meet"
        );
        assert_eq!(
            message_dedupe_key("u-1", "c-1"),
            "app:a24a7f55f278dd49fb1f99c5507800cb:c-1",
            "the stored format does not change"
        );
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
