//! Files saved with text for later sending: a canned response's files and a knowledge-base
//! answer's. Both are uploads (`POST /attachments`) of whoever saves them, or files the saved
//! item already had, each listed once, in the order they are sent.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::attachment;
use crate::error::StoreError;

/// A file saved with a canned response or a knowledge-base answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SavedFile {
    /// Attachment id (as `POST /attachments` returned it).
    pub id: i64,
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Where it is downloaded (relative to Kefu's public URL).
    pub url: String,
}

impl From<&attachment::Model> for SavedFile {
    fn from(f: &attachment::Model) -> Self {
        Self {
            id: f.id,
            name: f.name.clone(),
            mime: f.mime.clone(),
            size: f.size.and_then(|s| u64::try_from(s).ok()),
            url: crate::files::attachment_of(f).url.unwrap_or_default(),
        }
    }
}

/// Whether `ids` may be saved by agent `agent_id` with an item that already carries `had`:
/// each once, at most `max`, and each that agent's upload or one of `had`. `Err` says why
/// not, for the request's `attachment_ids`; `what` names the item ("a canned response").
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    agent_id: i64,
    had: &BTreeSet<i64>,
    max: usize,
    what: &str,
) -> Result<Result<(), String>, StoreError> {
    if ids.len() > max {
        return Ok(Err(format!("{what} carries at most {max} files")));
    }
    let mut seen = BTreeSet::new();
    if let Some(dup) = ids.iter().find(|id| !seen.insert(**id)) {
        return Ok(Err(format!("file {dup} is listed twice")));
    }
    let found = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    for id in ids {
        let ok = had.contains(id)
            || found
                .iter()
                .any(|f| f.id == *id && f.inbox_id.is_none() && f.uploaded_by == Some(agent_id));
        if !ok {
            // Like a missing file, so that others' upload ids cannot be probed.
            return Ok(Err(format!(
                "there is no file {id} of yours; upload it with POST /api/v1/attachments"
            )));
        }
    }
    Ok(Ok(()))
}

/// The files of each item in `by_item` (item → file ids in order), in that order; two items
/// may share files. One query for any number.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    by_item: HashMap<i64, Vec<i64>>,
) -> Result<HashMap<i64, Vec<SavedFile>>, StoreError> {
    let all: BTreeSet<i64> = by_item.values().flatten().copied().collect();
    if all.is_empty() {
        return Ok(HashMap::new());
    }
    let files: HashMap<i64, attachment::Model> = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(all))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(by_item
        .into_iter()
        .map(|(item, ids)| {
            let list = ids
                .iter()
                .filter_map(|a| files.get(a))
                .map(SavedFile::from)
                .collect();
            (item, list)
        })
        .collect())
}
