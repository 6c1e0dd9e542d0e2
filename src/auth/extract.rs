//! `Authenticated`: the signed-in caller of an API route, from `Authorization: Bearer`. The
//! API never reads cookies, so it needs no CSRF defence (S-AC-8). The account is loaded on
//! every request, so a disabled account or a changed role takes effect at once (S-AC-7).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use sea_orm::EntityTrait;

use crate::access::Role;
use crate::http::ApiError;
use crate::ids::{SessionId, UserId};
use crate::startup::AppState;

use super::session;
use super::store::user;

#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: UserId,
    pub role: Role,
    pub session: SessionId,
    pub authenticated_at: chrono::DateTime<Utc>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = ApiError::Unauthorized { code: "unauthorized" };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized { code: "unauthorized" })?;
        let now = Utc::now();
        let live = session::find_by_access_token(&state.db, token, now)
            .await
            .map_err(anyhow::Error::from)?
            .ok_or(ApiError::Unauthorized { code: "unauthorized" })?;
        let account = user::Entity::find_by_id(live.user.0)
            .one(&state.db)
            .await
            .map_err(anyhow::Error::from)?
            .filter(|a| a.disabled_at.is_none())
            .ok_or(unauthorized)?;
        let role: Role = account
            .role
            .parse()
            .map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
        let span = tracing::Span::current();
        span.record("user_id", tracing::field::display(live.user));
        span.record("role", role.as_str());
        Ok(Self {
            user: live.user,
            role,
            session: live.id,
            authenticated_at: live.authenticated_at,
        })
    }
}
