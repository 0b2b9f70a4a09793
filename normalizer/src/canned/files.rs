//! The files a canned response sends with its text (a price list, a returns form).
//!
//! A response's files are uploads (`POST /attachments`) of the agent who saves it, or files it
//! already had; at most [`MAX_FILES`], sent in the order given. Whoever sees the response may
//! send its files: a reply's attachments may name them, though another agent uploaded them
//! ([`CannedResponses::usable_files`]), and a reply posted with `canned_response_id` carries
//! them after its own.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CannedError, CannedResponses, Viewer};
use crate::entity::{attachment, canned_response, canned_response_attachment as link};
use crate::error::StoreError;

/// The most files one canned response sends.
pub const MAX_FILES: usize = 10;

/// A file a canned response sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CannedFile {
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

impl From<&attachment::Model> for CannedFile {
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

fn invalid(detail: String) -> CannedError {
    CannedError::Invalid {
        field: "attachment_ids",
        detail,
    }
}

impl CannedResponses {
    /// `ids` as the files of a response `viewer` saves (response `current` when it exists):
    /// each once, at most [`MAX_FILES`], and each an agent's upload by `viewer` or a file the
    /// response already sends.
    pub(super) async fn check_files(
        &self,
        viewer: &Viewer,
        ids: &[i64],
        current: Option<i64>,
    ) -> Result<Vec<i64>, CannedError> {
        if ids.len() > MAX_FILES {
            return Err(invalid(format!(
                "a canned response sends at most {MAX_FILES} files"
            )));
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = ids.iter().find(|id| !seen.insert(**id)) {
            return Err(invalid(format!("file {dup} is listed twice")));
        }
        let had: BTreeSet<i64> = match current {
            Some(c) => self.file_ids(&[c]).await?.remove(&c).unwrap_or_default(),
            None => Vec::new(),
        }
        .into_iter()
        .collect();
        let found = attachment::Entity::find()
            .filter(attachment::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        for id in ids {
            let ok = had.contains(id)
                || found.iter().any(|f| {
                    f.id == *id && f.inbox_id.is_none() && f.uploaded_by == Some(viewer.agent_id)
                });
            if !ok {
                // Like a missing file, so that others' upload ids cannot be probed.
                return Err(invalid(format!(
                    "there is no file {id} of yours; upload it with POST /api/v1/attachments"
                )));
            }
        }
        Ok(ids.to_vec())
    }

    /// Makes `ids` the files of response `id`, in this order.
    pub(super) async fn set_files<C: ConnectionTrait>(
        conn: &C,
        id: i64,
        ids: &[i64],
    ) -> Result<(), CannedError> {
        link::Entity::delete_many()
            .filter(link::Column::CannedResponseId.eq(id))
            .exec(conn)
            .await?;
        if ids.is_empty() {
            return Ok(());
        }
        let rows = ids.iter().enumerate().map(|(i, a)| link::ActiveModel {
            canned_response_id: Set(id),
            attachment_id: Set(*a),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
        });
        link::Entity::insert_many(rows).exec(conn).await?;
        Ok(())
    }

    /// The file ids of each response in `ids`, in order.
    async fn file_ids(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>, CannedError> {
        let rows = link::Entity::find()
            .filter(link::Column::CannedResponseId.is_in(ids.iter().copied()))
            .order_by_asc(link::Column::Position)
            .all(self.db.conn())
            .await?;
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in rows {
            out.entry(r.canned_response_id)
                .or_default()
                .push(r.attachment_id);
        }
        Ok(out)
    }

    /// The files of each response in `ids`, in order (two queries for any number).
    pub(super) async fn files_of(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, Vec<CannedFile>>, CannedError> {
        let by_response = self.file_ids(ids).await?;
        let all: BTreeSet<i64> = by_response.values().flatten().copied().collect();
        if all.is_empty() {
            return Ok(HashMap::new());
        }
        let files: HashMap<i64, attachment::Model> = attachment::Entity::find()
            .filter(attachment::Column::Id.is_in(all))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        Ok(by_response
            .into_iter()
            .map(|(r, ids)| {
                let list = ids
                    .iter()
                    .filter_map(|a| files.get(a))
                    .map(CannedFile::from)
                    .collect();
                (r, list)
            })
            .collect())
    }

    /// The file ids response `id` (which `viewer` sees) sends.
    pub async fn files(&self, viewer: &Viewer, id: i64) -> Result<Vec<i64>, CannedError> {
        self.row(viewer, id).await?;
        Ok(self.file_ids(&[id]).await?.remove(&id).unwrap_or_default())
    }

    /// Of `ids`, those sent by a canned response `viewer` sees: a reply of theirs may carry
    /// them though another agent uploaded them.
    pub async fn usable_files(
        &self,
        viewer: &Viewer,
        ids: &[i64],
    ) -> Result<BTreeSet<i64>, CannedError> {
        if ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        let links = link::Entity::find()
            .filter(link::Column::AttachmentId.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        if links.is_empty() {
            return Ok(BTreeSet::new());
        }
        let responses = canned_response::Entity::find()
            .filter(
                canned_response::Column::Id.is_in(
                    links
                        .iter()
                        .map(|l| l.canned_response_id)
                        .collect::<BTreeSet<_>>(),
                ),
            )
            .all(self.db.conn())
            .await
            .map_err(StoreError::from)?;
        Ok(links
            .iter()
            .filter(|l| {
                responses
                    .iter()
                    .any(|r| r.id == l.canned_response_id && viewer.sees(r))
            })
            .map(|l| l.attachment_id)
            .collect())
    }
}
