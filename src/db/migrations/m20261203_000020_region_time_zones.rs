//! Each region's time zone (an IANA name), so a home's times are shown in its own zone and
//! named ("10:30 EST"). The five seeded regions get their utility area's zone; the Aleutian
//! villages are mostly on Alaska time (Adak and Atka keep Hawaii–Aleutian time; admins can
//! split them into a region of their own). A new region defaults to US Eastern until set.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000020_region_time_zones"
    }
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
    TimeZone,
}

const ZONES: [(&str, &str); 5] = [
    ("us-nc-piedmont", "America/New_York"),
    ("us-ak-aleutians", "America/Anchorage"),
    ("us-southwest", "America/Phoenix"),
    ("us-northeast", "America/New_York"),
    ("us-pacific-northwest", "America/Los_Angeles"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Regions::Table)
                    .add_column(
                        ColumnDef::new(Regions::TimeZone)
                            .string_len(64)
                            .not_null()
                            .default("America/New_York"),
                    )
                    .to_owned(),
            )
            .await?;
        for (id, zone) in ZONES {
            manager
                .exec_stmt(
                    Query::update()
                        .table(Regions::Table)
                        .value(Regions::TimeZone, zone)
                        .and_where(Expr::col(Regions::Id).eq(id))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Regions::Table)
                    .drop_column(Regions::TimeZone)
                    .to_owned(),
            )
            .await
    }
}
