//! The payment provider's webhook. Public, and authenticated by its signature alone.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::service::{self, Outcome};
use super::signature;
use crate::access::{PUBLIC, Routes};
use crate::audit::Actor;
use crate::http::{ApiError, RequestContext};
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new().post("/api/v1/webhooks/payments", PUBLIC, webhook)
}

#[derive(Serialize, ToSchema)]
pub struct Received {
    received: bool,
    outcome: Outcome,
}

/// Payment events (Stripe's format and signature: `Stripe-Signature: t=…,v1=…`, HMAC-SHA256
/// over `t.body`, 5 minutes' tolerance). An event is applied once; a replay answers
/// `duplicate`. A bad, stale or missing signature, or an amount other than the deposit asked
/// for, is 400 `invalid_signature` and changes nothing.
#[utoipa::path(post, path = "/api/v1/webhooks/payments", tag = "payments",
    request_body(content = String, content_type = "application/json", description = "a provider event"),
    responses((status = 200, body = Received),
        (status = 400, description = "`invalid_signature`", body = crate::http::error::Problem)))]
pub async fn webhook(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Received>, ApiError> {
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let actor = Actor::anonymous(&ctx);
    let outcome = service::receive(
        &state.db,
        &actor,
        &state.webhook_secret,
        header,
        &body,
        Utc::now(),
        &state.settings.public_url,
    )
    .await?;
    state.mailer.wake();
    Ok(axum::Json(Received {
        received: true,
        outcome,
    }))
}
