//! The widget's settings and the business hours of a tenant (JSON, as the
//! domain's `WidgetSettings` and `BusinessHours` write them), and a
//! conversation's satisfaction rating.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    WidgetSettings,
    BusinessHours,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    RatingScore,
    RatingComment,
    RatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            text(Tenants::WidgetSettings).default("{}").to_owned(),
            text(Tenants::BusinessHours)
                .default("{\"enabled\":false}")
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            small_integer_null(ChatSessions::RatingScore).to_owned(),
            text_null(ChatSessions::RatingComment).to_owned(),
            big_integer_null(ChatSessions::RatedAt).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ChatSessions::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            ChatSessions::RatingScore,
            ChatSessions::RatingComment,
            ChatSessions::RatedAt,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ChatSessions::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [Tenants::WidgetSettings, Tenants::BusinessHours] {
            m.alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
