//! The admin page of the catalog: panels, regions (prices, tariffs, yield, weather), quote
//! options, and the weather files regions are simulated with. The same services as the admin
//! API, so the rules and the audit rows are the same.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::admin::{self, CatalogError, NewOption, NewPanel, NewRegion, OptionPatch, RegionPatch};
use super::holidays::{self, Holiday, NewHoliday};
use super::{Panel, QuoteOption, Region};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::auth::browser::{CsrfProtected, PageCaller, file_after_csrf};
use crate::http::PageError;
use crate::http::origin::SameOrigin;
use crate::sizing::weather::{self, WeatherFile};
use crate::state::AppState;
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/catalog", Permission::ManageCatalog, page)
        .post("/admin/catalog/panels", Permission::ManageCatalog, add_panel)
        .post(
            "/admin/catalog/panels/{id}",
            Permission::ManageCatalog,
            change_panel,
        )
        .post("/admin/catalog/regions", Permission::ManageCatalog, add_region)
        .post(
            "/admin/catalog/regions/{id}",
            Permission::ManageCatalog,
            change_region,
        )
        .post("/admin/catalog/options", Permission::ManageCatalog, add_option)
        .post(
            "/admin/catalog/options/{id}",
            Permission::ManageCatalog,
            change_option,
        )
        .post("/admin/catalog/holidays", Permission::ManageCatalog, add_holiday)
        .post(
            "/admin/catalog/holidays/{id}/remove",
            Permission::ManageCatalog,
            remove_holiday,
        )
        .upload(
            "/admin/catalog/weather",
            Permission::ManageCatalog,
            upload_weather,
        )
}

#[derive(Template)]
#[template(path = "admin/catalog.html")]
struct CatalogAdminPage {
    nav: Nav,
    csrf: String,
    panels: Vec<Panel>,
    regions: Vec<Region>,
    options: Vec<QuoteOption>,
    weather: Vec<WeatherFile>,
    /// Holidays from today on.
    holidays: Vec<Holiday>,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl CatalogAdminPage {
    fn region_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.regions
            .iter()
            .find(|r| r.id == id)
            .map_or(id, |r| r.name.as_str())
    }
}

async fn render_page(
    state: &AppState,
    caller: &PageCaller,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let db = &state.db;
    let page = CatalogAdminPage {
        nav: Nav::for_caller("staff", Some(caller)),
        csrf: caller.csrf.clone(),
        panels: super::all_panels(db).await.map_err(anyhow::Error::from)?,
        regions: super::all_regions(db).await.map_err(anyhow::Error::from)?,
        options: super::options(db, true).await.map_err(anyhow::Error::from)?,
        weather: weather::list(db).await.map_err(anyhow::Error::from)?,
        holidays: holidays::upcoming(db, chrono::Utc::now().date_naive())
            .await
            .map_err(anyhow::Error::from)?,
        notice,
        error,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageCatalog>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("saved") => Some("Saved. New quotes use it; quotes already made keep their figures."),
        Some("holiday") => Some("Holiday saved. The calendar no longer offers that day."),
        Some("holiday_removed") => {
            Some("Holiday removed. The calendar offers that day again where a crew works it.")
        }
        Some("weather") => {
            Some("Weather file stored. Choose it for a region to simulate that region's roofs with it.")
        }
        _ => None,
    };
    render_page(&state, &caller, StatusCode::OK, notice, None).await
}

/// The outcome of a change: back to the page with a notice, or the page again with the reason.
async fn outcome<T>(
    state: &AppState,
    caller: &PageCaller,
    result: Result<T, CatalogError>,
    notice: &str,
) -> Result<Response, PageError> {
    let (status, message) = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/admin/catalog?notice={notice}")).into_response()),
        Err(CatalogError::Internal(e)) => return Err(PageError::Internal(e)),
        Err(CatalogError::NotFound) => return Err(PageError::NotFound),
        Err(CatalogError::Invalid(field)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Check the {}: it is missing or out of range.",
                field.replace('_', " ")
            ),
        ),
        Err(e @ (CatalogError::Weather(_) | CatalogError::WeatherNotText)) => {
            (StatusCode::BAD_REQUEST, sentence(&e.to_string()))
        }
        Err(e) => (StatusCode::CONFLICT, sentence(&e.to_string())),
    };
    render_page(state, caller, status, None, Some(message)).await
}

fn invalid(field: &'static str) -> CatalogError {
    CatalogError::Invalid(field)
}

fn parse<T: std::str::FromStr>(field: &'static str, raw: &str) -> Result<T, CatalogError> {
    raw.trim().replace(',', "").parse().map_err(|_| invalid(field))
}

/// Dollars as typed ("12,000" or "25.50") to cents.
fn cents(field: &'static str, raw: &str) -> Result<i64, CatalogError> {
    let dollars: f64 = parse(field, raw.trim().trim_start_matches('$'))?;
    if !dollars.is_finite() {
        return Err(invalid(field));
    }
    Ok((dollars * 100.0).round() as i64)
}

#[derive(Deserialize)]
struct PanelFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    manufacturer: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    watts: String,
    #[serde(default)]
    efficiency_percent: String,
    #[serde(default)]
    width_mm: String,
    #[serde(default)]
    height_mm: String,
    #[serde(default)]
    warranty_years: String,
}

impl CsrfProtected for PanelFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl PanelFields {
    fn parse(self) -> Result<NewPanel, CatalogError> {
        Ok(NewPanel {
            watts: parse("watts", &self.watts)?,
            efficiency_percent: parse("efficiency_percent", &self.efficiency_percent)?,
            width_mm: parse("width_mm", &self.width_mm)?,
            height_mm: parse("height_mm", &self.height_mm)?,
            warranty_years: parse("warranty_years", &self.warranty_years)?,
            id: self.id,
            manufacturer: self.manufacturer,
            model: self.model,
        })
    }
}

async fn add_panel(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, PanelFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = match fields.parse() {
        Ok(new) => admin::add_panel(&state.db, &actor, new).await,
        Err(e) => Err(e),
    };
    outcome(&state, &caller, result, "saved").await
}

#[derive(Deserialize)]
struct ActiveFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

impl CsrfProtected for ActiveFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn change_panel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, ActiveFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = admin::set_panel_active(&state.db, &actor, &id, fields.active == "true").await;
    outcome(&state, &caller, result, "saved").await
}

/// The region form's fields, as typed: the rates in dollars, the price in cents per watt.
#[derive(Deserialize)]
struct RegionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    utility: String,
    #[serde(default)]
    specific_yield: String,
    #[serde(default)]
    price_per_watt_cents: String,
    #[serde(default)]
    deposit_percent: String,
    #[serde(default)]
    retail_rate: String,
    #[serde(default)]
    export_rate: String,
    #[serde(default)]
    escalation_percent: String,
    #[serde(default)]
    weather_key: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    zip_codes: String,
    #[serde(default)]
    time_zone: String,
}

impl CsrfProtected for RegionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl RegionFields {
    fn patch(&self) -> Result<RegionPatch, CatalogError> {
        Ok(RegionPatch {
            specific_yield: Some(parse("specific_yield", &self.specific_yield)?),
            price_per_watt_cents: Some(parse("price_per_watt_cents", &self.price_per_watt_cents)?),
            deposit_percent: Some(parse("deposit_percent", &self.deposit_percent)?),
            retail_rate: Some(parse("retail_rate", &self.retail_rate)?),
            export_rate: Some(parse("export_rate", &self.export_rate)?),
            escalation_percent: Some(parse("escalation_percent", &self.escalation_percent)?),
            active: Some(self.active == "true"),
            weather_key: Some(self.weather_key.clone()),
            zip_codes: Some(self.zip_codes.clone()),
            // Left empty, the zone stays as it is (a new region: US Eastern).
            time_zone: Some(self.time_zone.trim().to_owned()).filter(|z| !z.is_empty()),
        })
    }
}

async fn add_region(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, RegionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = match fields.patch() {
        Ok(p) => {
            let new = NewRegion {
                id: fields.id,
                name: fields.name,
                utility: fields.utility,
                specific_yield: p.specific_yield.unwrap_or_default(),
                price_per_watt_cents: p.price_per_watt_cents.unwrap_or_default(),
                deposit_percent: p.deposit_percent.unwrap_or_default(),
                retail_rate: p.retail_rate.unwrap_or_default(),
                export_rate: p.export_rate.unwrap_or_default(),
                escalation_percent: p.escalation_percent.unwrap_or_default(),
                weather_key: p.weather_key,
                zip_codes: p.zip_codes.unwrap_or_default(),
                time_zone: p.time_zone,
            };
            admin::add_region(&state.db, &actor, new).await
        }
        Err(e) => Err(e),
    };
    outcome(&state, &caller, result, "saved").await
}

async fn change_region(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, RegionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = match fields.patch() {
        Ok(patch) => admin::update_region(&state.db, &actor, &id, patch).await,
        Err(e) => Err(e),
    };
    outcome(&state, &caller, result, "saved").await
}

#[derive(Deserialize)]
struct OptionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Dollars.
    #[serde(default)]
    price: String,
    #[serde(default)]
    per_panel: String,
    #[serde(default)]
    active: String,
}

impl CsrfProtected for OptionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_option(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, OptionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = match cents("price_cents", &fields.price) {
        Ok(price_cents) => {
            let new = NewOption {
                id: fields.id,
                name: fields.name,
                description: fields.description,
                price_cents,
                per_panel: fields.per_panel == "true",
            };
            admin::add_option(&state.db, &actor, new).await
        }
        Err(e) => Err(e),
    };
    outcome(&state, &caller, result, "saved").await
}

async fn change_option(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, OptionFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = match cents("price_cents", &fields.price) {
        Ok(price_cents) => {
            let patch = OptionPatch {
                price_cents: Some(price_cents),
                active: Some(fields.active == "true"),
            };
            admin::update_option(&state.db, &actor, &id, patch).await
        }
        Err(e) => Err(e),
    };
    outcome(&state, &caller, result, "saved").await
}

/// A file form: same-origin, the session's CSRF token as the first field, then the file.
async fn upload_weather(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    caller: PageUser<perm::ManageCatalog>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let file = file_after_csrf(&state, caller.session, multipart).await?;
    let Some(bytes) = file else {
        let message = Some("Choose a TMY3 file to upload.".to_owned());
        return render_page(&state, &caller, StatusCode::BAD_REQUEST, None, message).await;
    };
    let actor = caller.actor();
    let result = admin::upload_weather(&state.db, &actor, bytes).await;
    outcome(&state, &caller, result, "weather").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_dollars_become_cents() {
        assert_eq!(cents("p", "12,000").unwrap(), 1_200_000);
        assert_eq!(cents("p", "$25.50").unwrap(), 2_550);
        assert_eq!(cents("p", " 0 ").unwrap(), 0);
        assert!(cents("p", "twelve").is_err());
        assert!(cents("p", "NaN").is_err());
    }
}

#[derive(Deserialize)]
struct HolidayFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region_id: String,
}

impl CsrfProtected for HolidayFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_holiday(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageCatalog, HolidayFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = match chrono::NaiveDate::parse_from_str(fields.day.trim(), "%Y-%m-%d") {
        Ok(day) => {
            let new = NewHoliday {
                region_id: fields.region_id,
                day,
                name: fields.name,
            };
            holidays::add(&state.db, &actor, new).await
        }
        Err(_) => Err(invalid("day")),
    };
    outcome(&state, &caller, result, "holiday").await
}

async fn remove_holiday(
    State(state): State<AppState>,
    crate::http::IdPath(id): crate::http::IdPath<uuid::Uuid>,
    SignedInForm(caller, _form): SignedInForm<perm::ManageCatalog, crate::auth::browser::CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let result = holidays::remove(&state.db, &actor, id).await;
    outcome(&state, &caller, result, "holiday_removed").await
}
