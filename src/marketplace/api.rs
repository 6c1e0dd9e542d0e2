//! The crew's days in the JSON API, for the phone app: the same list as the "Today" page.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::sse::Sse;
use serde::Serialize;
use utoipa::ToSchema;

use super::StepRules;
use super::live::{Change, Until};
use super::today::{self, CrewDays};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::ApiError;
use crate::ids::CrewId;
use crate::scheduling::dispatch::{self, OfferView};
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/installer/today", Permission::WorkJobs, today)
        .get(
            "/api/v1/installer/offers/stream",
            Permission::WorkJobs,
            offers_stream,
        )
}

/// The open offers of my crew, as `GET /api/v1/installer/offers` answers them.
#[derive(Serialize, ToSchema)]
pub struct OfferList {
    items: Vec<OfferView>,
}

/// The crew's offers as server-sent events: an `offers` event with the list at once and
/// whenever it changes; an `end` event when the stream closes.
pub fn offer_stream(
    state: &AppState,
    crew: Option<CrewId>,
    until: Until,
) -> Sse<impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>> + use<>>
{
    let db = state.db.clone();
    super::live::stream(
        state.db.clone(),
        &state.live,
        until,
        "offers",
        // An installer in no crew listens to nothing (a nil crew that is never told).
        Change::Offers(crew.unwrap_or(CrewId(uuid::Uuid::nil()))),
        move || {
            let db = db.clone();
            async move {
                let items = match crew {
                    Some(crew) => dispatch::open_for(&db, crew).await?,
                    None => Vec::new(),
                };
                anyhow::Ok(OfferList { items })
            }
        },
    )
}

/// My crew's open offers, live (`text/event-stream`): an `offers` event with the whole list
/// (as `GET /api/v1/installer/offers`) at once and each time it changes — a new offer arrives
/// within about a second of the booking — and `end` when the stream closes: at the access
/// token's expiry, when the session ends (`signed_out`), or when the installer leaves the crew
/// (`crew_changed`). Reconnect with a fresh token.
#[utoipa::path(get, path = "/api/v1/installer/offers/stream", tag = "installer", security(("bearer" = [])),
    responses((status = 200, description = "`offers` events whose data is an OfferList", content_type = "text/event-stream", body = OfferList)))]
pub async fn offers_stream(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
) -> Result<axum::response::Response, ApiError> {
    let crew = crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?;
    let until = Until {
        // The presented token's own end: a token near its expiry gets a short stream.
        deadline: caller.credential_expires_at,
        session: caller.session,
        idle: crate::auth::session::IdleRule::of(&state.settings),
        member: Some((caller.user, crew)),
    };
    Ok(offer_stream(&state, crew, until).into_response())
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
