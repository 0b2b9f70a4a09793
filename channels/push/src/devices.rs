//! Registered devices, kept in the inbox's durable [`ChannelState`].
//!
//! Layout (the state is a per-inbox key/value store without transactions):
//! - `app_push.devices.<sha256(external_id)>` → `{"external_id", "devices": [Device...]}`;
//! - `app_push.token.<sha256(platform:token)>` → the `external_id` owning the token, so a token
//!   registered by another user (a shared phone, a new login) moves instead of being shared.
//!
//! Hashing keeps keys short whatever the ids look like. Writes go through one lock per store,
//! shared by the ingress routes and every channel the factory built, so a registration and a
//! stale-token removal cannot lose each other's update. (Across several Kefu nodes the last
//! writer wins; registrations are rare and the app re-registers on start.)

use std::sync::Arc;

use chrono::{DateTime, Utc};
use kefu_channel::{ChannelState, IngestError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A user keeps at most this many devices; registering another drops the oldest.
pub(crate) const MAX_DEVICES_PER_USER: usize = 10;

/// The push service a device token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Firebase Cloud Messaging (Android, and iOS apps that use Firebase).
    Fcm,
    /// Apple Push Notification service.
    Apns,
}

impl Platform {
    /// `fcm` or `apns`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fcm => "fcm",
            Self::Apns => "apns",
        }
    }
}

/// One registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Device {
    pub(crate) platform: Platform,
    pub(crate) token: String,
    pub(crate) registered_at: DateTime<Utc>,
}

impl Device {
    /// The token's last characters, enough for an operator to match a log line to a device
    /// without exposing the token.
    pub(crate) fn label(&self) -> String {
        let tail: String = self
            .token
            .chars()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{}:…{tail}", self.platform.as_str())
    }
}

/// Checks and normalizes a device token; the error says what is wrong with it.
pub(crate) fn normalize_token(platform: Platform, raw: &str) -> Result<String, String> {
    let t = raw.trim();
    match platform {
        // APNs tokens are 32 bytes today, sent as hex; Apple says not to rely on the length.
        Platform::Apns => {
            if !(64..=200).contains(&t.len())
                || !t.len().is_multiple_of(2)
                || !t.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(
                    "an APNs device token is the hex string of the token bytes (64 or more hex digits)"
                        .into(),
                );
            }
            Ok(t.to_ascii_lowercase())
        }
        // FCM registration tokens are opaque, about 150-200 characters of URL-safe base64
        // plus ':' and '-'.
        Platform::Fcm => {
            if !(32..=4096).contains(&t.len())
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'))
            {
                return Err(
                    "an FCM registration token is 32 to 4096 characters of letters, digits and _-:."
                        .into(),
                );
            }
            Ok(t.to_owned())
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UserDevices {
    external_id: String,
    devices: Vec<Device>,
}

fn sha_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn user_key(external_id: &str) -> String {
    format!("app_push.devices.{}", sha_hex(external_id))
}

fn token_key(platform: Platform, token: &str) -> String {
    format!(
        "app_push.token.{}",
        sha_hex(&format!("{}:{token}", platform.as_str()))
    )
}

fn corrupt(e: serde_json::Error) -> IngestError {
    IngestError::Unavailable(format!("stored device list is unreadable: {e}"))
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Registered {
    /// `false` when the device was registered to this user already.
    pub(crate) created: bool,
    /// How many devices the user has now.
    pub(crate) devices: usize,
}

/// Devices of all users of the inboxes one factory serves.
pub(crate) struct DeviceStore {
    state: Arc<dyn ChannelState>,
    write: Arc<tokio::sync::Mutex<()>>,
}

impl DeviceStore {
    pub(crate) fn new(state: Arc<dyn ChannelState>, write: Arc<tokio::sync::Mutex<()>>) -> Self {
        Self { state, write }
    }

    async fn load(&self, inbox_id: i64, external_id: &str) -> Result<UserDevices, IngestError> {
        match self.state.get(inbox_id, &user_key(external_id)).await? {
            Some(v) if !v.is_empty() => serde_json::from_str(&v).map_err(corrupt),
            _ => Ok(UserDevices {
                external_id: external_id.to_owned(),
                devices: Vec::new(),
            }),
        }
    }

    async fn save(&self, inbox_id: i64, user: &UserDevices) -> Result<(), IngestError> {
        let v = serde_json::to_string(user).map_err(corrupt)?;
        self.state
            .put(inbox_id, &user_key(&user.external_id), &v)
            .await
    }

    /// The user's devices, oldest registration first.
    pub(crate) async fn devices(
        &self,
        inbox_id: i64,
        external_id: &str,
    ) -> Result<Vec<Device>, IngestError> {
        Ok(self.load(inbox_id, external_id).await?.devices)
    }

    /// Registers a (normalized) token for a user, moving it away from any other user.
    pub(crate) async fn register(
        &self,
        inbox_id: i64,
        external_id: &str,
        platform: Platform,
        token: &str,
    ) -> Result<Registered, IngestError> {
        let _w = self.write.lock().await;
        let tkey = token_key(platform, token);
        if let Some(owner) = self.state.get(inbox_id, &tkey).await?
            && !owner.is_empty()
            && owner != external_id
        {
            let mut prev = self.load(inbox_id, &owner).await?;
            prev.devices
                .retain(|d| !(d.platform == platform && d.token == token));
            self.save(inbox_id, &prev).await?;
        }
        let mut user = self.load(inbox_id, external_id).await?;
        let before = user.devices.len();
        user.devices
            .retain(|d| !(d.platform == platform && d.token == token));
        let created = user.devices.len() == before;
        user.devices.push(Device {
            platform,
            token: token.to_owned(),
            registered_at: Utc::now(),
        });
        let excess = user.devices.len().saturating_sub(MAX_DEVICES_PER_USER);
        let dropped: Vec<Device> = user.devices.drain(..excess).collect();
        self.save(inbox_id, &user).await?;
        self.state.put(inbox_id, &tkey, external_id).await?;
        for d in dropped {
            self.state
                .put(inbox_id, &token_key(d.platform, &d.token), "")
                .await?;
        }
        Ok(Registered {
            created,
            devices: user.devices.len(),
        })
    }

    /// Removes devices from a user; returns how many were registered.
    pub(crate) async fn remove(
        &self,
        inbox_id: i64,
        external_id: &str,
        gone: &[(Platform, String)],
    ) -> Result<usize, IngestError> {
        let _w = self.write.lock().await;
        let mut user = self.load(inbox_id, external_id).await?;
        let before = user.devices.len();
        user.devices
            .retain(|d| !gone.iter().any(|(p, t)| d.platform == *p && d.token == *t));
        let removed = before - user.devices.len();
        if removed == 0 {
            return Ok(0);
        }
        self.save(inbox_id, &user).await?;
        for (p, t) in gone {
            let tkey = token_key(*p, t);
            if self.state.get(inbox_id, &tkey).await?.as_deref() == Some(external_id) {
                self.state.put(inbox_id, &tkey, "").await?;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use kefu_channel::testkit::MemoryState;

    use super::*;

    const APNS: &str = "6a1f0c39e1c3a5b0f3b0fca1e3d5b0a1e3d5b0a1e3d5b0a1e3d5b0a1e3d5b0a1";

    #[test]
    fn tokens_are_checked_per_platform() {
        assert_eq!(
            normalize_token(Platform::Apns, &APNS.to_ascii_uppercase()).as_deref(),
            Ok(APNS)
        );
        let fcm = "bk3RNwTe3H0:CI2k_HHwgIpoDKCIZvvDMExUdFQ3P1-abcdefghijklmnop";
        assert_eq!(normalize_token(Platform::Fcm, fcm).as_deref(), Ok(fcm));
        for (p, bad) in [
            (Platform::Apns, "abc"),
            (Platform::Apns, &APNS[1..]),
            (Platform::Apns, &APNS.replace('a', "z")),
            (Platform::Fcm, "short"),
            (
                Platform::Fcm,
                "has spaces in it and is long enough to pass the length",
            ),
            (Platform::Fcm, &"x".repeat(5000)),
            (
                Platform::Fcm,
                "{\"json\":\"is not a token, though long enough\"}",
            ),
        ] {
            assert!(normalize_token(p, bad).is_err(), "{p:?} {bad:?} accepted");
        }
    }

    #[tokio::test]
    async fn a_token_moves_to_the_user_who_registered_it_last() {
        let store = DeviceStore::new(Arc::new(MemoryState::default()), Default::default());
        let r = store
            .register(1, "alice", Platform::Apns, APNS)
            .await
            .expect("ok");
        assert_eq!(
            r,
            Registered {
                created: true,
                devices: 1
            }
        );
        let again = store
            .register(1, "alice", Platform::Apns, APNS)
            .await
            .expect("ok");
        assert_eq!(
            again,
            Registered {
                created: false,
                devices: 1
            }
        );
        store
            .register(1, "bob", Platform::Apns, APNS)
            .await
            .expect("ok");
        assert!(store.devices(1, "alice").await.expect("ok").is_empty());
        assert_eq!(store.devices(1, "bob").await.expect("ok").len(), 1);
        assert!(
            store.devices(2, "bob").await.expect("ok").is_empty(),
            "inboxes are separate"
        );
    }

    #[tokio::test]
    async fn keeps_the_newest_devices_and_removes_on_request() {
        let store = DeviceStore::new(Arc::new(MemoryState::default()), Default::default());
        let token = |i: usize| format!("fcm-token-{i:04}-abcdefghijklmnopqrstuvwxyz");
        for i in 0..MAX_DEVICES_PER_USER + 2 {
            store
                .register(1, "u", Platform::Fcm, &token(i))
                .await
                .expect("ok");
        }
        let devices = store.devices(1, "u").await.expect("ok");
        assert_eq!(devices.len(), MAX_DEVICES_PER_USER);
        assert_eq!(devices[0].token, token(2), "the two oldest were dropped");
        let gone = [(Platform::Fcm, token(5)), (Platform::Fcm, token(0))];
        assert_eq!(store.remove(1, "u", &gone).await.expect("ok"), 1);
        assert_eq!(store.remove(1, "u", &gone).await.expect("ok"), 0);
        assert_eq!(
            store.devices(1, "u").await.expect("ok").len(),
            MAX_DEVICES_PER_USER - 1
        );
    }
}
