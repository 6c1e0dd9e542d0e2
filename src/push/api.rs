//! Push subscriptions in the API (native apps) and for the web app's own script: the key a
//! device subscribes with, subscribing, the list, unsubscribing.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{NewSubscription, PushError, Subscription};
use crate::access::{Caller, Permission, Routes, SignedInForm, perm};
use crate::auth::browser::CsrfProtected;
use crate::http::json::ApiJson;
use crate::http::{ApiError, DomainError, FieldError};
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/push/key", crate::access::PUBLIC, key)
        .post("/api/v1/push/subscriptions", Permission::OwnAccount, subscribe)
        .get("/api/v1/push/subscriptions", Permission::OwnAccount, list)
        .delete(
            "/api/v1/push/subscriptions/{id}",
            Permission::OwnAccount,
            unsubscribe,
        )
        .post("/push/subscriptions", Permission::OwnAccount, subscribe_page)
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::NotFound => ApiError::NotFound,
            PushError::EndpointRefused(_) => ApiError::Validation(vec![FieldError {
                field: "endpoint".into(),
                code: "refused",
            }]),
            PushError::InvalidKeys => ApiError::Validation(vec![FieldError {
                field: "keys".into(),
                code: "invalid",
            }]),
            PushError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for PushError {}

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The application server key (VAPID, P-256, uncompressed, base64url) to pass to
    /// `pushManager.subscribe({applicationServerKey})` or the platform's push API.
    pub public_key: String,
}

/// The key devices subscribe with.
#[utoipa::path(get, path = "/api/v1/push/key", tag = "push", responses((status = 200, body = PushKey)))]
pub async fn key(State(state): State<AppState>) -> axum::Json<PushKey> {
    axum::Json(PushKey {
        public_key: state.push.vapid.public_key(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The device's P-256 public key, base64url.
    pub p256dh: String,
    /// The device's 16-byte auth secret, base64url.
    pub auth: String,
}

/// A `PushSubscription` as the browser's `toJSON()` gives it, with a name for the device.
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionRequest {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    #[serde(default)]
    pub device: String,
}

/// Subscribe this device (this session) to notifications: new offers for crews, each step of
/// their job for customers. The endpoint must be https and resolve only to public addresses
/// (422 `refused` on `endpoint` otherwise). The subscription ends with the session.
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "push", request_body = SubscriptionRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Subscription), (status = 422, body = crate::http::error::Problem)))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    ApiJson(body): ApiJson<SubscriptionRequest>,
) -> Result<(StatusCode, axum::Json<Subscription>), ApiError> {
    let new = NewSubscription {
        endpoint: body.endpoint,
        p256dh: body.keys.p256dh,
        auth: body.keys.auth,
        device: body.device,
    };
    let made = super::subscribe(&state.db, &state.push.client, caller.user, caller.session, new).await?;
    Ok((StatusCode::CREATED, axum::Json(made)))
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionList {
    items: Vec<Subscription>,
}

/// My devices that receive notifications, each with the session it belongs to.
#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = SubscriptionList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
) -> Result<axum::Json<SubscriptionList>, ApiError> {
    Ok(axum::Json(SubscriptionList {
        items: super::of_user(&state.db, caller.user).await?,
    }))
}

/// Stop notifications to one of my devices.
#[utoipa::path(delete, path = "/api/v1/push/subscriptions/{id}", tag = "push", params(("id" = String, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 404, body = crate::http::error::Problem)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    super::unsubscribe(&state.db, caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The web app's subscription, sent by its script as a form with the page's CSRF token.
#[derive(Deserialize)]
struct SubscriptionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    p256dh: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    device: String,
}

impl CsrfProtected for SubscriptionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn subscribe_page(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, SubscriptionFields>,
) -> Result<(StatusCode, axum::Json<Subscription>), ApiError> {
    let new = NewSubscription {
        endpoint: fields.endpoint,
        p256dh: fields.p256dh,
        auth: fields.auth,
        device: fields.device,
    };
    let made = super::subscribe(&state.db, &state.push.client, caller.user, caller.session, new).await?;
    Ok((StatusCode::CREATED, axum::Json(made)))
}
