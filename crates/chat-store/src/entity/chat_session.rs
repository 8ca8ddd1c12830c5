use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub customer_id: String,
    pub key_hash: String,
    pub status: String,
    pub assigned_agent_id: Option<String>,
    pub assigned_agent_name: Option<String>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub locale: Option<String>,
    pub created_at: i64,
    pub last_activity_at: i64,
    pub last_seq: i64,
    pub last_message_preview: Option<String>,
    pub bot_handed_off: bool,
    pub customer_delivered_seq: i64,
    pub customer_read_seq: i64,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
    pub unread_count: i64,
    /// JSON array of label names, sorted.
    pub labels: String,
    /// Since when it waits for a person; NULL when it does not.
    pub queued_at: Option<i64>,
    pub rating_score: Option<i16>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<i64>,
    pub handed_off_at: Option<i64>,
    pub first_response_at: Option<i64>,
    /// Microseconds of business hours before the first answer.
    pub first_response_business: Option<i64>,
    pub resolved_at: Option<i64>,
    /// Microseconds of business hours from the start to the close.
    pub resolution_business: Option<i64>,
    pub bot_answered: bool,
    pub last_agent_seq: i64,
    pub last_agent_at: Option<i64>,
    /// Agents' replies up to here were emailed to the customer.
    pub emailed_seq: i64,
    /// Came in while nobody was there.
    pub offline: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
}

impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
