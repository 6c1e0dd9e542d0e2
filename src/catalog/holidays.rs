//! Public holidays: days the calendar never offers, for every region or for one. Seeded with
//! the US federal holidays (migration 19); admins add a state holiday or an observed day for
//! a region, and remove one, on the catalog page. Each change is audited in its transaction.

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::admin::CatalogError;
use super::store::{holiday, region};
use crate::audit::{self, Action, Actor, Details, Target};

/// The `region_id` of a holiday kept by every region.
pub const EVERY_REGION: &str = "";

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Holiday {
    pub id: uuid::Uuid,
    /// The region that keeps it; empty when every region does.
    pub region_id: String,
    pub day: NaiveDate,
    pub name: String,
}

impl From<holiday::Model> for Holiday {
    fn from(h: holiday::Model) -> Self {
        Self {
            id: h.id,
            region_id: h.region_id,
            day: h.day,
            name: h.name,
        }
    }
}

/// The holidays a home in `region` keeps between `first` and `last`, both included.
pub async fn closed_days<C: crate::db::Conn>(
    conn: &C,
    region: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<HashSet<NaiveDate>, DbErr> {
    Ok(holiday::Entity::find()
        .filter(holiday::Column::RegionId.is_in([EVERY_REGION, region]))
        .filter(holiday::Column::Day.between(first, last))
        .all(conn)
        .await?
        .into_iter()
        .map(|h| h.day)
        .collect())
}

/// The holidays of the year from `from`, by day (every region's first on a day).
pub async fn upcoming<C: crate::db::Conn>(conn: &C, from: NaiveDate) -> Result<Vec<Holiday>, DbErr> {
    let until = from + chrono::TimeDelta::days(365);
    Ok(holiday::Entity::find()
        .filter(holiday::Column::Day.between(from, until))
        .order_by_asc(holiday::Column::Day)
        .order_by_asc(holiday::Column::RegionId)
        .all(conn)
        .await?
        .into_iter()
        .map(Holiday::from)
        .collect())
}

pub struct NewHoliday {
    /// A region's id, or `EVERY_REGION`.
    pub region_id: String,
    pub day: NaiveDate,
    pub name: String,
}

/// A day as the audit trail's details take it (no free text there): 20261225.
fn day_number(day: NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(day.year()) * 10_000 + i64::from(day.month()) * 100 + i64::from(day.day())
}

fn target(id: uuid::Uuid) -> Target {
    Target {
        kind: "holiday",
        id: id.to_string(),
    }
}

pub async fn add(db: &DatabaseConnection, actor: &Actor, new: NewHoliday) -> Result<Holiday, CatalogError> {
    let name = super::admin::text("name", &new.name, 80)?;
    let today = Utc::now().date_naive();
    if new.day < today || new.day > today + chrono::TimeDelta::days(366 * 5) {
        return Err(CatalogError::Invalid("day"));
    }
    if new.region_id != EVERY_REGION
        && region::Entity::find_by_id(new.region_id.clone())
            .one(db)
            .await?
            .is_none()
    {
        return Err(CatalogError::Invalid("region_id"));
    }
    let id = uuid::Uuid::now_v7();
    let tx = crate::db::begin(db).await?;
    let inserted = holiday::Entity::insert(holiday::ActiveModel {
        id: Set(id),
        region_id: Set(new.region_id.clone()),
        day: Set(new.day),
        name: Set(name.clone()),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(&tx)
    .await;
    match inserted {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
            return Err(CatalogError::HolidayExists);
        }
        other => {
            other?;
        }
    }
    let details = Details::new()
        .with("change", "holiday added")
        .with("day", day_number(new.day))
        .with("every_region", new.region_id == EVERY_REGION);
    audit::record(&tx, actor, Action::CatalogChanged, Some(target(id)), details).await?;
    tx.commit().await?;
    Ok(Holiday {
        id,
        region_id: new.region_id,
        day: new.day,
        name,
    })
}

pub async fn remove(db: &DatabaseConnection, actor: &Actor, id: uuid::Uuid) -> Result<(), CatalogError> {
    let tx = crate::db::begin(db).await?;
    let Some(found) = holiday::Entity::find_by_id(id).one(&tx).await? else {
        return Err(CatalogError::NotFound);
    };
    holiday::Entity::delete_by_id(id).exec(&tx).await?;
    let details = Details::new()
        .with("change", "holiday removed")
        .with("day", day_number(found.day))
        .with("every_region", found.region_id == EVERY_REGION);
    audit::record(&tx, actor, Action::CatalogChanged, Some(target(id)), details).await?;
    tx.commit().await?;
    Ok(())
}
