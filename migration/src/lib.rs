//! The schema of the chat platform as SeaORM migrations. Used by the server
//! binary (`chat-api migrate`, and on start) and by tests.
//!
//! Times are stored as `BIGINT` microseconds since the Unix epoch: one
//! representation with the same precision and ordering on SQLite, MySQL and
//! PostgreSQL. Ids are UUID v7 text.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_initial;
mod m20261127_000002_bot;
mod m20261201_000003_agent_email_per_tenant;
mod m20261201_000004_team_tokens_webhooks;
mod m20261201_000005_receipts_visitors_search;
mod m20261201_000006_desk;
mod m20261202_000007_assignment;
mod m20261202_000008_attachments;
mod m20261202_000009_widget_hours_ratings;
mod m20261206_000010_reports;
mod m20261206_000011_email;
mod m20261206_000012_kb_vectors;

pub use m20261201_000003_agent_email_per_tenant::tenant_email_key;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial::Migration),
            Box::new(m20261127_000002_bot::Migration),
            Box::new(m20261201_000003_agent_email_per_tenant::Migration),
            Box::new(m20261201_000004_team_tokens_webhooks::Migration),
            Box::new(m20261201_000005_receipts_visitors_search::Migration),
            Box::new(m20261201_000006_desk::Migration),
            Box::new(m20261202_000007_assignment::Migration),
            Box::new(m20261202_000008_attachments::Migration),
            Box::new(m20261202_000009_widget_hours_ratings::Migration),
            Box::new(m20261206_000010_reports::Migration),
            Box::new(m20261206_000011_email::Migration),
            Box::new(m20261206_000012_kb_vectors::Migration),
        ]
    }
}
