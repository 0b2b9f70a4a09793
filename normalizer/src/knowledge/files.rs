//! The files a knowledge-base answer carries (a size chart, a returns form): the bot sends them
//! with the answer, and agents get them with the suggestion. They are uploads of the supervisor
//! who saves the entry, or files it already had; at most [`MAX_FILES`], in the order given. Any
//! agent may send them ([`Knowledge::shared_files`]), as the knowledge base is everyone's.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Knowledge, KnowledgeView};
use crate::entity::{attachment, knowledge_entry_attachment as link};
use crate::error::StoreError;
use crate::saved_files::{self, SavedFile};

/// The most files one answer carries.
pub const MAX_FILES: usize = 10;

/// The file ids of each entry in `ids`, in order.
pub(super) async fn file_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = link::Entity::find()
        .filter(link::Column::KnowledgeEntryId.is_in(ids.iter().copied()))
        .order_by_asc(link::Column::Position)
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in rows {
        out.entry(r.knowledge_entry_id)
            .or_default()
            .push(r.attachment_id);
    }
    Ok(out)
}

/// Checks `ids` as the files agent `editor` saves with entry `current` (or a new entry).
pub(super) async fn check<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    editor: i64,
    current: Option<i64>,
) -> Result<(), StoreError> {
    let had: BTreeSet<i64> = match current {
        Some(c) => file_ids(conn, &[c]).await?.remove(&c).unwrap_or_default(),
        None => Vec::new(),
    }
    .into_iter()
    .collect();
    saved_files::check(conn, ids, editor, &had, MAX_FILES, "an answer")
        .await?
        .map_err(|m| StoreError::Invalid(format!("attachment_ids: {m}")))
}

/// Makes `ids` the files of entry `id`, in this order.
pub(super) async fn set<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    ids: &[i64],
) -> Result<(), StoreError> {
    link::Entity::delete_many()
        .filter(link::Column::KnowledgeEntryId.eq(id))
        .exec(conn)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids.iter().enumerate().map(|(i, a)| link::ActiveModel {
        knowledge_entry_id: Set(id),
        attachment_id: Set(*a),
        position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
    });
    link::Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

/// The stored files entry `id` carries, in order (what the bot sends with its answer).
pub async fn answer_files<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Vec<attachment::Model>, StoreError> {
    let ids = file_ids(conn, &[id]).await?.remove(&id).unwrap_or_default();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(ids
        .iter()
        .filter_map(|a| found.iter().find(|f| f.id == *a).cloned())
        .collect())
}

impl Knowledge {
    /// `views` with their files (two queries for any number).
    pub async fn with_files(
        &self,
        mut views: Vec<KnowledgeView>,
    ) -> Result<Vec<KnowledgeView>, StoreError> {
        let ids: Vec<i64> = views.iter().map(|v| v.id).collect();
        let mut files = self.files_of(&ids).await?;
        for v in &mut views {
            v.attachments = files.remove(&v.id).unwrap_or_default();
        }
        Ok(views)
    }

    /// The files of each entry in `ids`, in order.
    pub async fn files_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<SavedFile>>, StoreError> {
        saved_files::resolve(self.db.conn(), file_ids(self.db.conn(), ids).await?).await
    }

    /// Of `ids`, the files some entry carries: any agent's reply may send them.
    pub async fn shared_files(&self, ids: &[i64]) -> Result<BTreeSet<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        Ok(link::Entity::find()
            .filter(link::Column::AttachmentId.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|l| l.attachment_id)
            .collect())
    }
}
