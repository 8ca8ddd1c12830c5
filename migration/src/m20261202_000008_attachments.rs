//! Files sent in conversations.
//!
//! `attachments` holds one row per uploaded file (its bytes are in the file
//! store under `storage_key`); `token` is the random capability its URL
//! carries. A file is unsent while `message_id` is NULL. The files a
//! message carries are also kept on the message row (`messages.attachments`,
//! a JSON array written in the append's transaction), so every read of a
//! message has them without another query.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261201_000004_team_tokens_webhooks::tenant_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    TenantId,
    SessionId,
    MessageId,
    UploaderType,
    Name,
    ContentType,
    Size,
    Width,
    Height,
    Token,
    StorageKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Attachments,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Attachments::Table)
                .if_not_exists()
                .col(string_len(Attachments::Id, 36).primary_key())
                .col(string_len(Attachments::TenantId, 36))
                .col(string_len(Attachments::SessionId, 36))
                .col(string_len_null(Attachments::MessageId, 36))
                .col(string_len(Attachments::UploaderType, 16))
                .col(string_len(Attachments::Name, 800))
                .col(string_len(Attachments::ContentType, 128))
                .col(big_integer(Attachments::Size))
                .col(integer_null(Attachments::Width))
                .col(integer_null(Attachments::Height))
                .col(string_len(Attachments::Token, 64))
                .col(string_len(Attachments::StorageKey, 255))
                .col(big_integer(Attachments::CreatedAt))
                .foreign_key(&mut tenant_fk("fk_attachments_tenant", Attachments::Table))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_attachments_session")
                        .from(Attachments::Table, Attachments::SessionId)
                        .to(ChatSessions::Table, ChatSessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_attachments_token")
                .table(Attachments::Table)
                .col(Attachments::Token)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_attachments_session")
                .table(Attachments::Table)
                .col(Attachments::SessionId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_attachments_unsent")
                .table(Attachments::Table)
                .col(Attachments::MessageId)
                .col(Attachments::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(text(Messages::Attachments).default("[]"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .drop_column(Messages::Attachments)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Attachments::Table).to_owned())
            .await
    }
}
