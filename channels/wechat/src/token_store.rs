//! Access tokens shared by every node that serves an account.
//!
//! The classic `cgi-bin/token` endpoint invalidates an Official Account's previous token five
//! minutes after it issues a new one, and WeChat caps how often it may be called. Nodes that
//! each fetched their own token would keep invalidating each other's. So the token an account's
//! client fetches is stored in the inbox's [`ChannelState`] and read back by the other nodes
//! before they fetch. The value is sealed (AES-256-GCM) with a key derived from the account's
//! secret: whoever can read it could fetch a token anyway.
//!
//! Two nodes finding the stored token due at the same moment may both fetch; the later write
//! wins, the other node's token is refused within five minutes, and that node then reads the
//! stored one instead of fetching again.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use kefu_channel::ChannelState;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the sealed token is kept in the inbox's state.
pub(crate) const TOKEN_KEY: &str = "wechat.access_token";
const NONCE_LEN: usize = 12;

/// An account's token as the nodes share it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SharedToken {
    /// The access token.
    pub(crate) token: String,
    /// When to fetch a new one, in seconds since the Unix epoch.
    pub(crate) refresh_at: u64,
}

impl SharedToken {
    /// How long from now until it is due, `None` when it is due already.
    pub(crate) fn fresh_for(&self) -> Option<Duration> {
        let now = unix_now();
        (self.refresh_at > now).then(|| Duration::from_secs(self.refresh_at - now))
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One inbox's slot for its account's token.
pub(crate) struct TokenStore {
    state: Arc<dyn ChannelState>,
    inbox_id: i64,
    cipher: Aes256Gcm,
}

impl TokenStore {
    /// The slot of `inbox_id`, sealed with a key derived from the account's `id` (app or corp
    /// id) and `secret`, so a changed secret never reads a token fetched with the old one.
    pub(crate) fn new(
        state: Arc<dyn ChannelState>,
        inbox_id: i64,
        id: &str,
        secret: &SecretString,
    ) -> Self {
        let key = Sha256::new()
            .chain_update(b"kefu wechat access token\0")
            .chain_update(id.as_bytes())
            .chain_update(b"\0")
            .chain_update(secret.expose_secret().as_bytes())
            .finalize();
        Self {
            state,
            inbox_id,
            cipher: Aes256Gcm::new(&key),
        }
    }

    /// The stored token, if any can be read. Storage errors and values sealed with another key
    /// read as none: the caller then fetches a token of its own.
    pub(crate) async fn load(&self) -> Option<SharedToken> {
        let sealed = match self.state.get(self.inbox_id, TOKEN_KEY).await {
            Ok(v) => v?,
            Err(e) => {
                tracing::debug!(inbox = self.inbox_id, error = %e, "Cannot read the shared access token.");
                return None;
            }
        };
        self.open(&sealed)
    }

    /// Stores `token` for the other nodes; a failure only costs them a fetch of their own.
    pub(crate) async fn store(&self, token: &SharedToken) {
        let Some(sealed) = self.seal(token) else {
            return;
        };
        if let Err(e) = self.state.put(self.inbox_id, TOKEN_KEY, &sealed).await {
            tracing::warn!(inbox = self.inbox_id, error = %e, "Cannot share the access token with other nodes.");
        }
    }

    /// Clears the stored token when it is `stale` (the provider refused it), so that no node
    /// reads it again; a token another node stored since stays.
    pub(crate) async fn forget(&self, stale: &str) {
        if self.load().await.is_some_and(|t| t.token == stale)
            && let Err(e) = self.state.put(self.inbox_id, TOKEN_KEY, "").await
        {
            tracing::debug!(inbox = self.inbox_id, error = %e, "Cannot clear the shared access token.");
        }
    }

    fn seal(&self, token: &SharedToken) -> Option<String> {
        let plain = serde_json::to_vec(token).ok()?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
                .ok()?,
        );
        Some(B64.encode(out))
    }

    fn open(&self, sealed: &str) -> Option<SharedToken> {
        let raw = B64.decode(sealed).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_channel::testkit::MemoryState;

    fn token(t: &str) -> SharedToken {
        SharedToken {
            token: t.into(),
            refresh_at: unix_now() + 600,
        }
    }

    #[tokio::test]
    async fn a_stored_token_reads_back_sealed_and_only_with_the_same_secret() {
        let state: Arc<dyn ChannelState> = Arc::new(MemoryState::default());
        let a = TokenStore::new(state.clone(), 7, "wx1", &"s3cret".to_owned().into());
        a.store(&token("TOKEN-1")).await;
        let raw = state
            .get(7, TOKEN_KEY)
            .await
            .expect("read")
            .expect("stored");
        assert!(!raw.contains("TOKEN-1"), "the stored value is sealed");

        let same = TokenStore::new(state.clone(), 7, "wx1", &"s3cret".to_owned().into());
        assert_eq!(same.load().await.map(|t| t.token), Some("TOKEN-1".into()));
        let other_secret = TokenStore::new(state.clone(), 7, "wx1", &"changed".to_owned().into());
        assert_eq!(other_secret.load().await, None);
        let other_inbox = TokenStore::new(state, 8, "wx1", &"s3cret".to_owned().into());
        assert_eq!(other_inbox.load().await, None);
    }

    #[tokio::test]
    async fn forgetting_clears_only_the_refused_token() {
        let state: Arc<dyn ChannelState> = Arc::new(MemoryState::default());
        let store = TokenStore::new(state, 1, "corp", &"k".to_owned().into());
        store.store(&token("NEW")).await;
        store.forget("OLD").await;
        assert_eq!(store.load().await.map(|t| t.token), Some("NEW".into()));
        store.forget("NEW").await;
        assert_eq!(store.load().await, None);
    }

    #[test]
    fn a_token_past_its_refresh_time_is_due() {
        let due = SharedToken {
            token: "t".into(),
            refresh_at: unix_now().saturating_sub(1),
        };
        assert_eq!(due.fresh_for(), None);
        assert!(token("t").fresh_for().is_some());
    }
}
