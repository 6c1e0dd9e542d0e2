//! Quotes: immutable once written. A change is a new version of the site's quote, so what a
//! customer accepted is exactly what they saw.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000007_quotes"
    }
}

#[derive(DeriveIden)]
enum Quotes {
    Table,
    Id,
    SiteId,
    OwnerId,
    Version,
    Inputs,
    Figures,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Quotes::Table)
                    .col(ColumnDef::new(Quotes::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Quotes::SiteId).uuid().not_null())
                    .col(ColumnDef::new(Quotes::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Quotes::Version).integer().not_null())
                    // What it was computed from and what was shown, as JSON, written once.
                    .col(ColumnDef::new(Quotes::Inputs).text().not_null())
                    .col(ColumnDef::new(Quotes::Figures).text().not_null())
                    .col(utc_timestamp(backend, Quotes::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quotes_site")
                            .from(Quotes::Table, Quotes::SiteId)
                            .to(Sites::Table, Sites::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Two requests racing for the next version: one wins, the other retries.
        manager
            .create_index(
                Index::create()
                    .name("ux_quotes_site_version")
                    .table(Quotes::Table)
                    .col(Quotes::SiteId)
                    .col(Quotes::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_quotes_owner")
                    .table(Quotes::Table)
                    .col(Quotes::OwnerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Quotes::Table).to_owned())
            .await
    }
}
