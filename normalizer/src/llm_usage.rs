//! The language model's per-inbox daily budget: requests (and, optionally, tokens) counted in
//! the `llm_usage` table, one row per inbox and UTC day. A request is counted before it is
//! sent, in one conditional update, so two nodes cannot both take the last one; the tokens the
//! API reports are added after the answer.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::Db;
use crate::entity::llm_usage;
use crate::error::StoreError;

/// What one inbox may spend per UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests per day.
    pub requests: u64,
    /// Tokens per day, when limited: no request is sent once the day's tokens reach it.
    pub tokens: Option<u64>,
}

/// One inbox's spending on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spent {
    /// Requests sent.
    pub requests: u64,
    /// Tokens reported.
    pub tokens: u64,
}

/// The usage store; cheap to clone.
#[derive(Clone)]
pub struct LlmUsage {
    db: Db,
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl LlmUsage {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Counts one request of inbox `inbox_id` on the day of `at` if `budget` allows it;
    /// `false` (nothing counted) when the day's requests or tokens are used up.
    pub async fn take(
        &self,
        inbox_id: i64,
        at: DateTime<Utc>,
        budget: Budget,
    ) -> Result<bool, StoreError> {
        let day = day(at);
        let tx = self.db.begin_write().await?;
        llm_usage::Entity::insert(llm_usage::ActiveModel {
            inbox_id: Set(inbox_id),
            day: Set(day.clone()),
            requests: Set(0),
            tokens: Set(0),
        })
        .on_conflict(
            OnConflict::columns([llm_usage::Column::InboxId, llm_usage::Column::Day])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&*tx)
        .await?;
        let mut update = llm_usage::Entity::update_many()
            .col_expr(
                llm_usage::Column::Requests,
                Expr::col(llm_usage::Column::Requests).add(1),
            )
            .filter(llm_usage::Column::InboxId.eq(inbox_id))
            .filter(llm_usage::Column::Day.eq(day))
            .filter(llm_usage::Column::Requests.lt(clamp(budget.requests)));
        if let Some(tokens) = budget.tokens {
            update = update.filter(llm_usage::Column::Tokens.lt(clamp(tokens)));
        }
        let taken = update.exec(&*tx).await?.rows_affected == 1;
        tx.commit().await?;
        Ok(taken)
    }

    /// Adds `tokens` to inbox `inbox_id`'s spending on the day of `at`.
    pub async fn add_tokens(
        &self,
        inbox_id: i64,
        at: DateTime<Utc>,
        tokens: u64,
    ) -> Result<(), StoreError> {
        let _slot = self.db.write_slot().await;
        llm_usage::Entity::update_many()
            .col_expr(
                llm_usage::Column::Tokens,
                Expr::col(llm_usage::Column::Tokens).add(clamp(tokens)),
            )
            .filter(llm_usage::Column::InboxId.eq(inbox_id))
            .filter(llm_usage::Column::Day.eq(day(at)))
            .exec(self.db.conn())
            .await?;
        Ok(())
    }

    /// What inbox `inbox_id` spent on the day of `at`.
    pub async fn spent(&self, inbox_id: i64, at: DateTime<Utc>) -> Result<Spent, StoreError> {
        let row = llm_usage::Entity::find_by_id((inbox_id, day(at)))
            .one(self.db.conn())
            .await?;
        Ok(row.map_or_else(Spent::default, |r| Spent {
            requests: u64::try_from(r.requests).unwrap_or(0),
            tokens: u64::try_from(r.tokens).unwrap_or(0),
        }))
    }
}
