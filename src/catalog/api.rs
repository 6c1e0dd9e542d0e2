//! Public catalog routes.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;

use super::admin::{self, CatalogError, NewPanel, RegionPatch};
use super::{Panel, Region};
use crate::access::{Caller, PUBLIC, Permission, Routes, perm};
use crate::audit::Actor;
use crate::http::json::ApiJson;
use crate::http::{ApiError, FieldError, RequestContext};
use crate::startup::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/catalog/panels", PUBLIC, panels)
        .get("/api/v1/regions", PUBLIC, regions)
        .post("/api/v1/admin/panels", Permission::ManageCatalog, add_panel)
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

fn map_error(e: CatalogError) -> ApiError {
    match e {
        CatalogError::NotFound => ApiError::NotFound,
        CatalogError::Exists => ApiError::Conflict { code: "conflict" },
        CatalogError::Invalid(field) => ApiError::Validation(vec![FieldError {
            field: field.into(),
            code: "invalid",
        }]),
        CatalogError::Internal(e) => ApiError::Internal(e),
    }
}

/// Add a panel to the catalog.
#[utoipa::path(post, path = "/api/v1/admin/panels", tag = "admin", request_body = NewPanel, security(("bearer" = [])),
    responses((status = 201, body = Panel), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_panel(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCatalog>,
    ctx: RequestContext,
    ApiJson(new): ApiJson<NewPanel>,
) -> Result<(StatusCode, axum::Json<Panel>), ApiError> {
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let panel = admin::add_panel(&state.db, &actor, new)
        .await
        .map_err(map_error)?;
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
    ctx: RequestContext,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PanelPatch>,
) -> Result<StatusCode, ApiError> {
    let actor = Actor::user(&ctx, caller.user, caller.role);
    admin::set_panel_active(&state.db, &actor, &id, patch.active)
        .await
        .map_err(map_error)?;
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
    ctx: RequestContext,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<RegionPatch>,
) -> Result<axum::Json<Region>, ApiError> {
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let region = admin::update_region(&state.db, &actor, &id, patch)
        .await
        .map_err(map_error)?;
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
