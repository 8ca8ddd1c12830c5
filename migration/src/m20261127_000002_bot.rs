use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    BotMode,
    BotName,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    BotHandedOff,
}

#[derive(DeriveIden)]
enum KbArticles {
    Table,
    Id,
    TenantId,
    Title,
    Body,
    Keywords,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one at a time.
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(string_len(Tenants::BotMode, 16).default("off"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(string_len(Tenants::BotName, 100).default("Assistant"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ChatSessions::Table)
                .add_column(boolean(ChatSessions::BotHandedOff).default(false))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KbArticles::Table)
                .if_not_exists()
                .col(string_len(KbArticles::Id, 36).primary_key())
                .col(string_len(KbArticles::TenantId, 36))
                .col(string_len(KbArticles::Title, 200))
                .col(text(KbArticles::Body))
                .col(text(KbArticles::Keywords))
                .col(big_integer(KbArticles::CreatedAt))
                .col(big_integer(KbArticles::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_kb_articles_tenant")
                        .from(KbArticles::Table, KbArticles::TenantId)
                        .to(Alias::new("tenants"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_kb_articles_tenant")
                .table(KbArticles::Table)
                .col(KbArticles::TenantId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(KbArticles::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(ChatSessions::Table)
                .drop_column(ChatSessions::BotHandedOff)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .drop_column(Tenants::BotName)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .drop_column(Tenants::BotMode)
                .to_owned(),
        )
        .await
    }
}
