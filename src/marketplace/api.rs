//! The crew's days in the JSON API, for the phone app: the same list as the "Today" page.

use axum::extract::State;

use super::StepRules;
use super::today::{self, CrewDays};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::ApiError;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new().get("/api/v1/installer/today", Permission::WorkJobs, today)
}

/// My crew's visits today and the next two days (each with the town, the address, the
/// customer's first name, `tel:` and `geo:` links, access notes, what to do and the photos the
/// step needs), later visits, and the jobs waiting for something other than a visit. What a
/// phone keeps for working without signal. An installer in no crew gets empty days.
#[utoipa::path(get, path = "/api/v1/installer/today", tag = "installer", security(("bearer" = [])),
    responses((status = 200, body = CrewDays)))]
pub async fn today(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
) -> Result<axum::Json<CrewDays>, ApiError> {
    let crew = crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?;
    let rules = StepRules::new(&state.settings);
    let days = match crew {
        Some(crew) => today::crew_days(&state.db, crew, &rules).await?,
        None => today::empty(&rules),
    };
    Ok(axum::Json(days))
}
