//! Which conversations pass a [`ListFilter`], and conversation views by id: what the list and
//! search (which ranks ids first, then filters and loads them) share.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::conversations::Conversations;
use crate::entity::{contact, conversation};
use crate::error::StoreError;
use crate::listing::ListFilter;
use crate::views::ConversationView;

/// The conversations passing `f` (the list's own conditions).
pub(crate) fn filtered(f: &ListFilter) -> sea_orm::Select<conversation::Entity> {
    conversation::Entity::find().filter(crate::listing::conditions(f))
}

impl Conversations {
    /// Of the conversations `ids`, those that pass `f`.
    pub async fn filter_ids(
        &self,
        f: &ListFilter,
        ids: &[i64],
    ) -> Result<HashSet<i64>, StoreError> {
        let mut out = HashSet::new();
        // In chunks: one statement's bound parameters are limited.
        for chunk in ids.chunks(1000) {
            let found: Vec<i64> = filtered(f)
                .filter(conversation::Column::Id.is_in(chunk.iter().copied()))
                .select_only()
                .column(conversation::Column::Id)
                .into_tuple()
                .all(self.db().conn())
                .await?;
            out.extend(found);
        }
        Ok(out)
    }

    /// The conversations `ids`, in that order (missing ones left out).
    pub async fn views(&self, ids: &[i64]) -> Result<Vec<ConversationView>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = conversation::Entity::find()
            .filter(conversation::Column::Id.is_in(ids.iter().copied()))
            .all(self.db().conn())
            .await?;
        let mut views: HashMap<i64, ConversationView> = self
            .with_contacts(&rows)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        Ok(ids.iter().filter_map(|id| views.remove(id)).collect())
    }

    /// Views of `rows`, with their contacts read in one statement.
    pub(crate) async fn with_contacts(
        &self,
        rows: &[conversation::Model],
    ) -> Result<Vec<ConversationView>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.contact_id).collect();
        let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
            .filter(contact::Column::Id.is_in(ids))
            .all(self.db().conn())
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(rows
            .iter()
            .map(|c| ConversationView::new(c, contacts.get(&c.contact_id)))
            .collect())
    }
}
