//! What reports are computed from, kept on each conversation as it
//! happens:
//!
//! - `handed_off_at`: when the bot handed it to a person;
//! - `first_response_at`: an agent's first message; `first_response_business`:
//!   the microseconds of business hours from the moment it waited for a
//!   person (its start, or the hand-off) to that message;
//! - `resolved_at`: its close (cleared when reopened); `resolution_business`:
//!   the business-hours microseconds from its start to the close;
//! - `bot_answered`: the bot sent at least one message;
//! - an index on `(tenant_id, created_at)`: a report reads the
//!   conversations started in its period.
//!
//! Conversations stored before this migration get their first response
//! and bot flag from their messages and, when closed, their last activity
//! as the close; their business-hours figures stay empty (the hours of
//! the time are not known).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    TenantId,
    CreatedAt,
    AssignedAgentId,
    BotHandedOff,
    RatingScore,
    HandedOffAt,
    FirstResponseAt,
    FirstResponseBusiness,
    ResolvedAt,
    ResolutionBusiness,
    BotAnswered,
}

const BACKFILL: &[&str] = &[
    "UPDATE chat_sessions SET first_response_at = (SELECT MIN(m.created_at) FROM messages m \
       WHERE m.session_id = chat_sessions.id AND m.sender_type = 'agent')",
    "UPDATE chat_sessions SET bot_answered = TRUE WHERE EXISTS (SELECT 1 FROM messages m \
       WHERE m.session_id = chat_sessions.id AND m.sender_type = 'bot')",
    "UPDATE chat_sessions SET resolved_at = last_activity_at WHERE status = 'closed'",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for col in [
            big_integer_null(ChatSessions::HandedOffAt).to_owned(),
            big_integer_null(ChatSessions::FirstResponseAt).to_owned(),
            big_integer_null(ChatSessions::FirstResponseBusiness).to_owned(),
            big_integer_null(ChatSessions::ResolvedAt).to_owned(),
            big_integer_null(ChatSessions::ResolutionBusiness).to_owned(),
            boolean(ChatSessions::BotAnswered).default(false).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ChatSessions::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        // Covering: a report reads only the index, never the table's
        // wide rows. Its other columns change a few times in a
        // conversation's life (answer, close, assignment, rating), never
        // with each message.
        m.create_index(
            Index::create()
                .name("idx_sessions_tenant_created")
                .table(ChatSessions::Table)
                .col(ChatSessions::TenantId)
                .col(ChatSessions::CreatedAt)
                .col(ChatSessions::AssignedAgentId)
                .col(ChatSessions::FirstResponseAt)
                .col(ChatSessions::HandedOffAt)
                .col(ChatSessions::FirstResponseBusiness)
                .col(ChatSessions::ResolvedAt)
                .col(ChatSessions::ResolutionBusiness)
                .col(ChatSessions::BotAnswered)
                .col(ChatSessions::BotHandedOff)
                .col(ChatSessions::RatingScore)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for sql in BACKFILL {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_sessions_tenant_created")
                .table(ChatSessions::Table)
                .to_owned(),
        )
        .await?;
        for col in [
            ChatSessions::HandedOffAt,
            ChatSessions::FirstResponseAt,
            ChatSessions::FirstResponseBusiness,
            ChatSessions::ResolvedAt,
            ChatSessions::ResolutionBusiness,
            ChatSessions::BotAnswered,
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
