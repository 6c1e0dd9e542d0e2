//! Making a quote from a site, its latest usage, its region and a catalog panel; reading the
//! caller's own quotes. A quote is written once and never changed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calc;
use super::model::{ChosenOption, Figures, Hourly, Inputs};
use super::store::quote;
use crate::access::{Permission, object};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::catalog::{self, Panel, Region};
use crate::ids::{QuoteId, SiteId, UserId};
use crate::sites::service::{self as sites, SiteError};
use crate::sizing::pvwatts_api::PvWattsApi;
use crate::sizing::{pvwatts, weather};
use crate::values::{Kwh, Money};

/// Share of production used in the home as produced, without hourly data to match it. Studies
/// of US homes without batteries find 20–40 %; the low middle keeps savings from looking better
/// than they will be where exports pay less than retail.
pub const SELF_CONSUMPTION_SHARE: f64 = 0.30;
pub const DEGRADATION_PERCENT: f64 = 0.5;
pub const TAX_CREDIT_PERCENT: f64 = 0.0;
pub const YEARS: u32 = 25;

#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    #[error("not found")]
    NotFound,
    #[error("import or type the site's usage first")]
    UsageRequired,
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Calc(#[from] calc::CalcError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for QuoteError {
    fn from(e: DbErr) -> Self {
        QuoteError::Internal(e.into())
    }
}

impl From<SiteError> for QuoteError {
    fn from(e: SiteError) -> Self {
        match e {
            SiteError::NotFound => QuoteError::NotFound,
            other => QuoteError::Internal(other.into()),
        }
    }
}

/// What a customer may choose (S-AC-4: not the price, the rates or the size).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    #[schema(value_type = String)]
    pub site_id: SiteId,
    /// Share of yearly usage to cover, 10–150 % (default 100).
    pub offset_percent: Option<f64>,
    /// A panel of the catalog (default: the first one).
    pub panel_id: Option<String>,
    /// Options of the catalog to add (`GET /catalog/options`), each at most once.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The most options one quote may carry (the catalog holds a handful).
const MAX_OPTIONS: usize = 20;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Quote {
    #[schema(value_type = String)]
    pub id: QuoteId,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub figures: Figures,
}

impl Quote {
    /// Until when the quote's price holds: `days` after it was made.
    pub fn valid_until(&self, days: u32) -> DateTime<Utc> {
        self.created_at + chrono::TimeDelta::days(days.into())
    }
}

impl TryFrom<quote::Model> for Quote {
    type Error = anyhow::Error;
    fn try_from(m: quote::Model) -> anyhow::Result<Self> {
        Ok(Self {
            id: QuoteId(m.id),
            site_id: SiteId(m.site_id),
            version: m.version,
            created_at: m.created_at,
            figures: serde_json::from_str(&m.figures)?,
        })
    }
}

/// What one installed kW produces on this roof.
struct PerKw {
    monthly: [f64; 12],
    /// Hour by hour over the typical year, when the region has weather to simulate.
    hourly: Option<Vec<f64>>,
    source: String,
}

/// AC kWh one kW produces on this roof, by month (and by hour with a weather file), and where
/// the figure comes from. A region whose weather file is missing falls back to its yield.
async fn production_per_kw(
    db: &DatabaseConnection,
    api: Option<&PvWattsApi>,
    region: &Region,
    site: &sites::Site,
) -> anyhow::Result<PerKw> {
    let (tilt, azimuth) = (site.roof_tilt_deg, site.roof_azimuth_deg);
    let tmy = match region.tmy_key.as_deref() {
        Some(key) => weather::load(db, key).await?,
        None => None,
    };
    if let Some(tmy) = tmy {
        let spec = pvwatts::SystemSpec::new(1.0, tilt, azimuth)?;
        // A year of hours is a few milliseconds of arithmetic: off the async workers.
        let production = tokio::task::spawn_blocking(move || {
            let production = pvwatts::simulate(&tmy, &spec);
            (production, tmy.station.name.clone())
        })
        .await
        .map_err(|e| anyhow::anyhow!("production task failed: {e}"))?;
        let (production, station) = production;
        return Ok(PerKw {
            monthly: production.monthly_kwh,
            source: format!(
                "PVWatts v5 hour by hour with the typical-year weather of {station}, roof {tilt:.0}° facing {azimuth:.0}°"
            ),
            hourly: Some(production.hourly_ac_kwh),
        });
    }
    // No weather file: NREL's PVWatts API for the home's coordinates, when configured.
    let mut api_note = "";
    if let Some(api) = api {
        match api.per_kw(site.latitude, site.longitude, tilt, azimuth).await {
            Ok(per_kw) => {
                return Ok(PerKw {
                    monthly: per_kw.monthly_kwh,
                    hourly: per_kw.hourly_kwh,
                    source: format!(
                        "NREL's PVWatts API (v8) for this home's coordinates, roof {tilt:.0}° facing {azimuth:.0}°"
                    ),
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "PVWatts API unavailable; the region's yield is used");
                api_note = "; NREL's PVWatts API did not answer";
            }
        }
    }
    // The region's yield, spread over the months by their length.
    Ok(PerKw {
        monthly: crate::sites::usage::by_days(region.specific_yield),
        hourly: None,
        source: format!(
            "the region's figure of {:.0} kWh per kW a year (no hourly weather file{api_note}), spread by month length",
            region.specific_yield
        ),
    })
}

fn quote_target(id: QuoteId) -> Target {
    Target {
        kind: "quote",
        id: id.to_string(),
    }
}

/// The catalog options `ids` names, as priced now; an unknown, retired or repeated id is
/// refused.
async fn chosen_options(db: &DatabaseConnection, ids: &[String]) -> Result<Vec<ChosenOption>, QuoteError> {
    if ids.len() > MAX_OPTIONS {
        return Err(QuoteError::Invalid("options"));
    }
    let on_offer = catalog::options(db, false).await?;
    let mut chosen: Vec<ChosenOption> = Vec::with_capacity(ids.len());
    for id in ids {
        if chosen.iter().any(|c| &c.id == id) {
            return Err(QuoteError::Invalid("options"));
        }
        let option = on_offer
            .iter()
            .find(|o| &o.id == id)
            .ok_or(QuoteError::Invalid("options"))?;
        chosen.push(ChosenOption {
            id: option.id.clone(),
            name: option.name.clone(),
            price_cents: Money::from_cents(option.price_cents),
            per_panel: option.per_panel,
        });
    }
    Ok(chosen)
}

/// Computes what a quote for `request` would say, without storing it: the inputs it is made
/// from and the figures shown.
pub async fn compute(
    db: &DatabaseConnection,
    api: Option<&PvWattsApi>,
    actor: &Actor,
    owner: UserId,
    request: &QuoteRequest,
) -> Result<(Inputs, Figures), QuoteError> {
    let offset = request.offset_percent.unwrap_or(100.0);
    if !(offset.is_finite() && (10.0..=150.0).contains(&offset)) {
        return Err(QuoteError::Invalid("offset_percent"));
    }
    let site = sites::own(db, actor, owner, request.site_id).await?;
    let usage = sites::current_usage(db, actor, owner, request.site_id)
        .await?
        .ok_or(QuoteError::UsageRequired)?;
    let region = catalog::region(db, &site.region_id)
        .await?
        .ok_or(QuoteError::Invalid("region_id"))?;
    let panels = catalog::panels(db).await?;
    let panel: Panel = match request.panel_id.as_deref() {
        Some(id) => panels
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(QuoteError::Invalid("panel_id"))?,
        None => panels.into_iter().next().ok_or(QuoteError::Invalid("panel_id"))?,
    };
    let options = chosen_options(db, &request.options).await?;
    let per_kw = production_per_kw(db, api, &region, &site).await?;
    let hourly_usage = match &per_kw.hourly {
        Some(_) => sites::hourly_usage(db, site.id).await?,
        None => None,
    };
    let monthly: [f64; 12] = usage
        .monthly_kwh
        .clone()
        .try_into()
        .map_err(|_| anyhow::anyhow!("stored usage has no twelve months"))?;
    let inputs = Inputs {
        annual_usage_kwh: Kwh(usage.annual_kwh),
        monthly_usage_kwh: monthly,
        production_per_kw_monthly: per_kw.monthly,
        production_source: per_kw.source.clone(),
        self_consumption_share: SELF_CONSUMPTION_SHARE,
        offset_percent: offset,
        panel_name: format!("{} {}", panel.manufacturer, panel.model),
        panel_watts: u32::try_from(panel.watts).unwrap_or(0),
        max_panels: u32::try_from(site.max_panels).unwrap_or(0),
        roof_estimated: site.max_panels_estimated,
        price_per_watt_cents: Money::from_cents(i64::from(region.price_per_watt_cents)),
        deposit_percent: u32::try_from(region.deposit_percent).unwrap_or(0),
        retail_rate: region.retail_rate,
        export_rate: region.export_rate,
        escalation_percent: region.escalation_percent,
        degradation_percent: DEGRADATION_PERCENT,
        tax_credit_percent: TAX_CREDIT_PERCENT,
        years: YEARS,
        hourly_matching: hourly_usage.is_some() && per_kw.hourly.is_some(),
        options,
    };
    let hourly = match (&hourly_usage, &per_kw.hourly) {
        (Some(usage), Some(production)) => Some(Hourly {
            usage_kwh: usage,
            production_per_kw: production,
        }),
        _ => None,
    };
    let figures = calc::compute(&inputs, hourly)?;
    Ok((inputs, figures))
}

/// Makes and stores the next version of the site's quote.
pub async fn create(
    db: &DatabaseConnection,
    api: Option<&PvWattsApi>,
    actor: &Actor,
    owner: UserId,
    request: QuoteRequest,
) -> Result<Quote, QuoteError> {
    let (inputs, figures) = compute(db, api, actor, owner, &request).await?;
    let site_id = request.site_id;
    let inputs_json = serde_json::to_string(&inputs).map_err(anyhow::Error::from)?;
    let figures_json = serde_json::to_string(&figures).map_err(anyhow::Error::from)?;
    // The next version number. Creators for the same site queue on the site's row, so each
    // reads the version the one before committed; the unique index stays the last word, and a
    // clash (a database without row locks) takes the one after.
    for _ in 0..3 {
        let tx = crate::db::begin(db).await?;
        crate::sites::store::site::Entity::find_by_id(site_id.0)
            .lock_exclusive()
            .one(&tx)
            .await?;
        let latest = quote::Entity::find()
            .filter(quote::Column::SiteId.eq(site_id.0))
            .order_by_desc(quote::Column::Version)
            .one(&tx)
            .await?
            .map(|q| q.version)
            .unwrap_or(0);
        let id = QuoteId::new();
        let row = quote::ActiveModel {
            id: Set(id.0),
            site_id: Set(site_id.0),
            owner_id: Set(owner.0),
            version: Set(latest + 1),
            inputs: Set(inputs_json.clone()),
            figures: Set(figures_json.clone()),
            created_at: Set(Utc::now()),
        };
        match quote::Entity::insert(row).exec_without_returning(&tx).await {
            Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => continue,
            other => {
                other?;
            }
        }
        let details = Details::new().with("version", i64::from(latest + 1));
        audit::record(&tx, actor, Action::QuoteCreated, Some(quote_target(id)), details).await?;
        let stored = quote::Entity::find_by_id(id.0)
            .one(&tx)
            .await?
            .ok_or(QuoteError::NotFound)?;
        tx.commit().await?;
        return Ok(Quote::try_from(stored)?);
    }
    Err(QuoteError::Internal(anyhow::anyhow!(
        "could not take the next quote version"
    )))
}

/// The quotes of `owner`, newest first: at most `limit`, older than the quote `before` when
/// given (ids are UUID v7, so id order is creation order).
pub async fn list_own(
    db: &DatabaseConnection,
    owner: UserId,
    before: Option<QuoteId>,
    limit: u64,
) -> Result<Vec<Quote>, QuoteError> {
    let mut query = quote::Entity::find().filter(quote::Column::OwnerId.eq(owner.0));
    if let Some(before) = before {
        query = query.filter(quote::Column::Id.lt(before.0));
    }
    newest(db, query, limit).await
}

/// The newest `limit` quotes of one of `owner`'s homes.
pub async fn of_site(
    db: &DatabaseConnection,
    owner: UserId,
    site: SiteId,
    limit: u64,
) -> Result<Vec<Quote>, QuoteError> {
    let query = quote::Entity::find()
        .filter(quote::Column::OwnerId.eq(owner.0))
        .filter(quote::Column::SiteId.eq(site.0));
    newest(db, query, limit).await
}

/// Production to draw beside a home's usage, month by month, and where it comes from.
pub struct ProductionEstimate {
    pub monthly: Vec<Kwh>,
    /// One sentence for the reader: which system the figures are for.
    pub source: String,
}

/// What a home would produce: the newest quote's system when there is one, or else what a
/// quote with the defaults would propose (computed, not stored). `None` when there is no
/// usage yet, or no estimate can be made (the reason is logged, the page shows usage alone).
pub async fn production_estimate(
    db: &DatabaseConnection,
    api: Option<&PvWattsApi>,
    actor: &Actor,
    owner: UserId,
    site: SiteId,
    newest_quote: Option<&Quote>,
) -> Option<ProductionEstimate> {
    if let Some(q) = newest_quote {
        return Some(ProductionEstimate {
            monthly: q.figures.production_monthly_kwh.clone(),
            source: format!(
                "Production: the {} system of quote version {}.",
                q.figures.system_kw, q.version
            ),
        });
    }
    let request = QuoteRequest {
        site_id: site,
        offset_percent: None,
        panel_id: None,
        options: Vec::new(),
    };
    match compute(db, api, actor, owner, &request).await {
        Ok((_, figures)) => Some(ProductionEstimate {
            monthly: figures.production_monthly_kwh,
            source: format!(
                "Production: an estimate for a {} system covering your yearly usage; get a quote for the full figures.",
                figures.system_kw
            ),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "no production estimate for the site page");
            None
        }
    }
}

/// The newest `limit` quotes `query` selects.
async fn newest(
    db: &DatabaseConnection,
    query: sea_orm::Select<quote::Entity>,
    limit: u64,
) -> Result<Vec<Quote>, QuoteError> {
    query
        .order_by_desc(quote::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|q| Quote::try_from(q).map_err(QuoteError::Internal))
        .collect()
}

/// A customer's quotes for staff who read quotes (support, sales, admins). Quotes hold figures
/// and ids, no personal data, so no grant is needed; a non-customer id is 404 and audited.
pub async fn of_customer(
    db: &DatabaseConnection,
    actor: &Actor,
    customer: UserId,
    before: Option<QuoteId>,
    limit: u64,
) -> Result<Vec<Quote>, QuoteError> {
    if !crate::access::grants::customer_exists(db, customer).await? {
        object::refused(db, actor, Target::user(customer), Permission::ReadQuotes).await;
        return Err(QuoteError::NotFound);
    }
    list_own(db, customer, before, limit).await
}

/// The quote `id` if `owner` owns it; otherwise 404 and an audited refusal.
pub async fn own(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    id: QuoteId,
) -> Result<Quote, QuoteError> {
    match quote::Entity::find_by_id(id.0).one(db).await? {
        Some(q) if q.owner_id == owner.0 => Ok(Quote::try_from(q)?),
        _ => {
            object::refused(db, actor, quote_target(id), Permission::OwnSites).await;
            Err(QuoteError::NotFound)
        }
    }
}
