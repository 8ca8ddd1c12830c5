use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub session_id: String,
    pub agent_id: Option<String>,
    pub from_seq: i64,
    pub to_seq: i64,
    pub dedupe_key: String,
    /// `pending`, `sent`, `failed` (given up) or `dropped` (nothing to send).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    /// Until when a sender holds it (Unix microseconds; 0: nobody).
    pub lease_until: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
