//! The words accounts are found by (`crate::auth::search`): support's customer search reads
//! an index instead of every account. Existing accounts are indexed here.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000016_user_search_terms"
    }
}

#[derive(DeriveIden)]
enum UserSearchTerms {
    Table,
    Term,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserSearchTerms::Table)
                    // Bytes, not text: a prefix is then a byte range on every database,
                    // whatever its collation.
                    .col(
                        ColumnDef::new(UserSearchTerms::Term)
                            .var_binary(crate::auth::search::MAX_TERM_BYTES as u32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UserSearchTerms::UserId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(UserSearchTerms::Term)
                            .col(UserSearchTerms::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_search_terms_user")
                            .from(UserSearchTerms::Table, UserSearchTerms::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_search_terms_user")
                    .table(UserSearchTerms::Table)
                    .col(UserSearchTerms::UserId)
                    .to_owned(),
            )
            .await?;
        crate::auth::search::rebuild(manager.get_connection()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserSearchTerms::Table).to_owned())
            .await
    }
}
