//! The signed-in user's own account: profile and sessions (S-AU-6).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Role;
use crate::http::{ApiError, IdPath};
use crate::ids::SessionId;
use crate::state::AppState;

use super::api::require_recent_auth;
use super::profile::{self, ProfileChange};
use super::session;
use super::sign_out;
use super::store::user;
use crate::access::{Caller, Permission::OwnAccount, Routes, perm};
use crate::http::json::ApiJson;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/me", OwnAccount, me)
        .patch("/api/v1/me", OwnAccount, update_me)
        .get("/api/v1/me/sessions", OwnAccount, list_sessions)
        .delete("/api/v1/me/sessions", OwnAccount, end_other_sessions)
        .delete("/api/v1/me/sessions/{id}", OwnAccount, end_session)
}

#[derive(Serialize, ToSchema)]
pub struct Profile {
    id: String,
    email: String,
    name: String,
    phone: Option<String>,
    role: Role,
    email_verified: bool,
}

/// The signed-in user's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = crate::http::error::Problem)))]
pub async fn me(caller: Caller<perm::OwnAccount>) -> Result<axum::Json<Profile>, ApiError> {
    // The extractor loaded the account for this request already.
    Ok(axum::Json(Profile {
        id: caller.user.to_string(),
        email: caller.email.clone(),
        name: caller.name.clone(),
        phone: caller.phone.clone(),
        role: caller.role,
        email_verified: caller.email_verified,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    name: Option<String>,
    /// A new address must be confirmed again; needs re-authentication (S-AU-7).
    email: Option<String>,
    /// A telephone number with 7 to 15 digits; an empty string removes it.
    phone: Option<String>,
}

/// Change my name or email address. Changing the email needs re-authentication, sends a
/// confirmation link to the new address and a notice to the old one.
#[utoipa::path(patch, path = "/api/v1/me", tag = "account", request_body = ProfilePatch, security(("bearer" = [])),
    responses(
        (status = 200, body = Profile),
        (status = 401, description = "`reauth_required` for an email change", body = crate::http::error::Problem),
        (status = 409, description = "`email_taken`", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<axum::Json<Profile>, ApiError> {
    if patch.email.is_some() {
        require_recent_auth(&state, &caller)?;
    }
    let change = ProfileChange {
        name: patch.name,
        email: patch.email,
        phone: patch.phone,
    };
    let actor = caller.actor();
    profile::update(&state.signup_context(), caller.user, change, &actor).await?;
    state.auth_cache.clear();
    // Read back what was stored (names are trimmed, emails lower-cased).
    let account = user::Entity::find_by_id(caller.user.0)
        .one(&state.db)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(ApiError::NotFound)?;
    Ok(axum::Json(Profile {
        id: caller.user.to_string(),
        email: account.email,
        name: account.name,
        phone: crate::crypto::seal::open_opt(
            &state.db,
            crate::crypto::seal::Field::UserPhone,
            account.phone.as_deref(),
        )
        .await?,
        role: caller.role,
        email_verified: account.email_verified_at.is_some(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    id: String,
    device_name: Option<String>,
    ip: Option<String>,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    /// The session making this request.
    current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    items: Vec<SessionView>,
    next_cursor: Option<String>,
}

/// My live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", params(crate::http::PageQuery), security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = crate::http::error::Problem)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    Query(page): Query<crate::http::PageQuery>,
) -> Result<axum::Json<SessionList>, ApiError> {
    let (limit, before) = page.parse::<SessionId>()?;
    // One more than asked tells whether there is a next page.
    let mut rows = session::list_live(&state.db, caller.user, before, limit + 1, Utc::now())
        .await
        .map_err(anyhow::Error::from)?;
    let next_cursor = crate::http::next_page(&mut rows, limit, |r| r.id);
    let items = rows
        .into_iter()
        .map(|r| SessionView {
            current: r.id == caller.session,
            id: r.id.to_string(),
            device_name: r.device_name,
            ip: r.ip,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
        })
        .collect();
    Ok(axum::Json(SessionList { items, next_cursor }))
}

/// End one of my sessions. Someone else's session id answers 404.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "account",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Ended"), (status = 404, body = crate::http::error::Problem)))]
pub async fn end_session(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    IdPath(id): IdPath<SessionId>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    if !sign_out::end_one(&state.db, &state.auth_cache, &actor, caller.user, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// End all my other sessions (this one stays signed in).
#[utoipa::path(delete, path = "/api/v1/me/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 204, description = "Ended")))]
pub async fn end_other_sessions(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    sign_out::end_others(&state.db, &state.auth_cache, &actor, caller.user, caller.session).await?;
    Ok(StatusCode::NO_CONTENT)
}
