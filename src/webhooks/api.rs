//! Admin routes for a company's webhook endpoint and its delivery log.

use axum::extract::State;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Delivery, Endpoint};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, IdPath};
use crate::ids::CompanyId;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .put(
            "/api/v1/admin/companies/{id}/webhook",
            Permission::ManageCrews,
            set,
        )
        .get(
            "/api/v1/admin/companies/{id}/webhook",
            Permission::ManageCrews,
            show,
        )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// An https URL of the company's.
    url: String,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointSet {
    url: String,
    /// The signing secret, shown this once: deliveries carry
    /// `Sunbridge-Signature: t=…,v1=<HMAC-SHA256(secret, "t.body")>`.
    secret: String,
}

/// Set (or replace) the company's webhook URL; answers a new signing secret.
#[utoipa::path(put, path = "/api/v1/admin/companies/{id}/webhook", tag = "crews",
    params(("id" = String, Path)), request_body = NewEndpoint,
    security(("bearer" = [])),
    responses((status = 200, body = EndpointSet), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller<perm::ManageCrews>,
    IdPath(company): IdPath<CompanyId>,
    ApiJson(new): ApiJson<NewEndpoint>,
) -> Result<axum::Json<EndpointSet>, ApiError> {
    let actor = caller.actor();
    let secret = super::register(
        &state.db,
        &actor,
        company,
        &new.url,
        state.settings.outbound_allow_local,
    )
    .await?;
    Ok(axum::Json(EndpointSet {
        url: new.url.trim().to_owned(),
        secret: secret.expose_secret().to_owned(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookState {
    endpoint: Option<Endpoint>,
    /// The newest 100 deliveries with their outcome.
    deliveries: Vec<Delivery>,
}

/// The company's endpoint and its delivery log.
#[utoipa::path(get, path = "/api/v1/admin/companies/{id}/webhook", tag = "crews",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookState)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: Caller<perm::ManageCrews>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<axum::Json<WebhookState>, ApiError> {
    let endpoint = super::endpoint_of(&state.db, company)
        .await
        .map_err(anyhow::Error::from)?;
    let deliveries = super::deliveries(&state.db, company)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(axum::Json(WebhookState { endpoint, deliveries }))
}
