//! What the crew app needs: each photo says what it shows (`subject`), so a step can require
//! particular photos; steps and photos sent from a phone carry the phone's idempotency key, so
//! a replay after lost signal records nothing twice (a unique index per job makes the second
//! insert fail even when two replays race); a home keeps its access notes for the crew (gate
//! code, dog, where to park), sealed like the address.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000021_crew_app"
    }
}

#[derive(DeriveIden)]
enum JobPhotos {
    Table,
    JobId,
    Subject,
    IdempotencyKey,
}

#[derive(DeriveIden)]
enum JobEvents {
    Table,
    JobId,
    IdempotencyKey,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    AccessNotes,
}

/// SQLite adds one column per `ALTER TABLE`.
async fn add(manager: &SchemaManager<'_>, table: impl IntoIden, column: ColumnDef) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            JobPhotos::Table,
            ColumnDef::new(JobPhotos::Subject)
                .string_len(16)
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            JobPhotos::Table,
            ColumnDef::new(JobPhotos::IdempotencyKey)
                .string_len(64)
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            JobEvents::Table,
            ColumnDef::new(JobEvents::IdempotencyKey)
                .string_len(64)
                .null()
                .to_owned(),
        )
        .await?;
        add(
            manager,
            Sites::Table,
            ColumnDef::new(Sites::AccessNotes).text().null().to_owned(),
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_job_photos_idempotency")
                    .table(JobPhotos::Table)
                    .col(JobPhotos::JobId)
                    .col(JobPhotos::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_job_events_idempotency")
                    .table(JobEvents::Table)
                    .col(JobEvents::JobId)
                    .col(JobEvents::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_job_events_idempotency")
                    .table(JobEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_job_photos_idempotency")
                    .table(JobPhotos::Table)
                    .to_owned(),
            )
            .await?;
        for (table, column) in [
            (Sites::Table.into_iden(), Sites::AccessNotes.into_iden()),
            (
                JobEvents::Table.into_iden(),
                JobEvents::IdempotencyKey.into_iden(),
            ),
            (
                JobPhotos::Table.into_iden(),
                JobPhotos::IdempotencyKey.into_iden(),
            ),
            (JobPhotos::Table.into_iden(), JobPhotos::Subject.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
