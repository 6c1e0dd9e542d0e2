//! Installer routes for offers: what was offered to my crew, and my answer; and the shapes the
//! order's and the job's free-window routes share.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Kind;
use super::dispatch::{self, OfferView};
use super::slots::Slot;
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::{ApiError, FieldError, IdPath};
use crate::ids::OfferId;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/installer/offers", Permission::WorkJobs, offers)
        .post(
            "/api/v1/installer/offers/{id}/accept",
            Permission::WorkJobs,
            accept,
        )
        .post(
            "/api/v1/installer/offers/{id}/decline",
            Permission::WorkJobs,
            decline,
        )
}

/// Free arrival windows, as the order's (customer) and the job's (staff) slot routes answer.
#[derive(Serialize, ToSchema)]
pub struct SlotList {
    pub items: Vec<Slot>,
}

/// The slot routes' query: which visit the windows are for.
#[derive(Deserialize, IntoParams)]
pub struct KindQuery {
    /// `survey` or `install`.
    kind: Option<String>,
}

impl KindQuery {
    /// The kind asked for; missing or unknown is 422 on `kind`.
    pub fn kind(&self) -> Result<Kind, ApiError> {
        self.kind.as_deref().and_then(Kind::parse).ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                field: "kind".into(),
                code: "invalid",
            }])
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct OfferList {
    items: Vec<OfferView>,
}

/// Open offers to my crew, soonest deadline first. The street address shows once accepted.
#[utoipa::path(get, path = "/api/v1/installer/offers", tag = "installer", security(("bearer" = [])),
    responses((status = 200, body = OfferList)))]
pub async fn offers(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
) -> Result<axum::Json<OfferList>, ApiError> {
    let items = match crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?
    {
        Some(crew) => dispatch::open_for(&state.db, crew).await?,
        None => Vec::new(),
    };
    Ok(axum::Json(OfferList { items }))
}

/// Accept an offer: the day and the job are my crew's, and the customer is told.
#[utoipa::path(post, path = "/api/v1/installer/offers/{id}/accept", tag = "installer",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Accepted"), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`offer_closed`", body = crate::http::error::Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
    IdPath(id): IdPath<OfferId>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    dispatch::answer(&state.db, &state.settings, &actor, caller.user, id, true).await?;
    state.mailer.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// Decline an offer: it moves to the next crew at once.
#[utoipa::path(post, path = "/api/v1/installer/offers/{id}/decline", tag = "installer",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Declined"), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`offer_closed`", body = crate::http::error::Problem)))]
pub async fn decline(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
    IdPath(id): IdPath<OfferId>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    dispatch::answer(&state.db, &state.settings, &actor, caller.user, id, false).await?;
    state.mailer.wake();
    Ok(StatusCode::NO_CONTENT)
}
