//! The development payment provider's checkout page. It stands where Stripe's hosted page
//! would: the customer sees the amount and pays (or cancels), and the "provider" sends the
//! signed event Stripe would, through the same verification as the real webhook. Mounted only
//! when `payment_provider = "dev"`, which production refuses.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::service::{self, PaymentStatus};
use super::signature;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::audit::Actor;
use crate::auth::browser::{CsrfProtected, SignedInForm};
use crate::http::{PageError, RequestContext};
use crate::quotes::pages::money;
use crate::startup::AppState;
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new()
        .get("/dev-payments/{checkout}", Permission::OwnOrders, page)
        .post("/dev-payments/{checkout}", Permission::OwnOrders, pay)
}

#[derive(Template)]
#[template(path = "payments/dev_checkout.html")]
struct CheckoutPage {
    nav: Nav,
    csrf: String,
    checkout: String,
    amount: String,
    order_id: String,
    pending: bool,
}

/// The checkout if it belongs to one of the caller's orders.
async fn owned(
    state: &AppState,
    actor: &Actor,
    user: crate::ids::UserId,
    checkout: &str,
) -> Result<(crate::ids::OrderId, service::Checkout), PageError> {
    let (order, found) = service::by_checkout_id(&state.db, checkout)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(PageError::NotFound)?;
    crate::orders::service::own(&state.db, actor, user, order)
        .await
        .map_err(|_| PageError::NotFound)?;
    Ok((order, found))
}

async fn page(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnOrders>,
    ctx: RequestContext,
    Path(checkout): Path<String>,
) -> Result<Response, PageError> {
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let (order, found) = owned(&state, &actor, caller.user, &checkout).await?;
    render(
        StatusCode::OK,
        &CheckoutPage {
            nav: Nav::for_caller("orders", Some(&caller)),
            csrf: caller.csrf.clone(),
            checkout,
            amount: money(found.amount_cents),
            order_id: order.to_string(),
            pending: found.status == PaymentStatus::Pending,
        },
    )
}

#[derive(Deserialize)]
struct PayFields {
    #[serde(default)]
    csrf: String,
}

impl CsrfProtected for PayFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn pay(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(checkout): Path<String>,
    SignedInForm(caller, _fields): SignedInForm<perm::OwnOrders, PayFields>,
) -> Result<Response, PageError> {
    let actor = Actor::user(&ctx, caller.user, caller.role);
    let (order, found) = owned(&state, &actor, caller.user, &checkout).await?;
    // What the provider would send: the amount it was asked to charge, signed with the shared
    // secret, delivered to the same verification as the public webhook.
    let event = service::paid_event(&checkout, found.payment_id, found.amount_cents, &found.currency);
    let body = serde_json::to_vec(&event).map_err(anyhow::Error::from)?;
    let now = Utc::now();
    let header = signature::sign(&state.webhook_secret, now, &body);
    let provider = Actor::system();
    service::receive(
        &state.db,
        &provider,
        &state.webhook_secret,
        Some(&header),
        &body,
        now,
        &state.settings.public_url,
    )
    .await
    .map_err(|e| PageError::Internal(anyhow::anyhow!("dev payment refused: {e}")))?;
    state.mailer.wake();
    Ok(Redirect::to(&format!("/orders/{order}?paid=1")).into_response())
}
