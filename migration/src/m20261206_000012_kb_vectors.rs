//! The bot's understanding of articles.
//!
//! - `kb_articles.embedding`: the article's vectors from the bot's
//!   embedding model (title with keywords, then each sentence), computed
//!   when it is saved; each vector as an f32 scale and `dims` signed bytes.
//!   `embedding_model` names the model: vectors of another model are
//!   recomputed in memory until the article is saved again.
//! - `kb_articles.draft`: an article waiting for an admin (say an agent's
//!   reply turned into one); the bot does not use drafts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KbArticles {
    Table,
    Draft,
    EmbeddingModel,
    Embedding,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters one at a time.
        for col in [
            boolean(KbArticles::Draft).default(false).to_owned(),
            string_len_null(KbArticles::EmbeddingModel, 64),
            blob_null(KbArticles::Embedding),
        ] {
            m.alter_table(
                Table::alter()
                    .table(KbArticles::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            KbArticles::Embedding,
            KbArticles::EmbeddingModel,
            KbArticles::Draft,
        ] {
            m.alter_table(
                Table::alter()
                    .table(KbArticles::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
