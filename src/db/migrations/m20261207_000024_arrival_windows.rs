//! Arrival windows: a crew's day is cut into windows (morning 8–12 and afternoon 12–4 unless
//! the crew says otherwise), a booking holds one, and each window has its own load row, taken
//! with the same conditional update as the day's. A booking that was moved remembers when, so
//! the crews asked about its old day may be asked again about the new one.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000024_arrival_windows"
    }
}

#[derive(DeriveIden)]
enum Crews {
    Table,
    Id,
    ArrivalWindows,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    ArriveFrom,
    ArriveUntil,
    MovedAt,
}

#[derive(DeriveIden)]
enum CrewWindowLoad {
    Table,
    CrewId,
    Day,
    Starts,
    Booked,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table(Crews::Table)
                    .add_column(
                        ColumnDef::new(Crews::ArrivalWindows)
                            .string_len(200)
                            .not_null()
                            .default("08:00-12:00,12:00-16:00"),
                    )
                    .to_owned(),
            )
            .await?;
        // Minutes after midnight in the home's time zone; empty on bookings made before
        // windows existed (those hold the whole day).
        for column in [Bookings::ArriveFrom, Bookings::ArriveUntil] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Bookings::Table)
                        .add_column(ColumnDef::new(column).integer().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Bookings::Table)
                    .add_column(utc_timestamp(backend, Bookings::MovedAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CrewWindowLoad::Table)
                    .col(ColumnDef::new(CrewWindowLoad::CrewId).uuid().not_null())
                    .col(ColumnDef::new(CrewWindowLoad::Day).date().not_null())
                    .col(ColumnDef::new(CrewWindowLoad::Starts).integer().not_null())
                    .col(ColumnDef::new(CrewWindowLoad::Booked).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(CrewWindowLoad::CrewId)
                            .col(CrewWindowLoad::Day)
                            .col(CrewWindowLoad::Starts),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_crew_window_load_crew")
                            .from(CrewWindowLoad::Table, CrewWindowLoad::CrewId)
                            .to(Crews::Table, Crews::Id)
                            .on_delete(ForeignKeyAction::Restrict)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CrewWindowLoad::Table).to_owned())
            .await?;
        for column in [Bookings::ArriveFrom, Bookings::ArriveUntil, Bookings::MovedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Bookings::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Crews::Table)
                    .drop_column(Crews::ArrivalWindows)
                    .to_owned(),
            )
            .await
    }
}
