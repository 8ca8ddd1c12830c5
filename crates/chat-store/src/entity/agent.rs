use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// `<tenant_id>:<address>`, unique: the address is unique per tenant
    /// (see the migration `agent_email_per_tenant`).
    #[sea_orm(column_name = "email")]
    pub tenant_email: String,
    /// The agent's email address, as login looks it up.
    pub address: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub created_at: i64,
    /// `online`, `away` or `busy`.
    pub status: String,
    /// NULL: the tenant's `default_max_concurrent`.
    pub max_concurrent: Option<i32>,
    pub last_assigned_at: Option<i64>,
    /// Email them a conversation given to them while away.
    pub email_when_offline: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
