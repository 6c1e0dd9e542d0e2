//! The customer's side of S-AC-6: who on the staff opened my personal data, when and why.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::grants::{self, DataAccess};
use super::{Caller, Permission, Routes, perm};
use crate::http::ApiError;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new().get("/api/v1/me/data-access", Permission::OwnDataAccess, data_access)
}

#[derive(Serialize, ToSchema)]
pub struct DataAccessList {
    items: Vec<DataAccess>,
}

/// Every staff access to my personal data, newest first: who, their role, when, the reason
/// they gave, and how often they looked.
#[utoipa::path(get, path = "/api/v1/me/data-access", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = DataAccessList), (status = 401, body = crate::http::error::Problem)))]
pub async fn data_access(
    State(state): State<AppState>,
    caller: Caller<perm::OwnDataAccess>,
) -> Result<axum::Json<DataAccessList>, ApiError> {
    let items = grants::for_customer(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(DataAccessList { items }))
}
