//! Stored files: customers' attachments and agents' uploads.
//!
//! Every attachment Kefu knows gets a row in `attachments` and a URL `/files/{id}/{token}` (the
//! token is random, so the URL itself is the permission to read the file, as it must be for a
//! visitor's browser or an email client). The bytes live in `attachment_blobs`: at once for
//! files a channel hands over with their bytes (email parts) and for uploads; on first download
//! for files the provider keeps (a WeChat `MediaId`), which the gateway fetches through the
//! channel and hands to [`Files::fill`].

use bytes::Bytes;
use chrono::Utc;
use kefu_channel::{Attachment, InboundEnvelope};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::entity::{attachment, attachment_blob};
use crate::error::StoreError;

/// Length of the random part of a file URL.
const TOKEN_LEN: usize = 32;

/// A file to store.
#[derive(Debug, Clone, Default)]
pub struct NewFile {
    /// File name as shown to people.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// The bytes, when Kefu has them.
    pub data: Option<Bytes>,
    /// The inbox a customer's file arrived through.
    pub inbox_id: Option<i64>,
    /// The agent who uploaded it.
    pub uploaded_by: Option<i64>,
    /// The provider's media id, for files fetched on first use.
    pub provider_ref: Option<String>,
    /// The provider's URL for the file.
    pub source_url: Option<String>,
    /// Size in bytes, when known without the bytes.
    pub size: Option<u64>,
}

/// The store of files.
#[derive(Clone)]
pub struct Files {
    db: Db,
}

/// The path a stored file is served at, relative to Kefu's public URL.
pub fn path(file: &attachment::Model) -> String {
    format!("/files/{}/{}", file.id, file.token)
}

/// The attachment metadata of a stored file, as messages carry it.
pub fn attachment_of(file: &attachment::Model) -> Attachment {
    Attachment {
        id: Some(file.id),
        name: file.name.clone(),
        mime: file.mime.clone(),
        size: file.size.map(|s| s as u64),
        url: Some(path(file)),
        provider_ref: file.provider_ref.clone(),
        data: None,
    }
}

impl Files {
    /// The file store on `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Stores one file (its bytes too, when given) and returns its row.
    pub async fn store(&self, new: NewFile) -> Result<attachment::Model, StoreError> {
        let (size, sha256) = match &new.data {
            Some(d) => (Some(d.len() as i64), Some(hex::encode(Sha256::digest(d)))),
            None => (new.size.map(|s| s as i64), None),
        };
        let tx = self.db.begin_write().await?;
        let file = attachment::ActiveModel {
            token: Set(crate::token::random(TOKEN_LEN)),
            inbox_id: Set(new.inbox_id),
            uploaded_by: Set(new.uploaded_by),
            name: Set(new.name),
            mime: Set(new.mime),
            size: Set(size),
            sha256: Set(sha256),
            provider_ref: Set(new.provider_ref),
            source_url: Set(new.source_url),
            stored: Set(new.data.is_some()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        if let Some(data) = new.data {
            attachment_blob::ActiveModel {
                attachment_id: Set(file.id),
                data: Set(data.to_vec()),
            }
            .insert(&tx)
            .await?;
        }
        tx.commit().await?;
        Ok(file)
    }

    /// Stores the attachments of an inbound envelope and replaces each with its stored
    /// metadata (id and URL, no bytes), so the message row never holds file contents.
    pub async fn store_inbound(&self, env: &mut InboundEnvelope) -> Result<(), StoreError> {
        for att in &mut env.content.attachments {
            if att.id.is_some() {
                continue;
            }
            let file = self
                .store(NewFile {
                    name: att.name.clone(),
                    mime: att.mime.clone(),
                    data: att.data.take(),
                    inbox_id: Some(env.inbox_id),
                    uploaded_by: None,
                    provider_ref: att.provider_ref.clone(),
                    source_url: att.url.clone(),
                    size: att.size,
                })
                .await?;
            *att = attachment_of(&file);
        }
        Ok(())
    }

    /// One file's metadata.
    pub async fn get(&self, id: i64) -> Result<Option<attachment::Model>, StoreError> {
        Ok(attachment::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?)
    }

    /// The files `agent_id` may attach to a reply in a conversation of `inbox_id`, in the
    /// order asked. An agent's upload belongs to its uploader, and to whoever sees a canned
    /// response or a knowledge-base answer that sends it (`shared`); a customer's file may be passed on within its own
    /// inbox. A file the agent may not use is answered like a missing one
    /// ([`StoreError::NotFound`]), so upload ids cannot be probed.
    pub async fn attachable(
        &self,
        ids: &[i64],
        agent_id: i64,
        inbox_id: i64,
        shared: &std::collections::BTreeSet<i64>,
    ) -> Result<Vec<attachment::Model>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = attachment::Entity::find()
            .filter(attachment::Column::Id.is_in(ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        ids.iter()
            .map(|id| {
                let file = found
                    .iter()
                    .find(|f| f.id == *id)
                    .filter(|f| {
                        f.uploaded_by.is_none_or(|by| by == agent_id) || shared.contains(&f.id)
                    })
                    .ok_or(StoreError::NotFound("attachment"))?;
                match file.inbox_id {
                    Some(i) if i != inbox_id => Err(StoreError::Invalid(format!(
                        "attachment {id} belongs to another inbox; upload the file instead"
                    ))),
                    _ => Ok(file.clone()),
                }
            })
            .collect()
    }

    /// The bytes of a stored file; `None` when they are not (yet) stored.
    pub async fn data(&self, id: i64) -> Result<Option<Bytes>, StoreError> {
        Ok(attachment_blob::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .map(|b| Bytes::from(b.data)))
    }

    /// Keeps the bytes downloaded from the provider for a file stored without them. A second
    /// download racing this one finds the bytes already there and changes nothing.
    pub async fn fill(
        &self,
        file: &attachment::Model,
        data: Bytes,
        mime: Option<String>,
    ) -> Result<attachment::Model, StoreError> {
        let tx = self.db.begin_write().await?;
        let already = attachment_blob::Entity::find_by_id(file.id)
            .one(&tx)
            .await?
            .is_some();
        if !already {
            attachment_blob::ActiveModel {
                attachment_id: Set(file.id),
                data: Set(data.to_vec()),
            }
            .insert(&tx)
            .await?;
        }
        let mut row: attachment::ActiveModel = file.clone().into();
        row.stored = Set(true);
        row.size = Set(Some(data.len() as i64));
        row.sha256 = Set(Some(hex::encode(Sha256::digest(&data))));
        if let Some(mime) = mime.filter(|m| !m.is_empty()) {
            row.mime = Set(mime);
        }
        let file = row.update(&tx).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Loads the bytes of every stored attachment of an outbound message into
    /// [`Attachment::data`], as channels expect them.
    pub async fn load_into(&self, attachments: &mut [Attachment]) -> Result<(), StoreError> {
        for att in attachments {
            if att.data.is_some() {
                continue;
            }
            if let Some(id) = att.id {
                att.data = self.data(id).await?;
            }
        }
        Ok(())
    }
}
