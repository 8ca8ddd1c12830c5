//! The agents' daily tools: canned replies, labels (and which sessions
//! carry them) and private notes.
//!
//! A session's label names are also kept on the session row (a JSON array,
//! written in the same transaction as `session_labels`), so that every view
//! of a session has them without another query; `session_labels` is what
//! the `?label=` filter uses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261201_000004_team_tokens_webhooks::tenant_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CannedReplies {
    Table,
    Id,
    TenantId,
    Shortcut,
    Title,
    Body,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Labels {
    Table,
    Id,
    TenantId,
    Name,
    Color,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SessionLabels {
    Table,
    SessionId,
    LabelId,
    TenantId,
}

#[derive(DeriveIden)]
enum Notes {
    Table,
    Id,
    TenantId,
    SessionId,
    AfterSeq,
    AuthorId,
    AuthorName,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    Id,
    Labels,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CannedReplies::Table)
                .if_not_exists()
                .col(string_len(CannedReplies::Id, 36).primary_key())
                .col(string_len(CannedReplies::TenantId, 36))
                .col(string_len(CannedReplies::Shortcut, 32))
                .col(string_len(CannedReplies::Title, 200))
                .col(text(CannedReplies::Body))
                .col(big_integer(CannedReplies::CreatedAt))
                .col(big_integer(CannedReplies::UpdatedAt))
                .foreign_key(&mut tenant_fk("fk_canned_tenant", CannedReplies::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_canned_tenant_shortcut")
                .table(CannedReplies::Table)
                .col(CannedReplies::TenantId)
                .col(CannedReplies::Shortcut)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Labels::Table)
                .if_not_exists()
                .col(string_len(Labels::Id, 36).primary_key())
                .col(string_len(Labels::TenantId, 36))
                .col(string_len(Labels::Name, 128))
                .col(string_len(Labels::Color, 7))
                .col(big_integer(Labels::CreatedAt))
                .foreign_key(&mut tenant_fk("fk_labels_tenant", Labels::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_labels_tenant_name")
                .table(Labels::Table)
                .col(Labels::TenantId)
                .col(Labels::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SessionLabels::Table)
                .if_not_exists()
                .col(string_len(SessionLabels::SessionId, 36))
                .col(string_len(SessionLabels::LabelId, 36))
                .col(string_len(SessionLabels::TenantId, 36))
                .primary_key(
                    Index::create()
                        .col(SessionLabels::SessionId)
                        .col(SessionLabels::LabelId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_session_labels_session")
                        .from(SessionLabels::Table, SessionLabels::SessionId)
                        .to(ChatSessions::Table, ChatSessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_session_labels_label")
                        .from(SessionLabels::Table, SessionLabels::LabelId)
                        .to(Labels::Table, Labels::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_session_labels_label")
                .table(SessionLabels::Table)
                .col(SessionLabels::LabelId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Notes::Table)
                .if_not_exists()
                .col(string_len(Notes::Id, 36).primary_key())
                .col(string_len(Notes::TenantId, 36))
                .col(string_len(Notes::SessionId, 36))
                .col(big_integer(Notes::AfterSeq))
                .col(string_len(Notes::AuthorId, 36))
                .col(string_len(Notes::AuthorName, 200))
                .col(text(Notes::Body))
                .col(big_integer(Notes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notes_session")
                        .from(Notes::Table, Notes::SessionId)
                        .to(ChatSessions::Table, ChatSessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notes_session_seq")
                .table(Notes::Table)
                .col(Notes::SessionId)
                .col(Notes::AfterSeq)
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(ChatSessions::Table)
                .add_column(string_len(ChatSessions::Labels, 1024).default("[]"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ChatSessions::Table)
                .drop_column(ChatSessions::Labels)
                .to_owned(),
        )
        .await?;
        for table in [
            Notes::Table.into_iden(),
            SessionLabels::Table.into_iden(),
            Labels::Table.into_iden(),
            CannedReplies::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
