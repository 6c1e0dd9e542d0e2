//! Quotes in the JSON API (customers, their own quotes).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::service::{self, Quote, QuoteRequest};
use crate::access::{Caller, Permission, Routes, perm};
use crate::audit::Actor;
use crate::http::json::ApiJson;
use crate::http::{ApiError, RequestContext};
use crate::ids::QuoteId;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/v1/quotes", Permission::OwnSites, create)
        .get("/api/v1/quotes", Permission::OwnSites, list)
        .get("/api/v1/quotes/{id}", Permission::OwnSites, show)
        .get(
            "/api/v1/staff/customers/{id}/quotes",
            Permission::ReadQuotes,
            of_customer,
        )
}

/// A new quote (or a new version of a site's quote): size, panels, price, deposit, production
/// by month, savings by year for 25 years, payback year and every assumption.
#[utoipa::path(post, path = "/api/v1/quotes", tag = "quotes", request_body = QuoteRequest, security(("bearer" = [])),
    responses((status = 201, body = Quote), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`usage_required`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    ctx: RequestContext,
    ApiJson(request): ApiJson<QuoteRequest>,
) -> Result<(StatusCode, axum::Json<Quote>), ApiError> {
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let quote = service::create(
        &state.db,
        state.pvwatts_api.as_deref(),
        &actor,
        caller.user,
        request,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(quote)))
}

#[derive(Serialize, ToSchema)]
pub struct QuoteList {
    items: Vec<Quote>,
}

/// My quotes, newest first.
#[utoipa::path(get, path = "/api/v1/quotes", tag = "quotes", security(("bearer" = [])),
    responses((status = 200, body = QuoteList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
) -> Result<axum::Json<QuoteList>, ApiError> {
    let items = service::list_own(&state.db, caller.user).await?;
    Ok(axum::Json(QuoteList { items }))
}

/// A customer's quotes, newest first (support, sales and admins; figures only).
#[utoipa::path(get, path = "/api/v1/staff/customers/{id}/quotes", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = QuoteList), (status = 404, body = crate::http::error::Problem)))]
pub async fn of_customer(
    State(state): State<AppState>,
    caller: Caller<perm::ReadQuotes>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<axum::Json<QuoteList>, ApiError> {
    let customer: crate::ids::UserId = id.parse().map_err(|_| ApiError::NotFound)?;
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let items = service::of_customer(&state.db, &actor, customer).await?;
    Ok(axum::Json(QuoteList { items }))
}

/// One of my quotes, exactly as it was made.
#[utoipa::path(get, path = "/api/v1/quotes/{id}", tag = "quotes", security(("bearer" = [])),
    responses((status = 200, body = Quote), (status = 404, body = crate::http::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<axum::Json<Quote>, ApiError> {
    let id: QuoteId = id.parse().map_err(|_| ApiError::NotFound)?;
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let quote = service::own(&state.db, &actor, caller.user, id).await?;
    Ok(axum::Json(quote))
}
