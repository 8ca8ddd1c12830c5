//! Outgoing email.
//!
//! - `email_outbox`: queued emails (`unseen`, `transcript`, `assigned`),
//!   claimed with a lease and marked `sent`, `failed` or `dropped`;
//!   `dedupe_key` is unique, so an email decided twice is queued once.
//! - `chat_sessions.last_agent_seq` / `last_agent_at`: an agent's latest
//!   message (the unseen-reply scan reads `idx_sessions_last_agent_at`);
//!   `emailed_seq`: the replies already emailed to the customer;
//!   `offline`: it came in while nobody was there.
//! - `customers.email_unsubscribed_at`; `agents.email_when_offline`.
//! - `server_secrets`: keys the nodes share (the one that signs the links
//!   in emails), made once by whichever node starts first.
//!
//! Conversations stored before count as emailed up to their last message,
//! so an upgrade sends nothing about the past.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    TenantId,
    Kind,
    SessionId,
    AgentId,
    FromSeq,
    ToSeq,
    DedupeKey,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    Id,
    LastAgentSeq,
    LastAgentAt,
    EmailedSeq,
    Offline,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    EmailUnsubscribedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    EmailWhenOffline,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EmailOutbox::Table)
                .if_not_exists()
                .col(string_len(EmailOutbox::Id, 36).primary_key())
                .col(string_len(EmailOutbox::TenantId, 36))
                .col(string_len(EmailOutbox::Kind, 16))
                .col(string_len(EmailOutbox::SessionId, 36))
                .col(string_len_null(EmailOutbox::AgentId, 36))
                .col(big_integer(EmailOutbox::FromSeq).default(0))
                .col(big_integer(EmailOutbox::ToSeq).default(0))
                .col(string_len(EmailOutbox::DedupeKey, 160))
                .col(string_len(EmailOutbox::Status, 16))
                .col(integer(EmailOutbox::Attempts).default(0))
                .col(big_integer(EmailOutbox::NextAttemptAt))
                .col(big_integer(EmailOutbox::LeaseUntil).default(0))
                .col(string_len_null(EmailOutbox::LastError, 500))
                .col(big_integer(EmailOutbox::CreatedAt))
                .col(big_integer_null(EmailOutbox::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_email_outbox_session")
                        .from(EmailOutbox::Table, EmailOutbox::SessionId)
                        .to(ChatSessions::Table, ChatSessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_email_outbox_dedupe")
                .table(EmailOutbox::Table)
                .col(EmailOutbox::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_outbox_due")
                .table(EmailOutbox::Table)
                .col(EmailOutbox::Status)
                .col(EmailOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_outbox_session")
                .table(EmailOutbox::Table)
                .col(EmailOutbox::SessionId)
                .to_owned(),
        )
        .await?;

        // One column per statement: SQLite alters one column at a time.
        for col in [
            big_integer(ChatSessions::LastAgentSeq)
                .default(0)
                .to_owned(),
            big_integer_null(ChatSessions::LastAgentAt).to_owned(),
            big_integer(ChatSessions::EmailedSeq).default(0).to_owned(),
            boolean(ChatSessions::Offline).default(false).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ChatSessions::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_sessions_last_agent_at")
                .table(ChatSessions::Table)
                .col(ChatSessions::LastAgentAt)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Customers::Table)
                .add_column(big_integer_null(Customers::EmailUnsubscribedAt))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .add_column(boolean(Agents::EmailWhenOffline).default(true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ServerSecrets::Table)
                .if_not_exists()
                .col(string_len(ServerSecrets::Name, 64).primary_key())
                .col(string_len(ServerSecrets::Value, 128))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE chat_sessions SET emailed_seq = last_seq")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ServerSecrets::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(EmailOutbox::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .drop_column(Agents::EmailWhenOffline)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Customers::Table)
                .drop_column(Customers::EmailUnsubscribedAt)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("idx_sessions_last_agent_at")
                .table(ChatSessions::Table)
                .to_owned(),
        )
        .await?;
        for col in [
            ChatSessions::LastAgentSeq,
            ChatSessions::LastAgentAt,
            ChatSessions::EmailedSeq,
            ChatSessions::Offline,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ChatSessions::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
