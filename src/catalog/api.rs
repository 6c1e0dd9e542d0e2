//! Public catalog routes.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Panel, Region};
use crate::access::{PUBLIC, Routes};
use crate::http::ApiError;
use crate::startup::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/catalog/panels", PUBLIC, panels)
        .get("/api/v1/regions", PUBLIC, regions)
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
