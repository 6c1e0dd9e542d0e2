//! Quotes in the JSON API (customers, their own quotes).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::service::{self, Quote, QuoteRequest};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, IdPath};
use crate::ids::{QuoteId, UserId};
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
    responses((status = 201, body = QuoteView), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`usage_required`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    ApiJson(request): ApiJson<QuoteRequest>,
) -> Result<(StatusCode, axum::Json<QuoteView>), ApiError> {
    let actor = caller.actor();
    let quote = service::create(
        &state.db,
        state.pvwatts_api.as_deref(),
        &actor,
        caller.user,
        request,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(QuoteView::new(&state, quote))))
}

/// A quote as the API answers it: the quote exactly as it was made, and until when its price
/// holds.
#[derive(Serialize, ToSchema)]
pub struct QuoteView {
    #[serde(flatten)]
    quote: Quote,
    /// The end of the quote's validity (`quote_valid_days` after it was made): accepting it
    /// later is 409 `quote_expired`, and a new quote is made with today's prices.
    valid_until: chrono::DateTime<chrono::Utc>,
}

impl QuoteView {
    fn new(state: &AppState, quote: Quote) -> QuoteView {
        QuoteView {
            valid_until: quote.valid_until(state.settings.quote_valid_days),
            quote,
        }
    }

    fn all(state: &AppState, quotes: Vec<Quote>) -> Vec<QuoteView> {
        quotes.into_iter().map(|q| QuoteView::new(state, q)).collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct QuoteList {
    items: Vec<QuoteView>,
    /// Where the next page starts (`cursor`); absent on the last page.
    next_cursor: Option<String>,
}

/// My quotes, newest first.
#[utoipa::path(get, path = "/api/v1/quotes", tag = "quotes", params(crate::http::PageQuery), security(("bearer" = [])),
    responses((status = 200, body = QuoteList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    Query(page): Query<crate::http::PageQuery>,
) -> Result<axum::Json<QuoteList>, ApiError> {
    let (limit, before) = page.parse()?;
    let mut items = service::list_own(&state.db, caller.user, before, limit + 1).await?;
    let next_cursor = crate::http::next_page(&mut items, limit, |q| q.id);
    Ok(axum::Json(QuoteList {
        items: QuoteView::all(&state, items),
        next_cursor,
    }))
}

/// A customer's quotes, newest first (support, sales and admins; figures only).
#[utoipa::path(get, path = "/api/v1/staff/customers/{id}/quotes", tag = "staff",
    params(crate::http::PageQuery, ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = QuoteList), (status = 404, body = crate::http::error::Problem)))]
pub async fn of_customer(
    State(state): State<AppState>,
    caller: Caller<perm::ReadQuotes>,
    Query(page): Query<crate::http::PageQuery>,
    IdPath(customer): IdPath<UserId>,
) -> Result<axum::Json<QuoteList>, ApiError> {
    let actor = caller.actor();
    let (limit, before) = page.parse()?;
    let mut items = service::of_customer(&state.db, &actor, customer, before, limit + 1).await?;
    let next_cursor = crate::http::next_page(&mut items, limit, |q| q.id);
    Ok(axum::Json(QuoteList {
        items: QuoteView::all(&state, items),
        next_cursor,
    }))
}

/// One of my quotes, exactly as it was made.
#[utoipa::path(get, path = "/api/v1/quotes/{id}", tag = "quotes",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = QuoteView), (status = 404, body = crate::http::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    IdPath(id): IdPath<QuoteId>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    let actor = caller.actor();
    let quote = service::own(&state.db, &actor, caller.user, id).await?;
    Ok(axum::Json(QuoteView::new(&state, quote)))
}
