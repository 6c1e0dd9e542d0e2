//! The audit trail for admins and engineers (`audit.read`). Rows hold ids, actions and
//! static details, never personal data; the client address is shown to admins only, since
//! engineers see no personal data at all (S-AC-5).

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AuditEvent;
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::ApiError;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/admin/audit", Permission::ReadAudit, list)
        .get("/api/v1/admin/audit/verify", Permission::ReadAudit, verify)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// At most 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Only events of this action, e.g. `access.grant_opened`.
    action: Option<String>,
    /// Only events by this account.
    actor_id: Option<String>,
    /// Only events about this kind of object (`user`, `job`, `order`, …)…
    target_kind: Option<String>,
    /// …and this one.
    target_id: Option<String>,
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
    let limit = crate::http::page_limit(q.limit, 50)?;
    let before = match q.cursor {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest("invalid cursor".into()))?,
        ),
        None => None,
    };
    let actor_id = match q.actor_id.as_deref() {
        Some(raw) => Some(
            raw.parse::<uuid::Uuid>()
                .map_err(|_| ApiError::BadRequest("invalid actor_id".into()))?,
        ),
        None => None,
    };
    let filter = super::Filter {
        before,
        action: q.action,
        actor_id,
        target_kind: q.target_kind,
        target_id: q.target_id,
    };
    let (items, next_cursor) = super::page_for(&state.db, caller.role, &filter, limit)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(AuditList { items, next_cursor }))
}

/// Walks the whole hash chain and its signed checkpoints (S-IT-1) and reports the first row
/// edited, deleted or inserted out of band, or a cut-off tail.
#[utoipa::path(get, path = "/api/v1/admin/audit/verify", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = super::chain::Report), (status = 403, body = crate::http::error::Problem)))]
pub async fn verify(
    State(state): State<AppState>,
    _caller: Caller<perm::ReadAudit>,
) -> Result<axum::Json<super::chain::Report>, ApiError> {
    let key = state.settings.audit_checkpoint_key_or_derived(&state.secret_key);
    let report = super::chain::verify(&state.db, &key, None)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(report))
}
