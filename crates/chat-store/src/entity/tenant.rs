use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub slug: String,
    pub name: String,
    /// JSON array of origins.
    pub allowed_origins: String,
    pub bot_mode: String,
    pub bot_name: String,
    /// IANA name.
    pub time_zone: String,
    pub created_at: i64,
    /// `manual` or `auto`.
    pub assignment: String,
    pub default_max_concurrent: i32,
    /// JSON: the widget's settings.
    #[sea_orm(column_type = "Text")]
    pub widget_settings: String,
    /// JSON: the weekly hours and dated exceptions.
    #[sea_orm(column_type = "Text")]
    pub business_hours: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
