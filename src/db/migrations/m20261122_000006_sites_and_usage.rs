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

struct RegionSeed {
    id: &'static str,
    name: &'static str,
    utility: &'static str,
    tmy: Option<&'static str>,
    specific_yield: f64,
    price_per_watt_cents: i32,
    deposit_percent: i32,
    retail_rate: f64,
    export_rate: f64,
    escalation_percent: f64,
}

/// Starting values an admin adjusts later. Prices: $2.50/W is the 2024 US median quote;
/// yields are the rough figures of domain.md; rates are typical residential tariffs ($/kWh).
const REGIONS: [RegionSeed; 5] = [
    RegionSeed {
        id: "us-nc-piedmont",
        name: "North Carolina Piedmont",
        utility: "Duke Energy Carolinas",
        tmy: Some("723170TYA"),
        specific_yield: 1400.0,
        price_per_watt_cents: 250,
        deposit_percent: 10,
        retail_rate: 0.14,
        export_rate: 0.04,
        escalation_percent: 3.0,
    },
    RegionSeed {
        id: "us-ak-aleutians",
        name: "Alaska Peninsula and Aleutians",
        utility: "Alaska Village Electric Cooperative",
        tmy: Some("703165TY"),
        specific_yield: 750.0,
        price_per_watt_cents: 320,
        deposit_percent: 10,
        retail_rate: 0.32,
        export_rate: 0.10,
        escalation_percent: 2.0,
    },
    RegionSeed {
        id: "us-southwest",
        name: "US Southwest",
        utility: "Arizona Public Service",
        tmy: None,
        specific_yield: 1800.0,
        price_per_watt_cents: 250,
        deposit_percent: 10,
        retail_rate: 0.15,
        export_rate: 0.05,
        escalation_percent: 3.0,
    },
    RegionSeed {
        id: "us-northeast",
        name: "US Northeast",
        utility: "Eversource",
        tmy: None,
        specific_yield: 1100.0,
        price_per_watt_cents: 280,
        deposit_percent: 10,
        retail_rate: 0.26,
        export_rate: 0.26,
        escalation_percent: 3.0,
    },
    RegionSeed {
        id: "us-pacific-northwest",
        name: "US Pacific Northwest",
        utility: "Puget Sound Energy",
        tmy: None,
        specific_yield: 1100.0,
        price_per_watt_cents: 260,
        deposit_percent: 10,
        retail_rate: 0.13,
        export_rate: 0.13,
        escalation_percent: 2.5,
    },
];

struct PanelSeed {
    id: &'static str,
    manufacturer: &'static str,
    model: &'static str,
    watts: i32,
    efficiency_percent: f64,
    width_mm: i32,
    height_mm: i32,
    warranty_years: i32,
}

const PANELS: [PanelSeed; 3] = [
    PanelSeed {
        id: "qcells-qpeak-duo-410",
        manufacturer: "Qcells",
        model: "Q.PEAK DUO BLK ML-G10+ 410",
        watts: 410,
        efficiency_percent: 20.9,
        width_mm: 1134,
        height_mm: 1722,
        warranty_years: 25,
    },
    PanelSeed {
        id: "rec-alpha-pure-r-430",
        manufacturer: "REC",
        model: "Alpha Pure-R 430",
        watts: 430,
        efficiency_percent: 22.3,
        width_mm: 1134,
        height_mm: 1730,
        warranty_years: 25,
    },
    PanelSeed {
        id: "canadian-hiku6-445",
        manufacturer: "Canadian Solar",
        model: "HiKu6 CS6R-445MS",
        watts: 445,
        efficiency_percent: 21.6,
        width_mm: 1134,
        height_mm: 1765,
        warranty_years: 25,
    },
];

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let bad_row = |e: sea_orm::sea_query::error::Error| DbErr::Custom(format!("seed row: {e}"));
    for r in REGIONS {
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
                r.id.into(),
                r.name.into(),
                r.utility.into(),
                r.tmy.into(),
                r.specific_yield.into(),
                r.price_per_watt_cents.into(),
                r.deposit_percent.into(),
                r.retail_rate.into(),
                r.export_rate.into(),
                r.escalation_percent.into(),
                true.into(),
            ])
            .map_err(bad_row)?;
        manager.exec_stmt(insert).await?;
    }
    for p in PANELS {
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
                p.id.into(),
                p.manufacturer.into(),
                p.model.into(),
                p.watts.into(),
                p.efficiency_percent.into(),
                p.width_mm.into(),
                p.height_mm.into(),
                p.warranty_years.into(),
                true.into(),
            ])
            .map_err(bad_row)?;
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}
