//! Sizing inputs: regions (prices, rates and weather per utility area), the public panel
//! catalog, customers' sites, and the electricity usage imported for each site.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000006_sites_and_usage"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Regions {
    Table,
    Id,
    Name,
    Utility,
    /// A built-in or uploaded TMY3 file; without one the specific yield is used.
    TmyKey,
    SpecificYield,
    PricePerWattCents,
    DepositPercent,
    RetailRate,
    ExportRate,
    EscalationPercent,
    Active,
}

#[derive(DeriveIden)]
enum Panels {
    Table,
    Id,
    Manufacturer,
    Model,
    Watts,
    EfficiencyPercent,
    WidthMm,
    HeightMm,
    WarrantyYears,
    Active,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    OwnerId,
    Label,
    /// One field, so that the security-operations work can encrypt it in one place.
    Address,
    Latitude,
    Longitude,
    RegionId,
    RoofTiltDeg,
    RoofAzimuthDeg,
    MaxPanels,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SiteUsage {
    Table,
    Id,
    SiteId,
    Source,
    PeriodStart,
    PeriodEnd,
    IntervalSecs,
    Readings,
    DeliveredKwh,
    ExportedKwh,
    AnnualKwh,
    MonthlyKwh,
    Notes,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Regions::Table)
                    .col(
                        ColumnDef::new(Regions::Id)
                            .string_len(40)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Regions::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Regions::Utility).string_len(100).not_null())
                    .col(ColumnDef::new(Regions::TmyKey).string_len(64).null())
                    .col(ColumnDef::new(Regions::SpecificYield).double().not_null())
                    .col(ColumnDef::new(Regions::PricePerWattCents).integer().not_null())
                    .col(ColumnDef::new(Regions::DepositPercent).integer().not_null())
                    .col(ColumnDef::new(Regions::RetailRate).double().not_null())
                    .col(ColumnDef::new(Regions::ExportRate).double().not_null())
                    .col(ColumnDef::new(Regions::EscalationPercent).double().not_null())
                    .col(ColumnDef::new(Regions::Active).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Panels::Table)
                    .col(ColumnDef::new(Panels::Id).string_len(40).not_null().primary_key())
                    .col(ColumnDef::new(Panels::Manufacturer).string_len(100).not_null())
                    .col(ColumnDef::new(Panels::Model).string_len(100).not_null())
                    .col(ColumnDef::new(Panels::Watts).integer().not_null())
                    .col(ColumnDef::new(Panels::EfficiencyPercent).double().not_null())
                    .col(ColumnDef::new(Panels::WidthMm).integer().not_null())
                    .col(ColumnDef::new(Panels::HeightMm).integer().not_null())
                    .col(ColumnDef::new(Panels::WarrantyYears).integer().not_null())
                    .col(ColumnDef::new(Panels::Active).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sites::Table)
                    .col(ColumnDef::new(Sites::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sites::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Sites::Label).string_len(60).not_null())
                    .col(ColumnDef::new(Sites::Address).string_len(1000).not_null())
                    .col(ColumnDef::new(Sites::Latitude).double().not_null())
                    .col(ColumnDef::new(Sites::Longitude).double().not_null())
                    .col(ColumnDef::new(Sites::RegionId).string_len(40).not_null())
                    .col(ColumnDef::new(Sites::RoofTiltDeg).double().not_null())
                    .col(ColumnDef::new(Sites::RoofAzimuthDeg).double().not_null())
                    .col(ColumnDef::new(Sites::MaxPanels).integer().not_null())
                    .col(utc_timestamp(backend, Sites::CreatedAt).not_null())
                    .col(utc_timestamp(backend, Sites::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sites_owner")
                            .from(Sites::Table, Sites::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sites_region")
                            .from(Sites::Table, Sites::RegionId)
                            .to(Regions::Table, Regions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sites_owner")
                    .table(Sites::Table)
                    .col(Sites::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SiteUsage::Table)
                    .col(ColumnDef::new(SiteUsage::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(SiteUsage::SiteId).uuid().not_null())
                    .col(ColumnDef::new(SiteUsage::Source).string_len(16).not_null())
                    .col(utc_timestamp(backend, SiteUsage::PeriodStart).null())
                    .col(utc_timestamp(backend, SiteUsage::PeriodEnd).null())
                    .col(ColumnDef::new(SiteUsage::IntervalSecs).integer().null())
                    .col(ColumnDef::new(SiteUsage::Readings).integer().not_null())
                    .col(ColumnDef::new(SiteUsage::DeliveredKwh).double().not_null())
                    .col(ColumnDef::new(SiteUsage::ExportedKwh).double().not_null())
                    .col(ColumnDef::new(SiteUsage::AnnualKwh).double().not_null())
                    // Twelve values, January first, as JSON: read and written whole.
                    .col(ColumnDef::new(SiteUsage::MonthlyKwh).text().not_null())
                    .col(ColumnDef::new(SiteUsage::Notes).text().not_null())
                    .col(utc_timestamp(backend, SiteUsage::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_site_usage_site")
                            .from(SiteUsage::Table, SiteUsage::SiteId)
                            .to(Sites::Table, Sites::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_site_usage_site")
                    .table(SiteUsage::Table)
                    .col(SiteUsage::SiteId)
                    .col(SiteUsage::CreatedAt)
                    .to_owned(),
            )
            .await?;
        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SiteUsage::Table.into_iden(),
            Sites::Table.into_iden(),
            Panels::Table.into_iden(),
            Regions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// Starting values an admin adjusts later. Prices: $2.50/W is the 2024 US median quote;
/// yields are the rough figures of domain.md; rates are typical residential tariffs.
async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    // id, name, utility, TMY file, specific yield, ¢/W, deposit %, retail $/kWh, export $/kWh, escalation %
    let regions: [(&str, &str, &str, Option<&str>, f64, i32, i32, f64, f64, f64); 5] = [
        (
            "us-nc-piedmont",
            "North Carolina Piedmont",
            "Duke Energy Carolinas",
            Some("723170TYA"),
            1400.0,
            250,
            10,
            0.14,
            0.04,
            3.0,
        ),
        (
            "us-ak-aleutians",
            "Alaska Peninsula and Aleutians",
            "Alaska Village Electric Cooperative",
            Some("703165TY"),
            750.0,
            320,
            10,
            0.32,
            0.10,
            2.0,
        ),
        (
            "us-southwest",
            "US Southwest",
            "Arizona Public Service",
            None,
            1800.0,
            250,
            10,
            0.15,
            0.05,
            3.0,
        ),
        (
            "us-northeast",
            "US Northeast",
            "Eversource",
            None,
            1100.0,
            280,
            10,
            0.26,
            0.26,
            3.0,
        ),
        (
            "us-pacific-northwest",
            "US Pacific Northwest",
            "Puget Sound Energy",
            None,
            1100.0,
            260,
            10,
            0.13,
            0.13,
            2.5,
        ),
    ];
    for (id, name, utility, tmy, yield_, ppw, deposit, retail, export, escalation) in regions {
        let mut insert = Query::insert();
        insert
            .into_table(Regions::Table)
            .columns([
                Regions::Id,
                Regions::Name,
                Regions::Utility,
                Regions::TmyKey,
                Regions::SpecificYield,
                Regions::PricePerWattCents,
                Regions::DepositPercent,
                Regions::RetailRate,
                Regions::ExportRate,
                Regions::EscalationPercent,
                Regions::Active,
            ])
            .values([
                id.into(),
                name.into(),
                utility.into(),
                tmy.into(),
                yield_.into(),
                ppw.into(),
                deposit.into(),
                retail.into(),
                export.into(),
                escalation.into(),
                true.into(),
            ])
            .map_err(|e| DbErr::Custom(format!("seed row: {e}")))?;
        manager.exec_stmt(insert).await?;
    }
    // id, manufacturer, model, W, efficiency %, width mm, height mm, warranty years
    let panels: [(&str, &str, &str, i32, f64, i32, i32, i32); 3] = [
        (
            "qcells-qpeak-duo-410",
            "Qcells",
            "Q.PEAK DUO BLK ML-G10+ 410",
            410,
            20.9,
            1134,
            1722,
            25,
        ),
        (
            "rec-alpha-pure-r-430",
            "REC",
            "Alpha Pure-R 430",
            430,
            22.3,
            1134,
            1730,
            25,
        ),
        (
            "canadian-hiku6-445",
            "Canadian Solar",
            "HiKu6 CS6R-445MS",
            445,
            21.6,
            1134,
            1765,
            25,
        ),
    ];
    for (id, manufacturer, model, watts, efficiency, width, height, warranty) in panels {
        let mut insert = Query::insert();
        insert
            .into_table(Panels::Table)
            .columns([
                Panels::Id,
                Panels::Manufacturer,
                Panels::Model,
                Panels::Watts,
                Panels::EfficiencyPercent,
                Panels::WidthMm,
                Panels::HeightMm,
                Panels::WarrantyYears,
                Panels::Active,
            ])
            .values([
                id.into(),
                manufacturer.into(),
                model.into(),
                watts.into(),
                efficiency.into(),
                width.into(),
                height.into(),
                warranty.into(),
                true.into(),
            ])
            .map_err(|e| DbErr::Custom(format!("seed row: {e}")))?;
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}
