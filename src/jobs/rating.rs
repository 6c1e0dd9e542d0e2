//! The customer's rating of the crew that installed their system: the job's side of it (whose
//! job it is, whether it is installed, which crew did it), the audit row, and the API and page
//! routes. The ratings themselves and the crews' running figures are the crews room's.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::lifecycle::JobState;
use super::service::{self, Viewer, job_target};
use crate::access::{Caller, Permission, Routes, SignedInForm, perm};
use crate::audit::{self, Action, Actor, Details};
use crate::auth::browser::CsrfProtected;
use crate::crews::ratings::{self, Comment, CrewRating, Rating, RatingError, Stars};
use crate::http::json::ApiJson;
use crate::http::{ApiError, IdPath, PageError};
use crate::ids::JobId;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/jobs/{id}/rating", Permission::OwnOrders, show)
        .put("/api/v1/jobs/{id}/rating", Permission::OwnOrders, give)
        .get("/api/v1/installer/rating", Permission::WorkJobs, crew_rating)
        .post("/jobs/{id}/rating", Permission::OwnOrders, give_on_page)
}

/// Why a job cannot be rated, or its rating not changed.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    #[error("not found")]
    NotFound,
    /// The crew can be rated once the system is installed.
    #[error("the crew can be rated once the system is installed")]
    NotInstalled,
    #[error(transparent)]
    Rating(#[from] RatingError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for RateError {
    fn from(e: sea_orm::DbErr) -> Self {
        RateError::Internal(e.into())
    }
}

impl From<service::JobError> for RateError {
    fn from(e: service::JobError) -> Self {
        match e {
            service::JobError::NotFound => RateError::NotFound,
            other => RateError::Internal(anyhow::Error::from(other)),
        }
    }
}

/// Rates the crew of job `id` for its customer (`viewer`), or changes the rating, with an
/// audit row in the same transaction. Someone else's job is 404 and an audited refusal.
pub async fn rate(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: JobId,
    stars: Stars,
    comment: &Comment,
) -> Result<Rating, RateError> {
    let (job, party) = service::visible(db, actor, viewer, id, Permission::OwnOrders).await?;
    if party != super::lifecycle::Party::Owner {
        return Err(RateError::NotFound);
    }
    let crew = match job.crew_id {
        Some(crew)
            if job.state.position() >= JobState::Installed.position() && job.state != JobState::Cancelled =>
        {
            crew
        }
        _ => return Err(RateError::NotInstalled),
    };
    let tx = crate::db::begin(db).await?;
    let (rating, change) = ratings::record(&tx, id, crew, job.owner_id, stars, comment, Utc::now()).await?;
    let mut details = Details::new().with("stars", i64::from(stars.get()));
    if let ratings::Change::Changed { from } = change {
        details = details.with("changed_from", i64::from(from));
    }
    audit::record(&tx, actor, Action::CrewRated, Some(job_target(id)), details).await?;
    tx.commit().await?;
    Ok(rating)
}

fn viewer<P: crate::access::policy::Need>(caller: &Caller<P>) -> Viewer {
    Viewer {
        user: caller.user,
        role: caller.role,
    }
}

/// My rating of the crew of one of my jobs (404 until I gave one).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/rating", tag = "jobs", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Rating), (status = 404, body = crate::http::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(id): IdPath<JobId>,
) -> Result<axum::Json<Rating>, ApiError> {
    let actor = caller.actor();
    let (_, party) = service::visible(&state.db, &actor, viewer(&caller), id, Permission::OwnOrders).await?;
    if party != super::lifecycle::Party::Owner {
        return Err(ApiError::NotFound);
    }
    ratings::of_job(&state.db, id)
        .await
        .map_err(anyhow::Error::from)?
        .map(axum::Json)
        .ok_or(ApiError::NotFound)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 to 5.
    pub stars: i64,
    /// Optional, plain text, at most 1,000 characters.
    #[serde(default)]
    pub comment: String,
}

/// Rate the crew that installed my system, once the job is installed: one rating per job,
/// which I may change for 14 days (a later change is 409 `rating_closed`; before the
/// installation, 409 `not_installed`). The crew sees its
/// average and count, never who gave what.
#[utoipa::path(put, path = "/api/v1/jobs/{id}/rating", tag = "jobs", params(("id" = String, Path)),
    request_body = RatingRequest, security(("bearer" = [])),
    responses((status = 200, body = Rating), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn give(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(id): IdPath<JobId>,
    ApiJson(body): ApiJson<RatingRequest>,
) -> Result<axum::Json<Rating>, ApiError> {
    let stars = Stars::new(body.stars).map_err(RateError::from)?;
    let comment = Comment::parse(&body.comment).map_err(RateError::from)?;
    let actor = caller.actor();
    Ok(axum::Json(
        rate(&state.db, &actor, viewer(&caller), id, stars, &comment).await?,
    ))
}

/// My crew's rating: how many customers rated it and their average, never who gave what.
#[utoipa::path(get, path = "/api/v1/installer/rating", tag = "installer", security(("bearer" = [])),
    responses((status = 200, body = CrewRating), (status = 404, body = crate::http::error::Problem)))]
pub async fn crew_rating(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
) -> Result<axum::Json<CrewRating>, ApiError> {
    let crew_id = crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(ApiError::NotFound)?;
    let crew = crate::crews::service::crew(&state.db, crew_id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(ApiError::NotFound)?;
    Ok(axum::Json(CrewRating::from(&crew)))
}

#[derive(Deserialize)]
struct RatingFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    stars: String,
    #[serde(default)]
    comment: String,
    /// The order page to go back to.
    #[serde(default)]
    order: String,
}

impl CsrfProtected for RatingFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The order page's rating form: back to the order with a notice, or with the problem.
async fn give_on_page(
    State(state): State<AppState>,
    IdPath(id): IdPath<JobId>,
    SignedInForm(caller, f): SignedInForm<perm::OwnOrders, RatingFields>,
) -> Result<Response, PageError> {
    let order = f
        .order
        .parse::<crate::ids::OrderId>()
        .map_err(|_| PageError::BadRequest)?;
    let back =
        |notice: &str| Redirect::to(&format!("/orders/{order}?notice={notice}#rating")).into_response();
    let stars = f
        .stars
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| Stars::new(n).ok());
    let (Some(stars), Ok(comment)) = (stars, Comment::parse(&f.comment)) else {
        return Ok(back("rating-invalid"));
    };
    let viewer = Viewer {
        user: caller.user,
        role: caller.role,
    };
    match rate(&state.db, &caller.actor(), viewer, id, stars, &comment).await {
        Ok(_) => Ok(back("rated")),
        Err(RateError::NotFound) => Err(PageError::NotFound),
        Err(RateError::Rating(RatingError::Closed)) => Ok(back("rating-closed")),
        Err(RateError::NotInstalled | RateError::Rating(RatingError::Conflict)) => Ok(back("rating-later")),
        Err(RateError::Rating(RatingError::Invalid(_))) => Ok(back("rating-invalid")),
        Err(RateError::Rating(RatingError::Internal(e)) | RateError::Internal(e)) => {
            Err(PageError::Internal(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_what_to_do() {
        let closed: ApiError = RateError::Rating(RatingError::Closed).into();
        assert!(matches!(
            closed,
            ApiError::Refused {
                code: "rating_closed",
                ..
            }
        ));
        let early: ApiError = RateError::NotInstalled.into();
        assert!(matches!(
            early,
            ApiError::Refused {
                code: "not_installed",
                ..
            }
        ));
    }
}
