//! Public catalog routes.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::admin::{self, NewOption, NewPanel, NewRegion, OptionPatch, RegionPatch};
use super::{Panel, QuoteOption, Region};
use crate::access::{Caller, PUBLIC, Permission, Routes, perm};
use crate::http::ApiError;
use crate::http::json::ApiJson;
use crate::sizing::weather::{self, WeatherFile};
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/catalog/panels", PUBLIC, panels)
        .get("/api/v1/catalog/options", PUBLIC, options)
        .get("/api/v1/regions", PUBLIC, regions)
        .post("/api/v1/admin/panels", Permission::ManageCatalog, add_panel)
        .post("/api/v1/admin/regions", Permission::ManageCatalog, add_region)
        .post("/api/v1/admin/options", Permission::ManageCatalog, add_option)
        .patch(
            "/api/v1/admin/options/{id}",
            Permission::ManageCatalog,
            change_option,
        )
        .get("/api/v1/admin/weather", Permission::ManageCatalog, weather_files)
        .get("/api/v1/admin/holidays", Permission::ManageCatalog, holidays)
        .post("/api/v1/admin/holidays", Permission::ManageCatalog, add_holiday)
        .delete(
            "/api/v1/admin/holidays/{id}",
            Permission::ManageCatalog,
            remove_holiday,
        )
        .upload("/api/v1/admin/weather", Permission::ManageCatalog, upload_weather)
        .patch(
            "/api/v1/admin/panels/{id}",
            Permission::ManageCatalog,
            change_panel,
        )
        .patch(
            "/api/v1/admin/regions/{id}",
            Permission::ManageCatalog,
            change_region,
        )
}

/// Add a panel to the catalog.
#[utoipa::path(post, path = "/api/v1/admin/panels", tag = "admin", request_body = NewPanel, security(("bearer" = [])),
    responses((status = 201, body = Panel), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_panel(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    ApiJson(new): ApiJson<NewPanel>,
) -> Result<(StatusCode, axum::Json<Panel>), ApiError> {
    let actor = caller.actor();
    let panel = admin::add_panel(&state.db, &actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(panel)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PanelPatch {
    /// `false` retires the panel from the catalog and from new quotes.
    active: bool,
}

/// Retire a panel (or bring it back).
#[utoipa::path(patch, path = "/api/v1/admin/panels/{id}", tag = "admin", request_body = PanelPatch,
    security(("bearer" = [])),
    responses((status = 204, description = "Changed"), (status = 404, body = crate::http::error::Problem)))]
pub async fn change_panel(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PanelPatch>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    admin::set_panel_active(&state.db, &actor, &id, patch.active).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a region's prices, tariffs, yield, or take it out of service. Quotes already made keep
/// their figures.
#[utoipa::path(patch, path = "/api/v1/admin/regions/{id}", tag = "admin", request_body = RegionPatch,
    security(("bearer" = [])),
    responses((status = 200, body = Region), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn change_region(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<RegionPatch>,
) -> Result<axum::Json<Region>, ApiError> {
    let actor = caller.actor();
    let region = admin::update_region(&state.db, &actor, &id, patch).await?;
    Ok(axum::Json(region))
}

#[derive(Serialize, ToSchema)]
pub struct PanelList {
    items: Vec<Panel>,
}

/// The panels we install.
#[utoipa::path(get, path = "/api/v1/catalog/panels", tag = "catalog",
    responses((status = 200, body = PanelList)))]
pub async fn panels(State(state): State<AppState>) -> Result<axum::Json<PanelList>, ApiError> {
    let items = super::panels(&state.db).await.map_err(anyhow::Error::from)?;
    Ok(axum::Json(PanelList { items }))
}

#[derive(Serialize, ToSchema)]
pub struct RegionList {
    items: Vec<Region>,
}

/// The regions we serve, with the prices and tariffs quotes use there.
#[utoipa::path(get, path = "/api/v1/regions", tag = "catalog",
    responses((status = 200, body = RegionList)))]
pub async fn regions(State(state): State<AppState>) -> Result<axum::Json<RegionList>, ApiError> {
    let items = super::regions(&state.db).await.map_err(anyhow::Error::from)?;
    Ok(axum::Json(RegionList { items }))
}

/// Add a region (a utility area with its prices and tariffs).
#[utoipa::path(post, path = "/api/v1/admin/regions", tag = "admin", request_body = NewRegion, security(("bearer" = [])),
    responses((status = 201, body = Region), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_region(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    ApiJson(new): ApiJson<NewRegion>,
) -> Result<(StatusCode, axum::Json<Region>), ApiError> {
    let actor = caller.actor();
    let region = admin::add_region(&state.db, &actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(region)))
}

#[derive(Serialize, ToSchema)]
pub struct OptionList {
    items: Vec<QuoteOption>,
}

/// What a quote may add to the panels, at these prices.
#[utoipa::path(get, path = "/api/v1/catalog/options", tag = "catalog",
    responses((status = 200, body = OptionList)))]
pub async fn options(State(state): State<AppState>) -> Result<axum::Json<OptionList>, ApiError> {
    let items = super::options(&state.db, false)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(OptionList { items }))
}

/// Add an option quotes may include.
#[utoipa::path(post, path = "/api/v1/admin/options", tag = "admin", request_body = NewOption, security(("bearer" = [])),
    responses((status = 201, body = QuoteOption), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_option(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    ApiJson(new): ApiJson<NewOption>,
) -> Result<(StatusCode, axum::Json<QuoteOption>), ApiError> {
    let actor = caller.actor();
    let option = admin::add_option(&state.db, &actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(option)))
}

/// Change an option's price or retire it. Quotes already made keep the price they showed.
#[utoipa::path(patch, path = "/api/v1/admin/options/{id}", tag = "admin", request_body = OptionPatch,
    security(("bearer" = [])),
    responses((status = 200, body = QuoteOption), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn change_option(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<OptionPatch>,
) -> Result<axum::Json<QuoteOption>, ApiError> {
    let actor = caller.actor();
    let option = admin::update_option(&state.db, &actor, &id, patch).await?;
    Ok(axum::Json(option))
}

#[derive(Serialize, ToSchema)]
pub struct WeatherList {
    items: Vec<WeatherFile>,
}

/// The weather files regions can be simulated with: built in, then uploaded.
#[utoipa::path(get, path = "/api/v1/admin/weather", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = WeatherList)))]
pub async fn weather_files(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageCatalog>,
) -> Result<axum::Json<WeatherList>, ApiError> {
    let items = weather::list(&state.db).await.map_err(anyhow::Error::from)?;
    Ok(axum::Json(WeatherList { items }))
}

/// Upload a TMY3 file (`text/csv`, at most 8 MB) for regions without built-in weather. It is
/// stored under `tmy3-<station id>` once it parses in full; set a region's `weather_key` to use
/// it. A file that cannot be used gets 400 with the line and column to look at.
#[utoipa::path(post, path = "/api/v1/admin/weather", tag = "admin", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "a TMY3 file"),
    responses((status = 201, body = WeatherFile),
        (status = 400, description = "the file cannot be used, and why", body = crate::http::error::Problem),
        (status = 409, description = "this station's file exists already", body = crate::http::error::Problem),
        (status = 413, body = crate::http::error::Problem),
        (status = 415, body = crate::http::error::Problem)))]
pub async fn upload_weather(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<WeatherFile>), ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(
        media.as_str(),
        "text/csv" | "text/plain" | "application/octet-stream"
    ) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let actor = caller.actor();
    let file = admin::upload_weather(&state.db, &actor, body.to_vec()).await?;
    Ok((StatusCode::CREATED, axum::Json(file)))
}

#[derive(Serialize, ToSchema)]
pub struct HolidayList {
    items: Vec<super::holidays::Holiday>,
}

/// The holidays from today on, for every region (`region_id` empty) and for single regions:
/// days the calendar never offers.
#[utoipa::path(get, path = "/api/v1/admin/holidays", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = HolidayList)))]
pub async fn holidays(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageCatalog>,
) -> Result<axum::Json<HolidayList>, ApiError> {
    let items = super::holidays::upcoming(&state.db, chrono::Utc::now().date_naive())
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(HolidayList { items }))
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayRequest {
    pub day: chrono::NaiveDate,
    /// At most 80 characters.
    pub name: String,
    /// A region's id; left out, every region keeps the day.
    #[serde(default)]
    pub region_id: Option<String>,
}

/// Add a holiday: from today to five years ahead; a day a region keeps already is 409.
#[utoipa::path(post, path = "/api/v1/admin/holidays", tag = "admin", request_body = HolidayRequest,
    security(("bearer" = [])),
    responses((status = 201, body = super::holidays::Holiday), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_holiday(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    ApiJson(request): ApiJson<HolidayRequest>,
) -> Result<(StatusCode, axum::Json<super::holidays::Holiday>), ApiError> {
    let actor = caller.actor();
    let new = super::holidays::NewHoliday {
        region_id: request
            .region_id
            .unwrap_or_else(|| super::holidays::EVERY_REGION.to_owned()),
        day: request.day,
        name: request.name,
    };
    let holiday = super::holidays::add(&state.db, &actor, new).await?;
    Ok((StatusCode::CREATED, axum::Json(holiday)))
}

/// Remove a holiday: the calendar offers the day again where a crew works it.
#[utoipa::path(delete, path = "/api/v1/admin/holidays/{id}", tag = "admin", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::http::error::Problem)))]
pub async fn remove_holiday(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    crate::http::IdPath(id): crate::http::IdPath<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    super::holidays::remove(&state.db, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
