//! Replay protection for plaintext callbacks.
//!
//! In plaintext mode WeChat signs only `token`, `timestamp` and `nonce`, not the body, so a
//! captured query string could be replayed with any body for as long as its timestamp is fresh
//! (±5 minutes). Each accepted `(timestamp, nonce)` pair of an inbox is remembered with a
//! digest of its body through [`ChannelState::remember`], which answers the same across every
//! Kefu node on the database: the same pair with the same body is WeChat retrying a callback
//! that was not answered in time (answered as usual, and the message dedupe keeps it single);
//! the same pair with another body is refused, whichever node the replay reaches. Pairs are
//! remembered for the whole window a timestamp is accepted in (twice the allowed skew), so a
//! pair is forgotten only once its timestamp is refused anyway.
//!
//! Safe mode (AES, `encoding_aes_key`) signs the body and needs none of this; it is the
//! recommended setting.

use std::time::Duration;

use axum::http::StatusCode;
use kefu_channel::{ChannelState, IngestError};
use sha1::{Digest, Sha1};

use crate::ingress::Reject;

/// Accepts the first use of `(timestamp, nonce)` for `inbox` and its exact repeats; refuses
/// the pair with another body. `max_skew` is how far a timestamp may be from now.
pub(crate) async fn check(
    state: &dyn ChannelState,
    inbox: i64,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    max_skew: Duration,
) -> Result<(), Reject> {
    let digest = hex::encode(Sha1::digest(body));
    let key = format!("plain_callback:{timestamp}:{nonce}");
    // A timestamp is fresh from `max_skew` before it until `max_skew` after it.
    let window = max_skew.saturating_mul(2) + Duration::from_secs(1);
    match state.remember(inbox, &key, &digest, window).await {
        Ok(None) => Ok(()),
        Ok(Some(seen)) if seen == digest => Ok(()),
        Ok(Some(_)) => Err(Reject::new(
            StatusCode::UNAUTHORIZED,
            "replayed_nonce",
            "This timestamp and nonce were already used with another body; use safe mode \
             (encoding_aes_key) so that callbacks are signed with their body.",
        )),
        Err(IngestError::Unavailable(reason) | IngestError::Rejected(reason)) => {
            tracing::warn!(%reason, "Could not check a plain callback for replay; WeChat will retry it.");
            Err(Reject::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the callback could not be checked; retry later",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use kefu_channel::testkit::MemoryState;

    use super::*;

    const SKEW: Duration = Duration::from_secs(300);

    #[tokio::test]
    async fn a_repeat_passes_and_another_body_is_refused() {
        let state = MemoryState::default();
        let check = |inbox, nonce, body: &'static [u8]| {
            let state = &state;
            async move { check(state, inbox, "1000", nonce, body, SKEW).await }
        };
        assert!(check(1, "n1", b"<xml>a</xml>").await.is_ok());
        // WeChat retrying the same callback.
        assert!(check(1, "n1", b"<xml>a</xml>").await.is_ok());
        let e = check(1, "n1", b"<xml>forged</xml>")
            .await
            .expect_err("a replay with another body");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::UNAUTHORIZED, "replayed_nonce")
        );
        // Another nonce, or the same pair on another inbox, is a different callback.
        assert!(check(1, "n2", b"<xml>b</xml>").await.is_ok());
        assert!(check(2, "n1", b"<xml>c</xml>").await.is_ok());
    }
}
