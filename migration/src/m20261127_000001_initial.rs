use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ID: u32 = 36;
const DIGEST: u32 = 64;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    AllowedOrigins,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    TenantId,
    Name,
    Email,
    Role,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuthTokens {
    Table,
    TokenHash,
    Kind,
    AgentId,
    TenantId,
    ParentHash,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    TenantId,
    Name,
    Email,
    Attributes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    Id,
    TenantId,
    CustomerId,
    KeyHash,
    Status,
    AssignedAgentId,
    AssignedAgentName,
    PageUrl,
    Referrer,
    UserAgent,
    Locale,
    CreatedAt,
    LastActivityAt,
    LastSeq,
    LastMessagePreview,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    TenantId,
    SessionId,
    Seq,
    SenderType,
    SenderId,
    SenderName,
    Body,
    ClientMsgId,
    CreatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .if_not_exists()
                .col(string_len(Tenants::Id, ID).primary_key())
                .col(string_len_uniq(Tenants::Slug, 64))
                .col(string_len(Tenants::Name, 200))
                .col(text(Tenants::AllowedOrigins))
                .col(big_integer(Tenants::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Agents::Table)
                .if_not_exists()
                .col(string_len(Agents::Id, ID).primary_key())
                .col(string_len(Agents::TenantId, ID))
                .col(string_len(Agents::Name, 200))
                .col(string_len_uniq(Agents::Email, 254))
                .col(string_len(Agents::Role, 16))
                .col(text(Agents::PasswordHash))
                .col(big_integer(Agents::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_agents_tenant",
                    (Agents::Table, Agents::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuthTokens::Table)
                .if_not_exists()
                .col(string_len(AuthTokens::TokenHash, DIGEST).primary_key())
                .col(string_len(AuthTokens::Kind, 16))
                .col(string_len(AuthTokens::AgentId, ID))
                .col(string_len(AuthTokens::TenantId, ID))
                .col(string_len_null(AuthTokens::ParentHash, DIGEST))
                .col(big_integer(AuthTokens::ExpiresAt))
                .col(big_integer(AuthTokens::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_tokens_agent",
                    (AuthTokens::Table, AuthTokens::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_tokens_parent")
                .table(AuthTokens::Table)
                .col(AuthTokens::ParentHash)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Customers::Table)
                .if_not_exists()
                .col(string_len(Customers::Id, ID).primary_key())
                .col(string_len(Customers::TenantId, ID))
                .col(string_len_null(Customers::Name, 200))
                .col(string_len_null(Customers::Email, 254))
                .col(text(Customers::Attributes))
                .col(big_integer(Customers::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_customers_tenant",
                    (Customers::Table, Customers::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ChatSessions::Table)
                .if_not_exists()
                .col(string_len(ChatSessions::Id, ID).primary_key())
                .col(string_len(ChatSessions::TenantId, ID))
                .col(string_len(ChatSessions::CustomerId, ID))
                .col(string_len_uniq(ChatSessions::KeyHash, DIGEST))
                .col(string_len(ChatSessions::Status, 16))
                .col(string_len_null(ChatSessions::AssignedAgentId, ID))
                .col(string_len_null(ChatSessions::AssignedAgentName, 200))
                .col(text_null(ChatSessions::PageUrl))
                .col(text_null(ChatSessions::Referrer))
                .col(text_null(ChatSessions::UserAgent))
                .col(string_len_null(ChatSessions::Locale, 35))
                .col(big_integer(ChatSessions::CreatedAt))
                .col(big_integer(ChatSessions::LastActivityAt))
                .col(big_integer(ChatSessions::LastSeq))
                .col(text_null(ChatSessions::LastMessagePreview))
                .foreign_key(&mut fk(
                    "fk_sessions_tenant",
                    (ChatSessions::Table, ChatSessions::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_sessions_customer",
                    (ChatSessions::Table, ChatSessions::CustomerId),
                    (Customers::Table, Customers::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_tenant_activity")
                .table(ChatSessions::Table)
                .col(ChatSessions::TenantId)
                .col(ChatSessions::LastActivityAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_customer")
                .table(ChatSessions::Table)
                .col(ChatSessions::CustomerId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Messages::Table)
                .if_not_exists()
                .col(string_len(Messages::Id, ID).primary_key())
                .col(string_len(Messages::TenantId, ID))
                .col(string_len(Messages::SessionId, ID))
                .col(big_integer(Messages::Seq))
                .col(string_len(Messages::SenderType, 16))
                .col(string_len_null(Messages::SenderId, ID))
                .col(string_len(Messages::SenderName, 200))
                .col(text(Messages::Body))
                .col(string_len_null(Messages::ClientMsgId, 64))
                .col(big_integer(Messages::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_messages_session",
                    (Messages::Table, Messages::SessionId),
                    (ChatSessions::Table, ChatSessions::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_messages_session_seq")
                .table(Messages::Table)
                .col(Messages::SessionId)
                .col(Messages::Seq)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_messages_session_client_id")
                .table(Messages::Table)
                .col(Messages::SessionId)
                .col(Messages::ClientMsgId)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Messages::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ChatSessions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Customers::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AuthTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Agents::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}
