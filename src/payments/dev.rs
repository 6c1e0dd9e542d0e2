//! The development payment provider's checkout page. It stands where Stripe's hosted page
//! would: the customer sees the amount and pays (or cancels), and the "provider" sends the
//! signed event Stripe would, through the same verification as the real webhook. Mounted only
//! when `payment_provider = "dev"`, which production refuses.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{TimeDelta, Utc};

use super::service::{self, PaymentStatus};
use super::signature;
use crate::access::{PUBLIC, Routes};
use crate::audit::Actor;
use crate::auth::browser::MaybePageCaller;
use crate::http::origin::SameOrigin;
use crate::http::{PageError, RequestContext};
use crate::quotes::pages::money;
use crate::state::AppState;
use crate::web::{Nav, render};

/// How long a checkout link works, like a Stripe Checkout session (24 hours).
const LINK_LIFETIME: TimeDelta = TimeDelta::hours(24);

pub fn router() -> Routes {
    // Like the provider's hosted page, the link itself is the permission: an unguessable
    // (256-bit) checkout id for one payment, opened on any device (a phone with no web session)
    // until it is paid or expires.
    Routes::new()
        .get("/dev-payments/{checkout}", PUBLIC, page)
        .post("/dev-payments/{checkout}", PUBLIC, pay)
}

#[derive(Template)]
#[template(path = "payments/dev_checkout.html")]
struct CheckoutPage {
    nav: Nav,
    checkout: String,
    amount: String,
    order_id: String,
    /// Open for payment: pending and not expired.
    open: bool,
    paid: bool,
}

/// The checkout the link names, whether it can still be paid.
async fn find(
    state: &AppState,
    checkout: &str,
) -> Result<(crate::ids::OrderId, service::Checkout, bool), PageError> {
    if !checkout.starts_with("cs_dev_") || checkout.len() > 100 {
        return Err(PageError::NotFound);
    }
    let (order, found) = service::by_checkout_id(&state.db, checkout)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(PageError::NotFound)?;
    let fresh = found.created_at + LINK_LIFETIME > Utc::now();
    let open = found.status == PaymentStatus::Pending && fresh;
    Ok((order, found, open))
}

async fn page(
    State(state): State<AppState>,
    MaybePageCaller(caller): MaybePageCaller,
    Path(checkout): Path<String>,
) -> Result<Response, PageError> {
    let (order, found, open) = find(&state, &checkout).await?;
    let mut response = render(
        StatusCode::OK,
        &CheckoutPage {
            nav: Nav::for_caller("orders", caller.as_ref()),
            checkout,
            amount: money(found.amount_cents),
            order_id: order.to_string(),
            open,
            paid: found.status == PaymentStatus::Paid,
        },
    )?;
    // The link is a bearer secret: never sent on to another site.
    response.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

async fn pay(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Path(checkout): Path<String>,
) -> Result<Response, PageError> {
    let (order, found, open) = find(&state, &checkout).await?;
    if !open {
        return Ok(Redirect::to(&format!("/dev-payments/{checkout}")).into_response());
    }
    // What the provider would send: the amount it was asked to charge, signed with the shared
    // secret, delivered to the same verification as the public webhook.
    let event = service::paid_event(&checkout, found.payment_id, found.amount_cents, &found.currency);
    let body = serde_json::to_vec(&event).map_err(anyhow::Error::from)?;
    let now = Utc::now();
    let header = signature::sign(&state.webhook_secret, now, &body);
    let provider = Actor {
        client_ip: Some(ctx.client_ip),
        ..Actor::system()
    };
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
    // The event was signed here, so a refusal is a fault of ours, not the payer's: a 500.
    .map_err(|e| anyhow::Error::from(e).context("dev payment refused"))?;
    state.mailer.wake();
    // Back to the order, like the provider's success URL: a browser without a session signs
    // in there and lands on the order.
    Ok(Redirect::to(&format!("/orders/{order}?paid=1")).into_response())
}
