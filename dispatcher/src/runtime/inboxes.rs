//! Inbox rows as channel configs: the settings with their secrets, which are sealed at rest,
//! put back in; cached briefly for ingress routes, which look an inbox up on every callback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kefu_channel::{ChannelKind, InboxConfig, InboxLookup};
use kefu_normalizer::Db;
use kefu_normalizer::entity::inbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

/// Opens inbox secrets sealed at rest (with the instance key, in Kefu).
pub trait Unseal: Send + Sync + 'static {
    /// The plain bytes of `sealed`, or why they cannot be had.
    fn unseal(&self, sealed: &str) -> Result<Vec<u8>, String>;
}

/// The object holding the value a JSON pointer names, and the key within it.
fn parent_of<'a>(
    settings: &'a mut Value,
    pointer: &'a str,
) -> Option<(&'a mut serde_json::Map<String, Value>, &'a str)> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let parent = if parent.is_empty() {
        Some(settings)
    } else {
        settings.pointer_mut(parent)
    };
    Some((parent?.as_object_mut()?, key))
}

/// A JSON pointer to a setting (`/imap/password`) as the dotted path the API shows
/// (`imap.password`).
pub fn pointer_to_path(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Removes the values at `pointers` from `settings`, returning them keyed by pointer.
pub fn take_secrets(settings: &mut Value, pointers: &[&str]) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for p in pointers {
        if let Some(v) = parent_of(settings, p).and_then(|(o, key)| o.remove(key)) {
            out.insert((*p).to_owned(), v);
        }
    }
    out
}

/// Puts secrets taken by [`take_secrets`] back into `settings`.
pub fn put_secrets(settings: &mut Value, secrets: &serde_json::Map<String, Value>) {
    for (p, v) in secrets {
        if let Some((o, key)) = parent_of(settings, p) {
            o.insert(key.to_owned(), v.clone());
        }
    }
}

/// How long an inbox looked up by an ingress route is reused before it is read again: the
/// longest a change made on another node takes to reach this node's ingress routes (changes
/// made through this node are seen at once).
pub const INBOX_TTL: Duration = Duration::from_secs(1);

/// Loads inbox rows as [`InboxConfig`]s, secrets decrypted.
///
/// Ingress routes look an inbox up on every callback; [`Inboxes::get`] keeps each live inbox
/// for [`INBOX_TTL`], so a burst of callbacks costs one read and one decryption.
#[derive(Clone)]
pub struct Inboxes {
    db: Db,
    keys: Arc<dyn Unseal>,
    public_url: String,
    recent: Arc<Mutex<HashMap<i64, (Instant, InboxConfig)>>>,
}

impl Inboxes {
    /// Inboxes from `db`, their secrets opened with `keys`; `public_url` is Kefu's own.
    pub fn new(db: Db, keys: Arc<dyn Unseal>, public_url: String) -> Self {
        Self {
            db,
            keys,
            public_url,
            recent: Arc::default(),
        }
    }

    /// The decrypted secrets of a row, keyed by JSON pointer.
    fn secrets(&self, row: &inbox::Model) -> serde_json::Map<String, Value> {
        let Some(ct) = &row.secrets_ciphertext else {
            return serde_json::Map::new();
        };
        match self
            .keys
            .unseal(ct)
            .map(|b| serde_json::from_slice::<serde_json::Map<String, Value>>(&b))
        {
            Ok(Ok(secrets)) => secrets,
            Ok(Err(e)) => {
                tracing::error!(inbox = row.id, error = %e, "Stored inbox secrets are not JSON.");
                serde_json::Map::new()
            }
            Err(e) => {
                tracing::error!(inbox = row.id, error = %e, "Cannot decrypt inbox secrets.");
                serde_json::Map::new()
            }
        }
    }

    /// The secrets a row actually has a value for (not null, not empty), as dotted paths
    /// (`imap.password`), in pointer order.
    pub fn secrets_set(&self, row: &inbox::Model) -> Vec<String> {
        self.secrets(row)
            .iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(p, _)| pointer_to_path(p))
            .collect()
    }

    /// The full config of a row.
    pub fn config(&self, row: &inbox::Model) -> InboxConfig {
        let mut settings = row.settings.clone();
        put_secrets(&mut settings, &self.secrets(row));
        InboxConfig {
            id: row.id,
            name: row.name.clone(),
            kind: ChannelKind::new(row.channel_type.clone()),
            settings,
            public_token: row.public_token.clone(),
            public_url: self.public_url.clone(),
        }
    }

    /// A live inbox by id (read at most [`INBOX_TTL`] ago).
    pub async fn get(&self, id: i64) -> Option<InboxConfig> {
        if let Some((at, config)) = self.recent().get(&id)
            && at.elapsed() < INBOX_TTL
        {
            return Some(config.clone());
        }
        // Unknown ids are not remembered: probing random ids must not grow the map.
        let row = inbox::Entity::find_by_id(id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "Inbox lookup failed."))
            .ok()?;
        let Some(row) = row else {
            self.forget(id);
            return None;
        };
        let config = self.config(&row);
        self.recent().insert(id, (Instant::now(), config.clone()));
        Some(config)
    }

    /// The live inbox of one of `kinds` whose public token is `token` (the web chat widget's
    /// `website_token`).
    pub async fn by_public_token(
        &self,
        token: &str,
        kinds: &[&str],
    ) -> Result<Option<InboxConfig>, sea_orm::DbErr> {
        let row = inbox::Entity::find()
            .filter(inbox::Column::PublicToken.eq(token))
            .filter(inbox::Column::ChannelType.is_in(kinds.iter().copied()))
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?;
        Ok(row.map(|r| self.config(&r)))
    }

    /// Drops what [`Inboxes::get`] remembers of an inbox this node just changed or deleted.
    pub fn forget(&self, id: i64) {
        self.recent().remove(&id);
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Instant, InboxConfig)>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The inbox `id` as stored now (`None`: deleted or unknown), bypassing the cache.
    pub async fn stored(&self, id: i64) -> Result<Option<InboxConfig>, sea_orm::DbErr> {
        self.forget(id);
        let row = inbox::Entity::find_by_id(id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?;
        Ok(row.map(|r| self.config(&r)))
    }

    /// Every live inbox, read now.
    pub async fn all(&self) -> Result<Vec<InboxConfig>, sea_orm::DbErr> {
        let rows = inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .all(self.db.conn())
            .await?;
        Ok(rows.iter().map(|r| self.config(r)).collect())
    }

    /// An [`InboxLookup`] limited to one channel type, for that type's ingress routes.
    pub fn lookup_for(&self, kind: ChannelKind) -> Arc<dyn InboxLookup> {
        Arc::new(KindLookup {
            inboxes: self.clone(),
            kind,
        })
    }
}

struct KindLookup {
    inboxes: Inboxes,
    kind: ChannelKind,
}

#[async_trait]
impl InboxLookup for KindLookup {
    async fn inbox(&self, id: i64) -> Option<InboxConfig> {
        self.inboxes.get(id).await.filter(|i| i.kind == self.kind)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pointers_become_dotted_paths() {
        assert_eq!(pointer_to_path("/imap/password"), "imap.password");
        assert_eq!(pointer_to_path("/app_secret"), "app_secret");
    }

    #[test]
    fn secrets_are_taken_out_and_put_back() {
        let mut s =
            json!({"address": "a@b", "imap": {"host": "h", "password": "p1"}, "app_secret": "p2"});
        let secrets = take_secrets(&mut s, &["/imap/password", "/app_secret", "/missing/x"]);
        assert_eq!(s, json!({"address": "a@b", "imap": {"host": "h"}}));
        assert_eq!(secrets.len(), 2);
        put_secrets(&mut s, &secrets);
        assert_eq!(
            s,
            json!({"address": "a@b", "imap": {"host": "h", "password": "p1"}, "app_secret": "p2"})
        );
    }
}
