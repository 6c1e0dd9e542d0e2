//! Admins manage the catalog: add panels, retire them, and set each region's prices, tariffs
//! and yield. Every change is audited; quotes already made keep the figures they were made
//! with (they store their inputs).

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, SqlErr};
use serde::Deserialize;
use utoipa::ToSchema;

use super::store::{panel, region};
use super::{Panel, Region};
use crate::audit::{self, Action, Actor, Details, Target};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("not found")]
    NotFound,
    #[error("a panel with this id exists")]
    Exists,
    #[error("{0} is out of range")]
    Invalid(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for CatalogError {
    fn from(e: DbErr) -> Self {
        CatalogError::Internal(e.into())
    }
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPanel {
    /// Lower-case letters, digits and dashes.
    pub id: String,
    pub manufacturer: String,
    pub model: String,
    pub watts: i32,
    pub efficiency_percent: f64,
    pub width_mm: i32,
    pub height_mm: i32,
    pub warranty_years: i32,
}

fn check<T: PartialOrd>(field: &'static str, v: T, low: T, high: T) -> Result<T, CatalogError> {
    if v >= low && v <= high {
        Ok(v)
    } else {
        Err(CatalogError::Invalid(field))
    }
}

fn text(field: &'static str, v: &str, max: usize) -> Result<String, CatalogError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(CatalogError::Invalid(field));
    }
    Ok(v.to_owned())
}

fn target(kind: &'static str, id: &str) -> Target {
    Target {
        kind,
        id: id.to_owned(),
    }
}

pub async fn add_panel(db: &DatabaseConnection, actor: &Actor, new: NewPanel) -> Result<Panel, CatalogError> {
    let id = new.id.trim().to_owned();
    if id.is_empty()
        || id.len() > 40
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(CatalogError::Invalid("id"));
    }
    let row = panel::ActiveModel {
        id: Set(id.clone()),
        manufacturer: Set(text("manufacturer", &new.manufacturer, 100)?),
        model: Set(text("model", &new.model, 100)?),
        watts: Set(check("watts", new.watts, 50, 1_000)?),
        efficiency_percent: Set(check("efficiency_percent", new.efficiency_percent, 5.0, 50.0)?),
        width_mm: Set(check("width_mm", new.width_mm, 300, 3_000)?),
        height_mm: Set(check("height_mm", new.height_mm, 300, 3_000)?),
        warranty_years: Set(check("warranty_years", new.warranty_years, 1, 50)?),
        active: Set(true),
    };
    let tx = crate::db::begin(db).await?;
    match panel::Entity::insert(row).exec_without_returning(&tx).await {
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(CatalogError::Exists);
        }
        other => {
            other?;
        }
    }
    audit::record(
        &tx,
        actor,
        Action::CatalogChanged,
        Some(target("panel", &id)),
        Details::new().with("change", "added"),
    )
    .await?;
    let stored = panel::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(CatalogError::NotFound)?;
    tx.commit().await?;
    Ok(stored.into())
}

/// Retires (or brings back) a panel: retired panels leave the catalog and new quotes.
pub async fn set_panel_active(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    active: bool,
) -> Result<(), CatalogError> {
    let tx = crate::db::begin(db).await?;
    let changed = panel::Entity::update_many()
        .col_expr(panel::Column::Active, Expr::value(active))
        .filter(panel::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    if changed.rows_affected == 0 {
        return Err(CatalogError::NotFound);
    }
    let details = Details::new().with("change", if active { "activated" } else { "retired" });
    audit::record(
        &tx,
        actor,
        Action::CatalogChanged,
        Some(target("panel", id)),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an admin may set on a region.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionPatch {
    pub specific_yield: Option<f64>,
    pub price_per_watt_cents: Option<i32>,
    pub deposit_percent: Option<i32>,
    pub retail_rate: Option<f64>,
    pub export_rate: Option<f64>,
    pub escalation_percent: Option<f64>,
    pub active: Option<bool>,
}

pub async fn update_region(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    patch: RegionPatch,
) -> Result<Region, CatalogError> {
    let tx = crate::db::begin(db).await?;
    let Some(current) = region::Entity::find_by_id(id.to_owned()).one(&tx).await? else {
        return Err(CatalogError::NotFound);
    };
    let mut row: region::ActiveModel = current.into();
    // The bounds keep a typo from producing absurd quotes.
    if let Some(v) = patch.specific_yield {
        row.specific_yield = Set(check("specific_yield", v, 300.0, 2_500.0)?);
    }
    if let Some(v) = patch.price_per_watt_cents {
        row.price_per_watt_cents = Set(check("price_per_watt_cents", v, 50, 1_000)?);
    }
    if let Some(v) = patch.deposit_percent {
        row.deposit_percent = Set(check("deposit_percent", v, 0, 50)?);
    }
    if let Some(v) = patch.retail_rate {
        row.retail_rate = Set(check("retail_rate", v, 0.01, 2.0)?);
    }
    if let Some(v) = patch.export_rate {
        row.export_rate = Set(check("export_rate", v, 0.0, 2.0)?);
    }
    if let Some(v) = patch.escalation_percent {
        row.escalation_percent = Set(check("escalation_percent", v, -5.0, 15.0)?);
    }
    if let Some(v) = patch.active {
        row.active = Set(v);
    }
    let updated = region::Entity::update(row).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        Action::CatalogChanged,
        Some(target("region", id)),
        Details::new().with("change", "updated"),
    )
    .await?;
    tx.commit().await?;
    Ok(updated.into())
}
