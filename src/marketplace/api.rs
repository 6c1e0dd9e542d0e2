//! The crew's days in the JSON API, for the phone app: the same list as the "Today" page; and
//! staff moving a customer's booked visit.

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::response::sse::Sse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::StepRules;
use super::booking;
use super::live::{Change, Until};
use super::today::{self, CrewDays};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, IdPath, IdPaths};
use crate::ids::{BookingId, CrewId, JobId};
use crate::scheduling::api::{KindQuery, SlotList};
use crate::scheduling::booking::Booking;
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
        .get("/api/v1/jobs/{id}/slots", Permission::ManageJobs, staff_slots)
        .post(
            "/api/v1/jobs/{id}/bookings/{booking_id}/move",
            Permission::ManageJobs,
            staff_move,
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

/// Free arrival windows for a job's visit, for staff moving it.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/slots", tag = "jobs",
    params(("id" = String, Path), KindQuery), security(("bearer" = [])),
    responses((status = 200, body = SlotList), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn staff_slots(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageJobs>,
    IdPath(id): IdPath<JobId>,
    Query(q): Query<KindQuery>,
) -> Result<axum::Json<SlotList>, ApiError> {
    let kind = q.kind()?;
    let (_, order) = booking::job_and_order(&state.db, id).await?;
    let items = booking::free_days(&state.db, &state.settings, &order, kind).await?;
    Ok(axum::Json(SlotList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMove {
    /// A slot id from the job's free windows, of the booking's kind.
    slot_id: String,
    /// Why (8–500 characters): it goes on the job's timeline, which the customer reads.
    reason: String,
}

/// Move a customer's booked visit, at any time, with a reason. The crew that confirmed it
/// keeps it when it can come then; otherwise the job is offered again.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/bookings/{booking_id}/move", tag = "jobs",
    params(("id" = String, Path), ("booking_id" = String, Path)), request_body = StaffMove,
    security(("bearer" = [])),
    responses((status = 200, body = Booking), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`slot_taken`, `not_movable` or `booking_changed`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn staff_move(
    State(state): State<AppState>,
    caller: Caller<perm::ManageJobs>,
    IdPaths(id, booking_id): IdPaths<JobId, BookingId>,
    ApiJson(request): ApiJson<StaffMove>,
) -> Result<axum::Json<Booking>, ApiError> {
    let actor = caller.actor();
    let (_, order) = booking::job_and_order(&state.db, id).await?;
    let moved = booking::move_booking(
        &state.db,
        &state.settings,
        &actor,
        &order,
        booking_id,
        &request.slot_id,
        booking::MovedBy::Staff {
            reason: &request.reason,
        },
    )
    .await?;
    state.mailer.wake();
    Ok(axum::Json(moved))
}
