//! Admins manage the catalog: add panels, retire them, and set each region's prices, tariffs
//! and yield. Every change is audited; quotes already made keep the figures they were made
//! with (they store their inputs).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::store::{panel, quote_option, region};
use super::{Panel, QuoteOption, Region};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::sizing::tmy::{Tmy, TmyError};
use crate::sizing::weather::{self, WeatherFile};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("not found")]
    NotFound,
    #[error("a panel with this id exists")]
    Exists,
    #[error("that day is a holiday there already")]
    HolidayExists,
    #[error("{0} is out of range")]
    Invalid(&'static str),
    #[error("{0}")]
    Weather(#[from] TmyError),
    #[error("a weather file for this station exists already")]
    WeatherExists,
    #[error("the weather file is not text (UTF-8)")]
    WeatherNotText,
    #[error("the store of weather files is full ({} files)", weather::MAX_UPLOADED)]
    TooManyWeatherFiles,
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

/// The range of every number the catalog holds: bounds that keep a typo from producing absurd
/// quotes. The services check them; the admin page states them and checks every field at once.
pub const RANGES: [(&str, f64, f64); 12] = [
    ("watts", 50.0, 1_000.0),
    ("efficiency_percent", 5.0, 50.0),
    ("width_mm", 300.0, 3_000.0),
    ("height_mm", 300.0, 3_000.0),
    ("warranty_years", 1.0, 50.0),
    ("specific_yield", 300.0, 2_500.0),
    ("price_per_watt_cents", 50.0, 1_000.0),
    ("deposit_percent", 0.0, 50.0),
    ("retail_rate", 0.01, 2.0),
    ("export_rate", 0.0, 2.0),
    ("escalation_percent", -5.0, 15.0),
    // The most an option may cost, per panel or per system: $100,000.
    ("price_cents", 0.0, 10_000_000.0),
];

/// The range of a catalog number by its field name (`None` for a field without one).
pub fn range(field: &str) -> Option<(f64, f64)> {
    RANGES
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, low, high)| (*low, *high))
}

/// Whether `v` is within `field`'s range.
pub fn within(field: &'static str, v: f64) -> Result<(), CatalogError> {
    match range(field) {
        Some((low, high)) if v >= low && v <= high => Ok(()),
        _ => Err(CatalogError::Invalid(field)),
    }
}

fn check<T: Copy + Into<f64>>(field: &'static str, v: T) -> Result<T, CatalogError> {
    within(field, v.into()).map(|()| v)
}

/// Cents within `field`'s range (an `i64` has no lossless `f64`, but every amount in range is
/// far below 2^53, where the conversion is exact).
fn check_cents(field: &'static str, v: i64) -> Result<i64, CatalogError> {
    within(field, v as f64).map(|()| v)
}

pub(super) fn text(field: &'static str, v: &str, max: usize) -> Result<String, CatalogError> {
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

/// Catalog ids: lower-case letters, digits and dashes, at most 40.
pub(super) fn slug(raw: &str) -> Result<String, CatalogError> {
    let id = raw.trim();
    if id.is_empty()
        || id.len() > 40
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(CatalogError::Invalid("id"));
    }
    Ok(id.to_owned())
}

pub async fn add_panel(db: &DatabaseConnection, actor: &Actor, new: NewPanel) -> Result<Panel, CatalogError> {
    let id = slug(&new.id)?;
    let row = panel::ActiveModel {
        id: Set(id.clone()),
        manufacturer: Set(text("manufacturer", &new.manufacturer, 100)?),
        model: Set(text("model", &new.model, 100)?),
        watts: Set(check("watts", new.watts)?),
        efficiency_percent: Set(check("efficiency_percent", new.efficiency_percent)?),
        width_mm: Set(check("width_mm", new.width_mm)?),
        height_mm: Set(check("height_mm", new.height_mm)?),
        warranty_years: Set(check("warranty_years", new.warranty_years)?),
        active: Set(true),
    };
    let tx = crate::db::begin(db).await?;
    match panel::Entity::insert(row).exec_without_returning(&tx).await {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
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
    /// A weather file's key (built in or uploaded) to simulate this region's roofs with, or
    /// `""` to use the specific yield instead.
    pub weather_key: Option<String>,
    /// The ZIP codes it serves (see `Region::zip_codes`).
    pub zip_codes: Option<String>,
    /// An IANA time zone name (`America/Chicago`).
    pub time_zone: Option<String>,
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
        row.specific_yield = Set(check("specific_yield", v)?);
    }
    if let Some(v) = patch.price_per_watt_cents {
        row.price_per_watt_cents = Set(check("price_per_watt_cents", v)?);
    }
    if let Some(v) = patch.deposit_percent {
        row.deposit_percent = Set(check("deposit_percent", v)?);
    }
    if let Some(v) = patch.retail_rate {
        row.retail_rate = Set(check("retail_rate", v)?);
    }
    if let Some(v) = patch.export_rate {
        row.export_rate = Set(check("export_rate", v)?);
    }
    if let Some(v) = patch.escalation_percent {
        row.escalation_percent = Set(check("escalation_percent", v)?);
    }
    if let Some(v) = patch.active {
        row.active = Set(v);
    }
    if let Some(v) = patch.zip_codes {
        row.zip_codes = Set(zip_codes(&v)?);
    }
    if let Some(v) = patch.time_zone {
        row.time_zone = Set(time_zone(&v)?);
    }
    if let Some(key) = patch.weather_key {
        let key = key.trim();
        if key.is_empty() {
            row.tmy_key = Set(None);
        } else if weather::exists(&tx, key).await? {
            row.tmy_key = Set(Some(key.to_owned()));
        } else {
            return Err(CatalogError::Invalid("weather_key"));
        }
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

/// A new region: a utility area with its prices and tariffs.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegion {
    /// Lower-case letters, digits and dashes.
    pub id: String,
    pub name: String,
    pub utility: String,
    pub specific_yield: f64,
    pub price_per_watt_cents: i32,
    pub deposit_percent: i32,
    pub retail_rate: f64,
    pub export_rate: f64,
    pub escalation_percent: f64,
    /// A weather file's key; without one, quotes use the specific yield.
    pub weather_key: Option<String>,
    /// The ZIP codes it serves (see `Region::zip_codes`); none when left out.
    #[serde(default)]
    pub zip_codes: String,
    /// An IANA time zone name (`America/Chicago`); US Eastern when left out.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// A time zone as it is stored: a name the IANA database knows (`America/Chicago`).
fn time_zone(raw: &str) -> Result<String, CatalogError> {
    let raw = raw.trim();
    raw.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| CatalogError::Invalid("time_zone"))
}

/// A ZIP-code list as it is stored: checked, entries separated by `,`.
fn zip_codes(raw: &str) -> Result<String, CatalogError> {
    if raw.len() > 1000 || crate::geo::ZipSet::parse(raw).is_err() {
        return Err(CatalogError::Invalid("zip_codes"));
    }
    Ok(raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect::<Vec<_>>()
        .join(","))
}

pub async fn add_region(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewRegion,
) -> Result<Region, CatalogError> {
    let id = slug(&new.id)?;
    let tx = crate::db::begin(db).await?;
    let tmy_key = match new
        .weather_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        Some(key) if weather::exists(&tx, key).await? => Some(key.to_owned()),
        Some(_) => return Err(CatalogError::Invalid("weather_key")),
        None => None,
    };
    let row = region::ActiveModel {
        id: Set(id.clone()),
        name: Set(text("name", &new.name, 100)?),
        utility: Set(text("utility", &new.utility, 100)?),
        tmy_key: Set(tmy_key),
        specific_yield: Set(check("specific_yield", new.specific_yield)?),
        price_per_watt_cents: Set(check("price_per_watt_cents", new.price_per_watt_cents)?),
        deposit_percent: Set(check("deposit_percent", new.deposit_percent)?),
        retail_rate: Set(check("retail_rate", new.retail_rate)?),
        export_rate: Set(check("export_rate", new.export_rate)?),
        escalation_percent: Set(check("escalation_percent", new.escalation_percent)?),
        active: Set(true),
        zip_codes: Set(zip_codes(&new.zip_codes)?),
        time_zone: Set(time_zone(new.time_zone.as_deref().unwrap_or("America/New_York"))?),
    };
    match region::Entity::insert(row).exec_without_returning(&tx).await {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
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
        Some(target("region", &id)),
        Details::new().with("change", "added"),
    )
    .await?;
    let stored = region::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(CatalogError::NotFound)?;
    tx.commit().await?;
    Ok(stored.into())
}

/// Stores an uploaded TMY3 file under its station's key, after it parses in full (the same
/// checks as the built-in files: 8,760 hours in order, every value physically plausible).
pub async fn upload_weather(
    db: &DatabaseConnection,
    actor: &Actor,
    bytes: Vec<u8>,
) -> Result<WeatherFile, CatalogError> {
    let content = String::from_utf8(bytes).map_err(|_| CatalogError::WeatherNotText)?;
    // Parsing a year of hours takes tens of milliseconds: off the async workers.
    let (content, parsed) = tokio::task::spawn_blocking(move || {
        let parsed = Tmy::parse(content.as_bytes());
        (content, parsed)
    })
    .await
    .map_err(|e| anyhow::anyhow!("weather task failed: {e}"))?;
    let tmy = parsed?;
    let key = weather_key(&tmy.station.id)?;
    if weather::is_built_in(&key) {
        return Err(CatalogError::WeatherExists);
    }
    let tx = crate::db::begin(db).await?;
    let stored = weather::store::Entity::find().count(&tx).await?;
    if stored >= weather::MAX_UPLOADED {
        return Err(CatalogError::TooManyWeatherFiles);
    }
    let now = chrono::Utc::now();
    let row = weather::store::ActiveModel {
        key: Set(key.clone()),
        station_name: Set(text("station name", &tmy.station.name, 200)?),
        state: Set(tmy.station.state.chars().take(40).collect()),
        latitude: Set(tmy.station.latitude),
        longitude: Set(tmy.station.longitude),
        content: Set(content),
        uploaded_by: Set(actor.user_id.map(|u| u.0)),
        created_at: Set(now),
    };
    match weather::store::Entity::insert(row)
        .exec_without_returning(&tx)
        .await
    {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
            return Err(CatalogError::WeatherExists);
        }
        other => {
            other?;
        }
    }
    audit::record(
        &tx,
        actor,
        Action::CatalogChanged,
        Some(target("weather_file", &key)),
        Details::new().with("change", "added"),
    )
    .await?;
    tx.commit().await?;
    Ok(WeatherFile {
        key,
        station_name: tmy.station.name.clone(),
        state: tmy.station.state.clone(),
        latitude: tmy.station.latitude,
        longitude: tmy.station.longitude,
        built_in: false,
        uploaded_at: Some(now),
    })
}

/// The key an uploaded file is stored under: `tmy3-` and the station id of its first line.
fn weather_key(station_id: &str) -> Result<String, CatalogError> {
    let id = station_id.trim();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CatalogError::Invalid("station id"));
    }
    Ok(format!("tmy3-{id}"))
}

/// A new option for quotes.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOption {
    /// Lower-case letters, digits and dashes.
    pub id: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub per_panel: bool,
}

pub async fn add_option(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewOption,
) -> Result<QuoteOption, CatalogError> {
    let id = slug(&new.id)?;
    let row = quote_option::ActiveModel {
        id: Set(id.clone()),
        name: Set(text("name", &new.name, 100)?),
        description: Set(text("description", &new.description, 500)?),
        price_cents: Set(check_cents("price_cents", new.price_cents)?),
        per_panel: Set(new.per_panel),
        active: Set(true),
    };
    let tx = crate::db::begin(db).await?;
    match quote_option::Entity::insert(row)
        .exec_without_returning(&tx)
        .await
    {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
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
        Some(target("quote_option", &id)),
        Details::new().with("change", "added"),
    )
    .await?;
    let stored = quote_option::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(CatalogError::NotFound)?;
    tx.commit().await?;
    Ok(stored.into())
}

/// What an admin may change on an option. Quotes already made keep the price they showed.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionPatch {
    pub price_cents: Option<i64>,
    pub active: Option<bool>,
}

pub async fn update_option(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    patch: OptionPatch,
) -> Result<QuoteOption, CatalogError> {
    let tx = crate::db::begin(db).await?;
    let Some(current) = quote_option::Entity::find_by_id(id.to_owned()).one(&tx).await? else {
        return Err(CatalogError::NotFound);
    };
    let mut row: quote_option::ActiveModel = current.into();
    if let Some(v) = patch.price_cents {
        row.price_cents = Set(check_cents("price_cents", v)?);
    }
    if let Some(v) = patch.active {
        row.active = Set(v);
    }
    let updated = quote_option::Entity::update(row).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        Action::CatalogChanged,
        Some(target("quote_option", id)),
        Details::new().with("change", "updated"),
    )
    .await?;
    tx.commit().await?;
    Ok(updated.into())
}
