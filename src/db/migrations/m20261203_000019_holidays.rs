//! Days no crew works: public holidays, kept per region and for every region at once (an
//! empty `region_id`), so the calendar never offers Christmas Day. Seeded with the US federal
//! holidays of 2026 to 2030 for every region, on the day itself (an admin adds an observed
//! Friday or Monday, or a state holiday, for a region). Computed here, as the rules were when
//! this was written, so the migration imports nothing of the application.

use chrono::{Datelike, NaiveDate, Weekday};
use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000019_holidays"
    }
}

#[derive(DeriveIden)]
enum Holidays {
    Table,
    Id,
    RegionId,
    Day,
    Name,
    CreatedAt,
}

/// The `n`th `weekday` of a month (n = 5: the last).
fn nth(year: i32, month: u32, weekday: Weekday, n: u32) -> Option<NaiveDate> {
    if n == 5 {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        let mut day = next.pred_opt()?;
        while day.weekday() != weekday {
            day = day.pred_opt()?;
        }
        return Some(day);
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8)
}

fn federal(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let fixed = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    [
        (fixed(1, 1), "New Year's Day"),
        (
            nth(year, 1, Weekday::Mon, 3),
            "Birthday of Martin Luther King, Jr.",
        ),
        (nth(year, 2, Weekday::Mon, 3), "Washington's Birthday"),
        (nth(year, 5, Weekday::Mon, 5), "Memorial Day"),
        (fixed(6, 19), "Juneteenth National Independence Day"),
        (fixed(7, 4), "Independence Day"),
        (nth(year, 9, Weekday::Mon, 1), "Labor Day"),
        (nth(year, 10, Weekday::Mon, 2), "Columbus Day"),
        (fixed(11, 11), "Veterans Day"),
        (nth(year, 11, Weekday::Thu, 4), "Thanksgiving Day"),
        (fixed(12, 25), "Christmas Day"),
    ]
    .into_iter()
    .filter_map(|(day, name)| day.map(|d| (d, name)))
    .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Holidays::Table)
                    .col(ColumnDef::new(Holidays::Id).uuid().not_null().primary_key())
                    // Empty: every region.
                    .col(
                        ColumnDef::new(Holidays::RegionId)
                            .string_len(64)
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(Holidays::Day).date().not_null())
                    .col(ColumnDef::new(Holidays::Name).string_len(80).not_null())
                    .col(utc_timestamp(backend, Holidays::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_holidays_region_day")
                    .table(Holidays::Table)
                    .col(Holidays::RegionId)
                    .col(Holidays::Day)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(Holidays::Table).columns([
            Holidays::Id,
            Holidays::RegionId,
            Holidays::Day,
            Holidays::Name,
            Holidays::CreatedAt,
        ]);
        for year in 2026..=2030 {
            for (day, name) in federal(year) {
                insert.values_panic([
                    uuid::Uuid::now_v7().into(),
                    "".into(),
                    day.into(),
                    name.into(),
                    now.into(),
                ]);
            }
        }
        manager.exec_stmt(insert).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Holidays::Table).to_owned())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federal_holidays_fall_on_their_days() {
        let days: Vec<String> = federal(2026).iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(
            days,
            [
                "2026-01-01",
                "2026-01-19",
                "2026-02-16",
                "2026-05-25",
                "2026-06-19",
                "2026-07-04",
                "2026-09-07",
                "2026-10-12",
                "2026-11-11",
                "2026-11-26",
                "2026-12-25"
            ]
        );
        assert_eq!(nth(2027, 5, Weekday::Mon, 5).unwrap().to_string(), "2027-05-31");
    }
}
