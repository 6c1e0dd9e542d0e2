//! The public catalog: panels we install and the regions (utility areas) we price and
//! simulate for. Admins manage both; anyone may read them.

pub mod admin;
pub mod admin_pages;
pub mod api;
mod error;
pub mod holidays;
pub mod pages;
pub(crate) mod store;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Routes;
use crate::geo::{ZipCode, ZipSet};
use store::{panel, quote_option, region};

/// The public catalog and its administration, in the API and the browser.
pub fn router() -> Routes {
    api::router().merge(pages::router()).merge(admin_pages::router())
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Panel {
    pub id: String,
    pub manufacturer: String,
    pub model: String,
    pub watts: i32,
    pub efficiency_percent: f64,
    pub width_mm: i32,
    pub height_mm: i32,
    pub warranty_years: i32,
    /// Retired panels leave the catalog and new quotes (only admins see them).
    pub active: bool,
}

impl From<panel::Model> for Panel {
    fn from(p: panel::Model) -> Self {
        Self {
            id: p.id,
            manufacturer: p.manufacturer,
            model: p.model,
            watts: p.watts,
            efficiency_percent: p.efficiency_percent,
            width_mm: p.width_mm,
            height_mm: p.height_mm,
            warranty_years: p.warranty_years,
            active: p.active,
        }
    }
}

/// A utility area with the prices, tariffs and weather a quote uses there.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub utility: String,
    /// Hourly typical-year weather is simulated when present; otherwise the specific yield.
    pub has_weather_file: bool,
    /// kWh per kWp per year, used without a weather file.
    pub specific_yield: f64,
    pub price_per_watt_cents: i32,
    pub deposit_percent: i32,
    /// $/kWh bought from the utility.
    pub retail_rate: f64,
    /// $/kWh paid for energy sent to the grid (equal to the retail rate under 1:1 net metering).
    pub export_rate: f64,
    pub escalation_percent: f64,
    /// Regions out of service take no new homes or quotes (only admins see them).
    pub active: bool,
    /// The weather file simulated for this region, if any.
    #[serde(rename = "weather_key")]
    pub tmy_key: Option<String>,
    /// The ZIP codes the region serves, comma-separated: three-digit prefixes (`274`), ranges
    /// of prefixes (`270-277`) and whole ZIP codes (`99685`). A home is placed in the region
    /// whose list holds its ZIP code.
    pub zip_codes: String,
    /// The region's time zone, an IANA name (`America/Phoenix`): a home's times are shown in it.
    pub time_zone: String,
}

impl Region {
    /// The time zone as a zone (US Eastern if the stored name were ever unknown).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::America::New_York)
    }
}

impl From<region::Model> for Region {
    fn from(r: region::Model) -> Self {
        Self {
            id: r.id,
            name: r.name,
            utility: r.utility,
            has_weather_file: r.tmy_key.is_some(),
            specific_yield: r.specific_yield,
            price_per_watt_cents: r.price_per_watt_cents,
            deposit_percent: r.deposit_percent,
            retail_rate: r.retail_rate,
            export_rate: r.export_rate,
            escalation_percent: r.escalation_percent,
            active: r.active,
            tmy_key: r.tmy_key,
            zip_codes: r.zip_codes,
            time_zone: r.time_zone,
        }
    }
}

/// Something a quote may add to the panels, at a catalog price.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuoteOption {
    pub id: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    /// The price is per panel (e.g. a critter guard) rather than once per system.
    pub per_panel: bool,
    /// Retired options leave the catalog; quotes made with them keep their price.
    pub active: bool,
}

impl From<quote_option::Model> for QuoteOption {
    fn from(o: quote_option::Model) -> Self {
        Self {
            id: o.id,
            name: o.name,
            description: o.description,
            price_cents: o.price_cents,
            per_panel: o.per_panel,
            active: o.active,
        }
    }
}

/// The options on offer (`all` includes retired ones, for admins).
pub async fn options<C: crate::db::Conn>(conn: &C, all: bool) -> Result<Vec<QuoteOption>, DbErr> {
    let mut query = quote_option::Entity::find();
    if !all {
        query = query.filter(quote_option::Column::Active.eq(true));
    }
    Ok(query
        .order_by_asc(quote_option::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(QuoteOption::from)
        .collect())
}

pub async fn panels<C: crate::db::Conn>(conn: &C) -> Result<Vec<Panel>, DbErr> {
    Ok(panel::Entity::find()
        .filter(panel::Column::Active.eq(true))
        .order_by_asc(panel::Column::Watts)
        .all(conn)
        .await?
        .into_iter()
        .map(Panel::from)
        .collect())
}

pub async fn regions<C: crate::db::Conn>(conn: &C) -> Result<Vec<Region>, DbErr> {
    Ok(region::Entity::find()
        .filter(region::Column::Active.eq(true))
        .order_by_asc(region::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(Region::from)
        .collect())
}

/// Every panel, retired ones too (for admins).
pub async fn all_panels<C: crate::db::Conn>(conn: &C) -> Result<Vec<Panel>, DbErr> {
    Ok(panel::Entity::find()
        .order_by_desc(panel::Column::Active)
        .order_by_asc(panel::Column::Watts)
        .all(conn)
        .await?
        .into_iter()
        .map(Panel::from)
        .collect())
}

/// Every region, those out of service too (for admins).
pub async fn all_regions<C: crate::db::Conn>(conn: &C) -> Result<Vec<Region>, DbErr> {
    Ok(region::Entity::find()
        .order_by_asc(region::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(Region::from)
        .collect())
}

/// The active region that serves `zip`, if any (the first by id when two lists overlap, so the
/// answer does not depend on the database's order).
pub async fn region_for_zip<C: crate::db::Conn>(conn: &C, zip: ZipCode) -> Result<Option<Region>, DbErr> {
    Ok(region::Entity::find()
        .filter(region::Column::Active.eq(true))
        .order_by_asc(region::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .find(|r| ZipSet::parse(&r.zip_codes).is_ok_and(|set| set.contains(zip)))
        .map(Region::from))
}

/// The time zone of region `id`, in service or not (US Eastern when the region is unknown).
pub async fn time_zone_of<C: crate::db::Conn>(conn: &C, id: &str) -> Result<chrono_tz::Tz, DbErr> {
    Ok(region::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .map(Region::from)
        .map_or(chrono_tz::America::New_York, |r| r.zone()))
}

pub async fn region<C: crate::db::Conn>(conn: &C, id: &str) -> Result<Option<Region>, DbErr> {
    Ok(region::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .filter(|r| r.active)
        .map(Region::from))
}
