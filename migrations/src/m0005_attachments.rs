//! Stored files: attachments customers send and files agents upload for their replies. The
//! metadata and the bytes live in separate tables so listing files never reads the bytes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_attachments"
    }
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    Token,
    InboxId,
    UploadedBy,
    Name,
    Mime,
    Size,
    Sha256,
    ProviderRef,
    SourceUrl,
    Stored,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AttachmentBlobs {
    Table,
    AttachmentId,
    Data,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Attachments::Table)
                .col(big_integer(Attachments::Id).auto_increment().primary_key())
                .col(string(Attachments::Token))
                .col(big_integer_null(Attachments::InboxId))
                .col(big_integer_null(Attachments::UploadedBy))
                .col(text(Attachments::Name))
                .col(string(Attachments::Mime))
                .col(big_integer_null(Attachments::Size))
                .col(string_null(Attachments::Sha256))
                .col(text_null(Attachments::ProviderRef))
                .col(text_null(Attachments::SourceUrl))
                .col(boolean(Attachments::Stored))
                .col(timestamp_with_time_zone(Attachments::CreatedAt))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AttachmentBlobs::Table)
                .col(big_integer(AttachmentBlobs::AttachmentId).primary_key())
                .col(blob(AttachmentBlobs::Data))
                .foreign_key(
                    ForeignKey::create()
                        .from(AttachmentBlobs::Table, AttachmentBlobs::AttachmentId)
                        .to(Attachments::Table, Attachments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AttachmentBlobs::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Attachments::Table).to_owned())
            .await
    }
}
