//! [`Knowledge`]: the knowledge base's entries in the database.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::csv::{ImportRow, RowError};
use super::{KnowledgeInput, KnowledgeView, files};
use crate::db::Db;
use crate::entity::knowledge_entry;
use crate::error::StoreError;

/// Reads and writes knowledge-base entries.
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub(super) db: Db,
}

impl Knowledge {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Adds an entry, saved by agent `editor` (whose uploads its files may be).
    pub async fn create(
        &self,
        input: KnowledgeInput,
        editor: i64,
    ) -> Result<KnowledgeView, StoreError> {
        let mut input = input.checked()?;
        let file_ids = input.attachment_ids.take().unwrap_or_default();
        files::check(self.db.conn(), &file_ids, editor, None).await?;
        let tx = self.db.begin_write().await?;
        let row = new_row(input, Utc::now()).insert(&*tx).await?;
        files::set(&*tx, row.id, &file_ids).await?;
        tx.commit().await?;
        self.one_with_files(KnowledgeView::from(&row)).await
    }

    /// Replaces every field of entry `id` (its files only when `attachment_ids` is given),
    /// saved by agent `editor`.
    pub async fn update(
        &self,
        id: i64,
        input: KnowledgeInput,
        editor: i64,
    ) -> Result<KnowledgeView, StoreError> {
        let mut input = input.checked()?;
        let file_ids = input.attachment_ids.take();
        if let Some(ids) = &file_ids {
            files::check(self.db.conn(), ids, editor, Some(id)).await?;
        }
        let tx = self.db.begin_write().await?;
        let row = knowledge_entry::Entity::find_by_id(id)
            .one(&*tx)
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
        let row = am.update(&*tx).await?;
        if let Some(ids) = &file_ids {
            files::set(&*tx, id, ids).await?;
        }
        tx.commit().await?;
        self.one_with_files(KnowledgeView::from(&row)).await
    }

    async fn one_with_files(&self, view: KnowledgeView) -> Result<KnowledgeView, StoreError> {
        self.with_files(vec![view])
            .await?
            .pop()
            .ok_or(StoreError::NotFound("knowledge entry"))
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
        let view = knowledge_entry::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .map(|r| KnowledgeView::from(&r))
            .ok_or(StoreError::NotFound("knowledge entry"))?;
        self.one_with_files(view).await
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
        let views = q
            .limit(limit)
            .all(self.db.conn())
            .await?
            .iter()
            .map(KnowledgeView::from)
            .collect();
        self.with_files(views).await
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

    /// Every entry, oldest first (the CSV export).
    pub async fn all(&self) -> Result<Vec<KnowledgeView>, StoreError> {
        Ok(knowledge_entry::Entity::find()
            .order_by_asc(knowledge_entry::Column::Id)
            .all(self.db.conn())
            .await?
            .iter()
            .map(KnowledgeView::from)
            .collect())
    }

    /// Stores the rows of an import in one transaction: a row with an `id` replaces that
    /// entry, one without adds an entry. When a row names an entry that does not exist,
    /// nothing is stored and [`ImportError::Rows`] says which.
    pub async fn import(&self, rows: Vec<ImportRow>) -> Result<Imported, ImportError> {
        let tx = self.db.begin_write().await?;
        let ids: Vec<i64> = rows.iter().filter_map(|r| r.id).collect();
        let mut existing = Vec::new();
        for chunk in ids.chunks(500) {
            let found: Vec<i64> = knowledge_entry::Entity::find()
                .select_only()
                .column(knowledge_entry::Column::Id)
                .filter(knowledge_entry::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&*tx)
                .await?;
            existing.extend(found);
        }
        let missing: Vec<RowError> = rows
            .iter()
            .filter_map(|r| {
                let id = r.id?;
                (!existing.contains(&id)).then(|| RowError {
                    row: r.row,
                    field: "id".into(),
                    reason: format!(
                        "no entry has id {id}; leave it empty to add the row as a new entry"
                    ),
                })
            })
            .collect();
        if !missing.is_empty() {
            tx.rollback().await?;
            return Err(ImportError::Rows(missing));
        }
        let now = Utc::now();
        let mut done = Imported::default();
        for r in rows {
            let mut am = new_row(r.input, now);
            match r.id {
                Some(id) => {
                    am.id = sea_orm::ActiveValue::Unchanged(id);
                    am.created_at = sea_orm::ActiveValue::NotSet;
                    done.updated
                        .push(KnowledgeView::from(&am.update(&*tx).await?));
                }
                None => done
                    .created
                    .push(KnowledgeView::from(&am.insert(&*tx).await?)),
            }
        }
        tx.commit().await?;
        Ok(done)
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

/// The row of a new entry made of `input` (already checked) at `now`.
pub(super) fn new_row(
    input: KnowledgeInput,
    now: chrono::DateTime<Utc>,
) -> knowledge_entry::ActiveModel {
    knowledge_entry::ActiveModel {
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
}

/// What an import stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// The entries added.
    pub created: Vec<KnowledgeView>,
    /// The entries replaced.
    pub updated: Vec<KnowledgeView>,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows are wrong.
    #[error("{} rows of the file are wrong", .0.len())]
    Rows(Vec<RowError>),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}
