//! A typical year of hourly usage next to the monthly figures, so that quotes can match
//! production with usage hour by hour.

use sea_orm_migration::prelude::*;

use super::columns::long_text;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000008_hourly_usage"
    }
}

#[derive(DeriveIden)]
enum SiteUsage {
    Table,
    /// 8,760 values as JSON, or NULL when the import had no hourly year.
    HourlyKwh,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table(SiteUsage::Table)
                    // 8,760 numbers as JSON are about 60–90 KB.
                    .add_column(long_text(backend, SiteUsage::HourlyKwh).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SiteUsage::Table)
                    .drop_column(SiteUsage::HourlyKwh)
                    .to_owned(),
            )
            .await
    }
}
