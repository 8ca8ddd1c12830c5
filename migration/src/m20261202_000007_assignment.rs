//! Availability, capacity and automatic assignment.
//!
//! - `agents.status`: `online` (taking new conversations), `away` or
//!   `busy`; `agents.max_concurrent`: the agent's own cap (NULL: the
//!   tenant's default); `agents.last_assigned_at`: when the agent was last
//!   given a conversation, the tie-breaker of fair assignment, and the row
//!   an assignment locks first.
//! - `tenants.assignment`: `manual` or `auto`; `tenants.default_max_concurrent`.
//! - `chat_sessions.queued_at`: since when a pending conversation waits for
//!   a person (set on arrival without the bot, on the bot's hand-off and on
//!   a reopening without an agent; cleared when an agent takes it). The
//!   queue is the tenant's pending sessions by `queued_at`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Status,
    MaxConcurrent,
    LastAssignedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Assignment,
    DefaultMaxConcurrent,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    TenantId,
    Status,
    QueuedAt,
    AssignedAgentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for col in [
            string_len(Agents::Status, 8).default("online").to_owned(),
            integer_null(Agents::MaxConcurrent).to_owned(),
            big_integer_null(Agents::LastAssignedAt).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            string_len(Tenants::Assignment, 8)
                .default("manual")
                .to_owned(),
            integer(Tenants::DefaultMaxConcurrent).default(5).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(ChatSessions::Table)
                .add_column(big_integer_null(ChatSessions::QueuedAt))
                .to_owned(),
        )
        .await?;
        // Conversations already waiting for a person join the queue in the
        // order they arrived.
        m.get_connection()
            .execute_unprepared(
                "UPDATE chat_sessions SET queued_at = created_at \
                 WHERE status = 'pending' AND assigned_agent_id IS NULL",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_queue")
                .table(ChatSessions::Table)
                .col(ChatSessions::TenantId)
                .col(ChatSessions::Status)
                .col(ChatSessions::QueuedAt)
                .to_owned(),
        )
        .await?;
        // Each agent's open conversations are counted at every assignment.
        m.create_index(
            Index::create()
                .name("idx_sessions_agent_status")
                .table(ChatSessions::Table)
                .col(ChatSessions::AssignedAgentId)
                .col(ChatSessions::Status)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_sessions_agent_status", "idx_sessions_queue"] {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(ChatSessions::Table)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(ChatSessions::Table)
                .drop_column(ChatSessions::QueuedAt)
                .to_owned(),
        )
        .await?;
        for col in [Tenants::Assignment, Tenants::DefaultMaxConcurrent] {
            m.alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            Agents::Status,
            Agents::MaxConcurrent,
            Agents::LastAssignedAt,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
