//! Files on canned responses (issue 20, "Answering faster"): a saved reply may carry files
//! (a price list, a returns form) that go out with it. A row ties one uploaded file to one
//! canned response, in the order the files are sent. Deleting the response deletes its rows;
//! the files stay, since replies that carried them still link to them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0020_canned_attachments"
    }
}

#[derive(DeriveIden)]
enum CannedResponseAttachments {
    Table,
    CannedResponseId,
    AttachmentId,
    Position,
}

#[derive(DeriveIden)]
enum CannedResponses {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CannedResponseAttachments::Table)
                .col(big_integer(CannedResponseAttachments::CannedResponseId))
                .col(big_integer(CannedResponseAttachments::AttachmentId))
                .col(integer(CannedResponseAttachments::Position))
                .primary_key(
                    Index::create()
                        .col(CannedResponseAttachments::CannedResponseId)
                        .col(CannedResponseAttachments::AttachmentId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            CannedResponseAttachments::Table,
                            CannedResponseAttachments::CannedResponseId,
                        )
                        .to(CannedResponses::Table, CannedResponses::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            CannedResponseAttachments::Table,
                            CannedResponseAttachments::AttachmentId,
                        )
                        .to(Attachments::Table, Attachments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // "Which canned responses carry this file": a reply's attachments are checked by it.
        m.create_index(
            Index::create()
                .name("ix_canned_response_attachments_file")
                .table(CannedResponseAttachments::Table)
                .col(CannedResponseAttachments::AttachmentId)
                .take(),
        )
        .await
    }
}
