//! The files a canned response sends with its text (a price list, a returns form).
//!
//! A response's files are uploads (`POST /attachments`) of the agent who saves it, or files it
//! already had; at most [`MAX_FILES`], sent in the order given. Whoever sees the response may
//! send its files: a reply's attachments may name them, though another agent uploaded them
//! ([`CannedResponses::usable_files`]), and a reply posted with `canned_response_id` carries
//! them after its own.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{CannedError, CannedResponses, Viewer};
use crate::entity::{canned_response, canned_response_attachment as link};
use crate::error::StoreError;
use crate::saved_files;

/// The most files one canned response sends.
pub const MAX_FILES: usize = 10;

/// A file a canned response sends.
pub type CannedFile = crate::saved_files::SavedFile;

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
        let had: BTreeSet<i64> = match current {
            Some(c) => self.file_ids(&[c]).await?.remove(&c).unwrap_or_default(),
            None => Vec::new(),
        }
        .into_iter()
        .collect();
        saved_files::check(
            self.db.conn(),
            ids,
            viewer.agent_id,
            &had,
            MAX_FILES,
            "a canned response",
        )
        .await?
        .map_err(invalid)?;
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
        Ok(saved_files::resolve(self.db.conn(), self.file_ids(ids).await?).await?)
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
