//! Weather files admins upload for regions without a built-in one, and the priced options a
//! quote may add to the panels (batteries, critter guards, panel upgrades).

use sea_orm_migration::prelude::*;

use super::columns::{long_text, utc_timestamp};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000009_weather_and_options"
    }
}

#[derive(DeriveIden)]
enum WeatherFiles {
    Table,
    /// The station id of the file's first line; regions name their weather by it.
    Key,
    StationName,
    State,
    Latitude,
    Longitude,
    /// The TMY3 text as uploaded (about 1.7 MB), parsed again when first used.
    Content,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QuoteOptions {
    Table,
    Id,
    Name,
    Description,
    PriceCents,
    /// Priced per panel (critter guard) rather than once per system (battery).
    PerPanel,
    Active,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(WeatherFiles::Table)
                    .col(
                        ColumnDef::new(WeatherFiles::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WeatherFiles::StationName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WeatherFiles::State).string_len(40).not_null())
                    .col(ColumnDef::new(WeatherFiles::Latitude).double().not_null())
                    .col(ColumnDef::new(WeatherFiles::Longitude).double().not_null())
                    .col(long_text(backend, WeatherFiles::Content).not_null())
                    .col(ColumnDef::new(WeatherFiles::UploadedBy).uuid().null())
                    .col(utc_timestamp(backend, WeatherFiles::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuoteOptions::Table)
                    .col(
                        ColumnDef::new(QuoteOptions::Id)
                            .string_len(40)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(QuoteOptions::Name).string_len(100).not_null())
                    .col(
                        ColumnDef::new(QuoteOptions::Description)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(ColumnDef::new(QuoteOptions::PriceCents).big_integer().not_null())
                    .col(ColumnDef::new(QuoteOptions::PerPanel).boolean().not_null())
                    .col(
                        ColumnDef::new(QuoteOptions::Active)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;
        seed_options(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [QuoteOptions::Table.into_iden(), WeatherFiles::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// Starting prices an admin adjusts: typical US installed prices for 2025.
const OPTIONS: [(&str, &str, &str, i64, bool); 4] = [
    (
        "battery-13kwh",
        "Home battery, 13.5 kWh",
        "Keeps essential circuits on in an outage and stores midday production for the evening.",
        1_200_000,
        false,
    ),
    (
        "critter-guard",
        "Critter guard",
        "Mesh around the array's edge that keeps birds and squirrels from nesting under the panels.",
        2_500,
        true,
    ),
    (
        "main-panel-upgrade",
        "Main electrical panel upgrade",
        "A 200 A main panel, needed when the existing one cannot take the solar breaker.",
        250_000,
        false,
    ),
    (
        "ev-charger",
        "EV charger (Level 2)",
        "A 48 A wall charger installed in the garage or driveway.",
        150_000,
        false,
    ),
];

async fn seed_options(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let bad_row = |e: sea_orm::sea_query::error::Error| DbErr::Custom(format!("seed row: {e}"));
    for (id, name, description, price_cents, per_panel) in OPTIONS {
        let mut insert = Query::insert();
        insert
            .into_table(QuoteOptions::Table)
            .columns([
                QuoteOptions::Id,
                QuoteOptions::Name,
                QuoteOptions::Description,
                QuoteOptions::PriceCents,
                QuoteOptions::PerPanel,
                QuoteOptions::Active,
            ])
            .values([
                id.into(),
                name.into(),
                description.into(),
                price_cents.into(),
                per_panel.into(),
                true.into(),
            ])
            .map_err(bad_row)?;
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}
