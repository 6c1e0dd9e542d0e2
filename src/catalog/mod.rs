//! The public catalog: panels we install and the regions (utility areas) we price and
//! simulate for. Admins manage both; anyone may read them.

pub mod admin;
pub mod api;
pub mod pages;
pub(crate) mod store;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use store::{panel, region};

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
    #[serde(skip)]
    pub tmy_key: Option<String>,
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
            tmy_key: r.tmy_key,
        }
    }
}

pub async fn panels<C: ConnectionTrait>(conn: &C) -> Result<Vec<Panel>, DbErr> {
    Ok(panel::Entity::find()
        .filter(panel::Column::Active.eq(true))
        .order_by_asc(panel::Column::Watts)
        .all(conn)
        .await?
        .into_iter()
        .map(Panel::from)
        .collect())
}

pub async fn regions<C: ConnectionTrait>(conn: &C) -> Result<Vec<Region>, DbErr> {
    Ok(region::Entity::find()
        .filter(region::Column::Active.eq(true))
        .order_by_asc(region::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(Region::from)
        .collect())
}

pub async fn region<C: ConnectionTrait>(conn: &C, id: &str) -> Result<Option<Region>, DbErr> {
    Ok(region::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .filter(|r| r.active)
        .map(Region::from))
}
