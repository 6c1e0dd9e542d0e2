//! Customer routes for orders: accept a quote, pay the deposit, list free days, book one and
//! move it.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::service::{self, Order};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, IdPath, IdPaths};
use crate::ids::{BookingId, OrderId, QuoteId};
use crate::marketplace::booking as marketplace;
use crate::payments::service::{self as payments, Checkout};
use crate::scheduling::api::{KindQuery, SlotList};
use crate::scheduling::booking::{self, Booking};
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/v1/quotes/{id}/accept", Permission::OwnOrders, accept)
        .get("/api/v1/orders", Permission::OwnOrders, list)
        .get("/api/v1/orders/{id}", Permission::OwnOrders, show)
        .post("/api/v1/orders/{id}/deposit", Permission::OwnOrders, deposit)
        .get("/api/v1/orders/{id}/slots", Permission::OwnOrders, slots_of)
        .post("/api/v1/orders/{id}/bookings", Permission::OwnOrders, book)
        .post(
            "/api/v1/orders/{id}/bookings/{booking_id}/move",
            Permission::OwnOrders,
            move_booking,
        )
}

/// Accept a quote (confirmed email address needed): the order takes the quote's exact figures.
/// Accepting the same quote again answers the same order with 200.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/accept", tag = "orders",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = Order), (status = 200, description = "already accepted", body = Order),
        (status = 403, description = "`email_unverified`", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`order_exists`: this home has an order in progress", body = crate::http::error::Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(quote): IdPath<QuoteId>,
) -> Result<(StatusCode, axum::Json<Order>), ApiError> {
    let actor = caller.actor();
    let (order, created) = service::accept(
        &state.db,
        &actor,
        caller.user,
        caller.email_verified,
        quote,
        state.settings.quote_valid_days,
        &state.settings.public_url,
    )
    .await?;
    state.mailer.wake();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(order)))
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    items: Vec<Order>,
    next_cursor: Option<String>,
}

/// My orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(crate::http::PageQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    Query(page): Query<crate::http::PageQuery>,
) -> Result<axum::Json<OrderList>, ApiError> {
    let (limit, before) = page.parse()?;
    let mut items = service::list_own(&state.db, caller.user, before, limit + 1).await?;
    let next_cursor = crate::http::next_page(&mut items, limit, |o| o.id);
    Ok(axum::Json(OrderList { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    order: Order,
    /// The latest deposit checkout, if one was started.
    deposit: Option<Checkout>,
    bookings: Vec<Booking>,
}

/// One of my orders, with its deposit and booked days (the job's timeline is at `/jobs/{job_id}`).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderDetail), (status = 404, body = crate::http::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(id): IdPath<OrderId>,
) -> Result<axum::Json<OrderDetail>, ApiError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    let deposit = payments::latest(&state.db, order.id)
        .await
        .map_err(anyhow::Error::from)?;
    let bookings = booking::of_job(&state.db, order.job_id)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(OrderDetail {
        order,
        deposit,
        bookings,
    }))
}

/// Start paying the deposit: answers the provider's checkout URL. The amount is the order's
/// deposit, computed by the server from the accepted quote.
#[utoipa::path(post, path = "/api/v1/orders/{id}/deposit", tag = "orders",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = Checkout), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`not_payable`", body = crate::http::error::Problem),
        (status = 502, description = "`payment_provider_unavailable`", body = crate::http::error::Problem)))]
pub async fn deposit(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(id): IdPath<OrderId>,
) -> Result<(StatusCode, axum::Json<Checkout>), ApiError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    let checkout = payments::start_deposit(
        &state.db,
        state.payments.as_ref(),
        &actor,
        &order,
        &state.settings.public_url,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(checkout)))
}

/// Free days for the survey or the installation (`kind=survey|install`) from crews that serve
/// the home.
#[utoipa::path(get, path = "/api/v1/orders/{id}/slots", tag = "orders", security(("bearer" = [])),
    params(("kind" = String, Query, description = "`survey` or `install`"), ("id" = String, Path)),
    responses((status = 200, body = SlotList), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn slots_of(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(id): IdPath<OrderId>,
    Query(q): Query<KindQuery>,
) -> Result<axum::Json<SlotList>, ApiError> {
    let kind = q.kind()?;
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    let items = marketplace::free_days(&state.db, &state.settings, &order, kind).await?;
    Ok(axum::Json(SlotList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    /// A slot id from the list of free days.
    slot_id: String,
}

/// Book a free day: the job is offered to the best crew for it. Two customers racing for the
/// last place get one 201 and one 409 `slot_taken`.
#[utoipa::path(post, path = "/api/v1/orders/{id}/bookings", tag = "orders",
    params(("id" = String, Path)), request_body = BookingRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Booking), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`slot_taken`, `already_booked` or `wrong_state`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn book(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPath(id): IdPath<OrderId>,
    ApiJson(request): ApiJson<BookingRequest>,
) -> Result<(StatusCode, axum::Json<Booking>), ApiError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    let booked = marketplace::book(&state.db, &state.settings, &actor, &order, &request.slot_id).await?;
    state.mailer.wake();
    Ok((StatusCode::CREATED, axum::Json(booked)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// A slot id from the list of free days, of the booking's kind.
    slot_id: String,
}

/// Move a booked visit to another free window, up to `reschedule_lead_hours` (48 by default)
/// before its window starts. The crew that confirmed it keeps it when it can come then;
/// otherwise the job is offered again. A move that fails leaves the booking as it was.
#[utoipa::path(post, path = "/api/v1/orders/{id}/bookings/{booking_id}/move", tag = "orders",
    params(("id" = String, Path), ("booking_id" = String, Path)), request_body = MoveRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Booking), (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`slot_taken`, `too_late`, `not_movable` or `booking_changed`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn move_booking(
    State(state): State<AppState>,
    caller: Caller<perm::OwnOrders>,
    IdPaths(id, booking_id): IdPaths<OrderId, BookingId>,
    ApiJson(request): ApiJson<MoveRequest>,
) -> Result<axum::Json<Booking>, ApiError> {
    let actor = caller.actor();
    let order = service::own(&state.db, &actor, caller.user, id).await?;
    let moved = marketplace::move_booking(
        &state.db,
        &state.settings,
        &actor,
        &order,
        booking_id,
        &request.slot_id,
        marketplace::MovedBy::Owner,
    )
    .await?;
    state.mailer.wake();
    Ok(axum::Json(moved))
}
