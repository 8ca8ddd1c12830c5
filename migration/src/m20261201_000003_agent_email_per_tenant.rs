//! Agent email addresses become unique per tenant instead of across all
//! tenants, so that creating an agent never reveals whether an address is
//! in use at another tenant.
//!
//! The original `agents.email` column carries a column-level UNIQUE, which
//! SQLite cannot drop without rebuilding the table (and its foreign keys
//! with it). So the column keeps its constraint and now holds the
//! tenant-qualified key `<tenant_id>:<address>`, unique per tenant by
//! construction, and the new `address` column holds the address itself,
//! indexed for login.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, TryGetable};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    TenantId,
    Email,
    Address,
}

/// The key the unique `email` column holds.
pub fn tenant_email_key(tenant_id: &str, address: &str) -> String {
    format!("{tenant_id}:{address}")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .add_column(
                    ColumnDef::new(Agents::Address)
                        .string_len(254)
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let select = Query::select()
            .columns([Agents::Id, Agents::TenantId, Agents::Email])
            .from(Agents::Table)
            .to_owned();
        for row in db.query_all(&select).await? {
            let id =
                String::try_get(&row, "", "id").map_err(|e| DbErr::Custom(format!("{e:?}")))?;
            let tenant = String::try_get(&row, "", "tenant_id")
                .map_err(|e| DbErr::Custom(format!("{e:?}")))?;
            let address =
                String::try_get(&row, "", "email").map_err(|e| DbErr::Custom(format!("{e:?}")))?;
            let update = Query::update()
                .table(Agents::Table)
                .values([
                    (Agents::Address, address.clone().into()),
                    (Agents::Email, tenant_email_key(&tenant, &address).into()),
                ])
                .and_where(Expr::col(Agents::Id).eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        m.create_index(
            Index::create()
                .name("idx_agents_address")
                .table(Agents::Table)
                .col(Agents::Address)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_agents_address")
                .table(Agents::Table)
                .to_owned(),
        )
        .await?;
        // Back to one address per key: fails if two tenants share one now.
        let db = m.get_connection();
        let restore = Query::update()
            .table(Agents::Table)
            .value(Agents::Email, Expr::col(Agents::Address))
            .to_owned();
        db.execute(&restore).await?;
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .drop_column(Agents::Address)
                .to_owned(),
        )
        .await
    }
}
