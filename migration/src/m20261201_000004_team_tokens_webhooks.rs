//! Team administration, API tokens and webhooks: agents can be deactivated,
//! integrators get scoped API tokens, and changes are delivered to webhook
//! endpoints through an outbox written in the same transaction as the
//! change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Active,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    TenantId,
    AgentId,
    Name,
    Scopes,
    TokenHash,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    TenantId,
    Url,
    Events,
    Active,
    Secret,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    TenantId,
    EndpointId,
    EventId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
    DeliveredAt,
}

/// A `tenant_id` foreign key that goes with its tenant (also used by later
/// migrations).
pub(crate) fn tenant_fk(name: &str, table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(table)
        .from_col(Alias::new("tenant_id"))
        .to(Alias::new("tenants"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .add_column(boolean(Agents::Active).default(true))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .if_not_exists()
                .col(string_len(ApiTokens::Id, 36).primary_key())
                .col(string_len(ApiTokens::TenantId, 36))
                .col(string_len(ApiTokens::AgentId, 36))
                .col(string_len(ApiTokens::Name, 100))
                .col(text(ApiTokens::Scopes))
                .col(string_len(ApiTokens::TokenHash, 64).unique_key())
                .col(big_integer(ApiTokens::CreatedAt))
                .col(big_integer_null(ApiTokens::LastUsedAt))
                .foreign_key(&mut tenant_fk("fk_api_tokens_tenant", ApiTokens::Table))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_tokens_agent")
                        .from(ApiTokens::Table, ApiTokens::AgentId)
                        .to(Alias::new("agents"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_api_tokens_tenant")
                .table(ApiTokens::Table)
                .col(ApiTokens::TenantId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .if_not_exists()
                .col(string_len(WebhookEndpoints::Id, 36).primary_key())
                .col(string_len(WebhookEndpoints::TenantId, 36))
                .col(string_len(WebhookEndpoints::Url, 2048))
                .col(text(WebhookEndpoints::Events))
                .col(boolean(WebhookEndpoints::Active).default(true))
                .col(string_len(WebhookEndpoints::Secret, 100))
                .col(big_integer(WebhookEndpoints::CreatedAt))
                .col(big_integer(WebhookEndpoints::UpdatedAt))
                .foreign_key(&mut tenant_fk(
                    "fk_webhook_endpoints_tenant",
                    WebhookEndpoints::Table,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_endpoints_tenant")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::TenantId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .if_not_exists()
                .col(string_len(WebhookDeliveries::Id, 36).primary_key())
                .col(string_len(WebhookDeliveries::TenantId, 36))
                .col(string_len(WebhookDeliveries::EndpointId, 36))
                .col(string_len(WebhookDeliveries::EventId, 36))
                .col(string_len(WebhookDeliveries::EventType, 64))
                .col(text(WebhookDeliveries::Payload))
                .col(string_len(WebhookDeliveries::Status, 16))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(big_integer(WebhookDeliveries::NextAttemptAt))
                .col(big_integer(WebhookDeliveries::LeaseUntil).default(0))
                .col(integer_null(WebhookDeliveries::LastStatus))
                .col(string_len_null(WebhookDeliveries::LastError, 500))
                .col(big_integer(WebhookDeliveries::CreatedAt))
                .col(big_integer(WebhookDeliveries::UpdatedAt))
                .col(big_integer_null(WebhookDeliveries::DeliveredAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_webhook_deliveries_endpoint")
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_endpoint")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            ApiTokens::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .drop_column(Agents::Active)
                .to_owned(),
        )
        .await
    }
}
