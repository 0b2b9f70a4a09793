//! Server-side sessions: created at login, verified on every request, ended by logout,
//! password changes and deactivation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set};

use super::{new_secret, token_hash};
use crate::db::Db;
use crate::entity::session;
use crate::error::StoreError;

/// How long a verified session is trusted from memory before the row is read again. A
/// revocation made on this node is seen at once; one made on another node within this bound.
const CACHE_FOR: Duration = Duration::from_secs(30);
/// `last_seen_at` (and with it the sliding expiry) is written at most this often.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// The cache is emptied when it grows past this many sessions.
const CACHE_MAX: usize = 10_000;

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetimes {
    /// A session unused this long ends; each use moves the end forward.
    pub idle: chrono::TimeDelta,
    /// A session ends this long after sign-in, used or not.
    pub max: chrono::TimeDelta,
}

#[derive(Debug, Clone)]
struct Cached {
    row: session::Model,
    read_at: Instant,
}

/// The session store.
#[derive(Debug, Clone)]
pub struct Sessions {
    db: Db,
    lifetimes: SessionLifetimes,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl Sessions {
    /// A store over `db`.
    pub fn new(db: Db, lifetimes: SessionLifetimes) -> Self {
        Self {
            db,
            lifetimes,
            cache: Arc::default(),
        }
    }

    /// Checks that the session table's database answers: every request verifies a session,
    /// so this is what readiness means.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    /// Starts a session for `agent_id`; returns its bearer token (shown once) and row.
    pub async fn create(&self, agent_id: i64) -> Result<(String, session::Model), StoreError> {
        let token = new_secret("kefu_s_");
        let now = Utc::now();
        let max = now + self.lifetimes.max;
        let row = session::ActiveModel {
            agent_id: Set(agent_id),
            token_hash: Set(token_hash(&token)),
            created_at: Set(now),
            last_seen_at: Set(now),
            idle_expires_at: Set((now + self.lifetimes.idle).min(max)),
            max_expires_at: Set(max),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await?;
        Ok((token, row))
    }

    /// The live session behind `token`, sliding its idle expiry (written at most once a
    /// minute); `None` when unknown, expired or revoked.
    pub async fn verify(&self, token: &str) -> Result<Option<session::Model>, StoreError> {
        let hash = token_hash(token);
        let cached = self.cached(&hash);
        let row = match cached {
            Some(row) => row,
            None => {
                let Some(row) = session::Entity::find()
                    .filter(session::Column::TokenHash.eq(hash.as_str()))
                    .one(self.db.conn())
                    .await?
                else {
                    return Ok(None);
                };
                self.remember(&hash, row.clone());
                row
            }
        };
        let now = Utc::now();
        if !live(&row, now) {
            self.forget(|h, _| h == hash);
            return Ok(None);
        }
        if now - row.last_seen_at < TOUCH_EVERY {
            return Ok(Some(row));
        }
        let idle_expires_at = (now + self.lifetimes.idle).min(row.max_expires_at);
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .col_expr(session::Column::IdleExpiresAt, Expr::value(idle_expires_at))
            .filter(session::Column::Id.eq(row.id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.db.conn())
            .await?;
        let row = session::Model {
            last_seen_at: now,
            idle_expires_at,
            ..row
        };
        self.remember(&hash, row.clone());
        Ok(Some(row))
    }

    /// Ends one session (logout).
    pub async fn revoke(&self, id: i64) -> Result<(), StoreError> {
        self.revoke_where(Condition::all().add(session::Column::Id.eq(id)))
            .await?;
        self.forget(|_, c| c.row.id == id);
        Ok(())
    }

    /// Ends every session of `agent_id` except `keep` (password change, deactivation).
    pub async fn revoke_agent(&self, agent_id: i64, keep: Option<i64>) -> Result<(), StoreError> {
        let mut cond = Condition::all().add(session::Column::AgentId.eq(agent_id));
        if let Some(keep) = keep {
            cond = cond.add(session::Column::Id.ne(keep));
        }
        self.revoke_where(cond).await?;
        self.forget(|_, c| c.row.agent_id == agent_id && Some(c.row.id) != keep);
        Ok(())
    }

    async fn revoke_where(&self, cond: Condition) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Some(Utc::now())))
            .filter(cond)
            .filter(session::Column::RevokedAt.is_null())
            .exec(self.db.conn())
            .await?;
        Ok(())
    }

    fn cached(&self, hash: &str) -> Option<session::Model> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(hash)
            .filter(|c| c.read_at.elapsed() < CACHE_FOR)
            .map(|c| c.row.clone())
    }

    fn remember(&self, hash: &str, row: session::Model) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                hash.to_owned(),
                Cached {
                    row,
                    read_at: Instant::now(),
                },
            );
        }
    }

    fn forget(&self, which: impl Fn(&str, &Cached) -> bool) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|h, c| !which(h, c));
        }
    }
}

fn live(row: &session::Model, now: DateTime<Utc>) -> bool {
    row.revoked_at.is_none() && now < row.idle_expires_at && now < row.max_expires_at
}
