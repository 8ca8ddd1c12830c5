use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// JSON object.
    pub attributes: String,
    pub created_at: i64,
    /// SHA-256 hex of the visitor token of the browser that started it.
    pub visitor_token_hash: Option<String>,
    pub visitor_seen_at: Option<i64>,
    pub email_unsubscribed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
