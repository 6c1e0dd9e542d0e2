//! Which places a region serves, as ZIP codes: a home is placed from its ZIP code, and the
//! region is the one whose list holds it. A list is comma-separated: a three-digit prefix
//! (`274`), a range of prefixes (`270-277`), or a whole five-digit ZIP (`99685`). The five
//! regions seeded by migration 6 get their utility's area; a region with an empty list serves
//! no ZIP code until an admin gives it one. A `VARCHAR`, not `TEXT`: MySQL 8 refuses a plain
//! default on `TEXT`.
//!
//! A home's panel count may now be left out and estimated; `max_panels_estimated` says so
//! until the survey measures the roof.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000018_homes_from_zip_codes"
    }
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    MaxPanelsEstimated,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
    ZipCodes,
}

/// The seeded regions' areas, approximating each named utility's territory by three-digit
/// prefixes (a prefix can straddle two utilities; admins refine a list with whole ZIP codes).
const SERVED: [(&str, &str); 5] = [
    // Duke Energy Carolinas: Winston-Salem, Greensboro, Durham, Charlotte, Hickory (Raleigh's
    // 275-276 is Duke Energy Progress).
    ("us-nc-piedmont", "270-274,277,280-282,286"),
    // Adak, Atka, Akutan, False Pass, St. George, King Cove, St. Paul, Sand Point, Unalaska.
    (
        "us-ak-aleutians",
        "99546,99547,99553,99583,99591,99612,99660,99661,99685,99692",
    ),
    // Arizona Public Service: Phoenix and central and northern Arizona (Tucson's 856-857 is
    // Tucson Electric Power, Kingman's 864 UniSource).
    ("us-southwest", "850-855,859-860,863,865"),
    // Eversource: Massachusetts, New Hampshire, Connecticut.
    ("us-northeast", "010-027,030-038,060-069"),
    // Puget Sound Energy: the Eastside, Tacoma's suburbs, Olympia (Seattle's 981 is Seattle
    // City Light, Everett's 982 Snohomish PUD).
    ("us-pacific-northwest", "980,983-985"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Regions::Table)
                    .add_column(
                        ColumnDef::new(Regions::ZipCodes)
                            .string_len(1000)
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sites::Table)
                    .add_column(
                        ColumnDef::new(Sites::MaxPanelsEstimated)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        for (id, zips) in SERVED {
            manager
                .exec_stmt(
                    Query::update()
                        .table(Regions::Table)
                        .value(Regions::ZipCodes, zips)
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
                    .table(Sites::Table)
                    .drop_column(Sites::MaxPanelsEstimated)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Regions::Table)
                    .drop_column(Regions::ZipCodes)
                    .to_owned(),
            )
            .await
    }
}
