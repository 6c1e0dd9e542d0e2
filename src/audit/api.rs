//! The audit trail for admins and engineers (`audit.read`). Rows hold ids, actions and
//! static details, never personal data; the client address is shown to admins only, since
//! engineers see no personal data at all (S-AC-5).

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AuditEvent;
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::ApiError;
use crate::startup::AppState;

pub fn router() -> Routes {
    Routes::new().get("/api/v1/admin/audit", Permission::ReadAudit, list)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// At most 100 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only events of this action, e.g. `access.grant_opened`.
    action: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    items: Vec<AuditEvent>,
    next_cursor: Option<String>,
}

/// The audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 403, body = crate::http::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::ReadAudit>,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<AuditList>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let before = match q.cursor {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("invalid cursor".into()))?,
        ),
        None => None,
    };
    let (items, next_cursor) = super::page_for(&state.db, caller.role, before, q.action.as_deref(), limit)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(AuditList { items, next_cursor }))
}
