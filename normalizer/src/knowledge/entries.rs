//! [`Knowledge`]: the knowledge base's entries in the database.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{KnowledgeInput, KnowledgeView};
use crate::db::Db;
use crate::entity::knowledge_entry;
use crate::error::StoreError;

/// Reads and writes knowledge-base entries.
#[derive(Debug, Clone)]
pub struct Knowledge {
    db: Db,
}

impl Knowledge {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Adds an entry.
    pub async fn create(&self, input: KnowledgeInput) -> Result<KnowledgeView, StoreError> {
        let input = input.checked()?;
        let now = Utc::now();
        let row = knowledge_entry::ActiveModel {
            question: Set(input.question),
            alternatives: Set(json!(input.alternatives)),
            answer: Set(input.answer),
            tags: Set(json!(input.tags)),
            locale: Set(input.locale),
            enabled: Set(input.enabled.unwrap_or(true)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await?;
        Ok(KnowledgeView::from(&row))
    }

    /// Replaces every field of entry `id`.
    pub async fn update(
        &self,
        id: i64,
        input: KnowledgeInput,
    ) -> Result<KnowledgeView, StoreError> {
        let input = input.checked()?;
        let row = knowledge_entry::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("knowledge entry"))?;
        let mut am: knowledge_entry::ActiveModel = row.into();
        am.question = Set(input.question);
        am.alternatives = Set(json!(input.alternatives));
        am.answer = Set(input.answer);
        am.tags = Set(json!(input.tags));
        am.locale = Set(input.locale);
        am.enabled = Set(input.enabled.unwrap_or(true));
        am.updated_at = Set(Utc::now());
        let row = am.update(self.db.conn()).await?;
        Ok(KnowledgeView::from(&row))
    }

    /// Deletes entry `id` (past bot decisions keep its id).
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let res = knowledge_entry::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound("knowledge entry"));
        }
        Ok(())
    }

    /// Entry `id`.
    pub async fn get(&self, id: i64) -> Result<KnowledgeView, StoreError> {
        knowledge_entry::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .map(|r| KnowledgeView::from(&r))
            .ok_or(StoreError::NotFound("knowledge entry"))
    }

    /// Up to `limit` entries with an id above `after`, oldest first.
    pub async fn list(
        &self,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<KnowledgeView>, StoreError> {
        let mut q = knowledge_entry::Entity::find().order_by_asc(knowledge_entry::Column::Id);
        if let Some(after) = after {
            q = q.filter(knowledge_entry::Column::Id.gt(after));
        }
        Ok(q.limit(limit)
            .all(self.db.conn())
            .await?
            .iter()
            .map(KnowledgeView::from)
            .collect())
    }

    /// What changes whenever an entry is added, edited or deleted: how many there are and the
    /// latest change. A node compares it to tell whether its index may be behind.
    pub async fn fingerprint(&self) -> Result<(i64, Option<chrono::DateTime<Utc>>), StoreError> {
        let row: Option<(i64, Option<chrono::DateTime<Utc>>)> = knowledge_entry::Entity::find()
            .select_only()
            .column_as(knowledge_entry::Column::Id.count(), "n")
            .column_as(knowledge_entry::Column::UpdatedAt.max(), "latest")
            .into_tuple()
            .one(self.db.conn())
            .await?;
        Ok(row.unwrap_or((0, None)))
    }

    /// Every enabled entry, for building the search index.
    pub async fn all_enabled(&self) -> Result<Vec<KnowledgeView>, StoreError> {
        Ok(knowledge_entry::Entity::find()
            .filter(knowledge_entry::Column::Enabled.eq(true))
            .order_by_asc(knowledge_entry::Column::Id)
            .all(self.db.conn())
            .await?
            .iter()
            .map(KnowledgeView::from)
            .collect())
    }
}
