//! Customers' ratings of the crew that installed their system: one per job, and on each crew
//! the running sum and count, kept in the rating's transaction, so dispatch ranks without a
//! query of its own.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000023_crew_ratings"
    }
}

#[derive(DeriveIden)]
enum CrewRatings {
    Table,
    JobId,
    CrewId,
    CustomerId,
    Stars,
    Comment,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Crews {
    Table,
    RatingSum,
    RatingCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(CrewRatings::Table)
                    // One rating per job: the key refuses a second.
                    .col(ColumnDef::new(CrewRatings::JobId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CrewRatings::CrewId).uuid().not_null())
                    .col(ColumnDef::new(CrewRatings::CustomerId).uuid().not_null())
                    .col(ColumnDef::new(CrewRatings::Stars).integer().not_null())
                    .col(ColumnDef::new(CrewRatings::Comment).string_len(1000).not_null())
                    .col(utc_timestamp(backend, CrewRatings::CreatedAt).not_null())
                    .col(utc_timestamp(backend, CrewRatings::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_crew_ratings_crew")
                    .table(CrewRatings::Table)
                    .col(CrewRatings::CrewId)
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per `ALTER TABLE`.
        for column in [Crews::RatingSum, Crews::RatingCount] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Crews::Table)
                        .add_column(ColumnDef::new(column).integer().not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Crews::RatingSum, Crews::RatingCount] {
            manager
                .alter_table(Table::alter().table(Crews::Table).drop_column(column).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(CrewRatings::Table).to_owned())
            .await
    }
}
