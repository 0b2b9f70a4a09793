//! Files on knowledge-base answers (issue 23): an answer may carry files (a size chart, a
//! returns form) that the bot sends with it and agents get with the suggestion. A row ties one
//! uploaded file to one entry, in the order the files are sent. Deleting the entry deletes its
//! rows; the files stay, since messages that carried them still link to them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0034_knowledge_attachments"
    }
}

#[derive(DeriveIden)]
enum KnowledgeEntryAttachments {
    Table,
    KnowledgeEntryId,
    AttachmentId,
    Position,
}

#[derive(DeriveIden)]
enum KnowledgeEntries {
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
        use KnowledgeEntryAttachments as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(big_integer(T::KnowledgeEntryId))
                .col(big_integer(T::AttachmentId))
                .col(integer(T::Position))
                .primary_key(
                    Index::create()
                        .col(T::KnowledgeEntryId)
                        .col(T::AttachmentId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(T::Table, T::KnowledgeEntryId)
                        .to(KnowledgeEntries::Table, KnowledgeEntries::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(T::Table, T::AttachmentId)
                        .to(Attachments::Table, Attachments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // "Which entries carry this file": a reply's attachments are checked by it.
        m.create_index(
            Index::create()
                .name("ix_knowledge_entry_attachments_file")
                .table(T::Table)
                .col(T::AttachmentId)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(KnowledgeEntryAttachments::Table).take())
            .await
    }
}
