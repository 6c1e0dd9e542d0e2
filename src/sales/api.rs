//! The sales pipeline in the JSON API.

use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::service::{self, Pipeline};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::ApiError;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new().get("/api/v1/staff/pipeline", Permission::ReadPipeline, pipeline)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PipelineQuery {
    /// At most 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Leads by stage, the weekly counts for the last 12 weeks, and the newest leads (names and
/// stages only: no address, phone, email or payment data).
#[utoipa::path(get, path = "/api/v1/staff/pipeline", tag = "staff", params(PipelineQuery), security(("bearer" = [])),
    responses((status = 200, body = Pipeline), (status = 403, body = crate::http::error::Problem)))]
pub async fn pipeline(
    State(state): State<AppState>,
    _caller: Caller<perm::ReadPipeline>,
    Query(q): Query<PipelineQuery>,
) -> Result<axum::Json<Pipeline>, ApiError> {
    let limit = crate::http::page_limit(q.limit, 50)?;
    let before = match q.cursor {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::BadRequest("invalid cursor".into()))?,
        ),
        None => None,
    };
    let pipeline = service::pipeline(&state.db, before, limit)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(pipeline))
}
