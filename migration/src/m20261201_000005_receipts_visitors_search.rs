//! Receipts, returning visitors, the tenant's time zone and full-text
//! search of messages.
//!
//! - `chat_sessions` gains the delivered and read pointers of both sides
//!   and the agents' unread count (customer messages after their read
//!   pointer, kept by `append` and by the agents' read receipts); stored
//!   conversations start fully delivered and read;
//! - `customers` gains the digest of the visitor token that lets a
//!   returning browser be the same customer, and when it was last seen;
//! - `tenants` gains an IANA time zone for transcripts;
//! - messages get each database's own full-text index, maintained in the
//!   transaction of the insert: an FTS5 table kept by triggers on SQLite,
//!   a stored `tsvector` column with a GIN index on PostgreSQL, a
//!   `FULLTEXT` index on MySQL/MariaDB.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    CustomerDeliveredSeq,
    CustomerReadSeq,
    AgentDeliveredSeq,
    AgentReadSeq,
    UnreadCount,
}

/// The new columns of `chat_sessions`, each a `BIGINT` defaulting to 0.
fn session_columns() -> [ChatSessions; 5] {
    [
        ChatSessions::CustomerDeliveredSeq,
        ChatSessions::CustomerReadSeq,
        ChatSessions::AgentDeliveredSeq,
        ChatSessions::AgentReadSeq,
        ChatSessions::UnreadCount,
    ]
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    VisitorTokenHash,
    VisitorSeenAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    TimeZone,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    TenantId,
    CreatedAt,
}

const SQLITE_FTS: &[&str] = &[
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='rowid', columnsize=0)",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN \
       INSERT INTO messages_fts(rowid, body) VALUES (new.rowid, new.body); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN \
       INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN \
       INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body); \
       INSERT INTO messages_fts(rowid, body) VALUES (new.rowid, new.body); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
];

const POSTGRES_FTS: &[&str] = &[
    "ALTER TABLE messages ADD COLUMN body_tsv tsvector \
       GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED",
    "CREATE INDEX idx_messages_body_tsv ON messages USING GIN (body_tsv)",
];

const MYSQL_FTS: &[&str] = &["ALTER TABLE messages ADD FULLTEXT INDEX ft_messages_body (body)"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for col in session_columns() {
            m.alter_table(
                Table::alter()
                    .table(ChatSessions::Table)
                    .add_column(big_integer(col).default(0))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Customers::Table)
                .add_column(string_len_null(Customers::VisitorTokenHash, 64))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Customers::Table)
                .add_column(big_integer_null(Customers::VisitorSeenAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_customers_visitor_token")
                .table(Customers::Table)
                .col(Customers::VisitorTokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(string_len(Tenants::TimeZone, 64).default("UTC"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_messages_tenant_created")
                .table(Messages::Table)
                .col(Messages::TenantId)
                .col(Messages::CreatedAt)
                .to_owned(),
        )
        .await?;

        // Conversations stored before receipts existed count as delivered
        // and read on both sides: an upgrade does not make every old
        // conversation unread.
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE chat_sessions SET customer_delivered_seq = last_seq, customer_read_seq = last_seq, \
             agent_delivered_seq = last_seq, agent_read_seq = last_seq, unread_count = 0",
        )
        .await?;
        let fts = match db.get_database_backend() {
            DbBackend::Sqlite => SQLITE_FTS,
            DbBackend::Postgres => POSTGRES_FTS,
            _ => MYSQL_FTS,
        };
        for sql in fts {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let drop: &[&str] = match db.get_database_backend() {
            DbBackend::Sqlite => &[
                "DROP TRIGGER IF EXISTS messages_fts_insert",
                "DROP TRIGGER IF EXISTS messages_fts_delete",
                "DROP TRIGGER IF EXISTS messages_fts_update",
                "DROP TABLE IF EXISTS messages_fts",
            ],
            DbBackend::Postgres => &[
                "DROP INDEX IF EXISTS idx_messages_body_tsv",
                "ALTER TABLE messages DROP COLUMN body_tsv",
            ],
            _ => &["ALTER TABLE messages DROP INDEX ft_messages_body"],
        };
        for sql in drop {
            db.execute_unprepared(sql).await?;
        }
        m.drop_index(
            Index::drop()
                .name("idx_messages_tenant_created")
                .table(Messages::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("uq_customers_visitor_token")
                .table(Customers::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .drop_column(Tenants::TimeZone)
                .to_owned(),
        )
        .await?;
        for col in [Customers::VisitorTokenHash, Customers::VisitorSeenAt] {
            m.alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in session_columns() {
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
