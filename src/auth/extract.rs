//! `Authenticated`: the signed-in caller of an API route, from `Authorization: Bearer`. The
//! API never reads cookies, so it needs no CSRF defence (S-AC-8). The account is loaded on
//! every request (or from the one-second cache that every account change clears), so a
//! disabled account or a changed role takes effect at once (S-AC-7). Handlers do not take
//! `Authenticated` directly: they take `access::Caller<P>`, which names their permission.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use sea_orm::EntityTrait;

use crate::access::Role;
use crate::audit::Actor;
use crate::http::{ApiError, RequestContext};
use crate::state::AppState;

use super::cache::CachedAuth;
use super::session;
use super::store::user;
use crate::crypto::token_hash;

pub use super::model::Authenticated;

/// A signed-in caller who may still be enrolling a second factor: only the enrolment,
/// re-authentication and sign-out routes take this instead of `Authenticated`.
pub struct Enrolling {
    caller: Authenticated,
    ctx: RequestContext,
}

impl std::ops::Deref for Enrolling {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.caller
    }
}

impl Enrolling {
    /// The caller as the audit trail records them, from this request's address and id.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.ctx, self.caller.user, self.caller.role)
    }

    /// This request's address and id, for the services that record more than one actor.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }
}

impl FromRequestParts<AppState> for Enrolling {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !crate::access::routes::declared(parts, crate::access::Permission::OwnAccount) {
            return Err(ApiError::Forbidden);
        }
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        let caller = authenticate(parts, state).await?;
        Ok(Enrolling { caller, ctx })
    }
}

pub(crate) async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let unauthorized = || ApiError::Unauthorized { code: "unauthorized" };
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(unauthorized)?;
    let now = Utc::now();
    let key = token_hash(token);
    let caller = match state.auth_cache.get(&key, now) {
        Some(caller) => caller,
        None => {
            let live = session::find_by_access_token(&state.db, token, now)
                .await
                .map_err(anyhow::Error::from)?
                .ok_or_else(unauthorized)?;
            let account = user::Entity::find_by_id(live.user.0)
                .one(&state.db)
                .await
                .map_err(anyhow::Error::from)?
                .filter(|a| a.disabled_at.is_none())
                .ok_or_else(unauthorized)?;
            let role: Role = account
                .role
                .parse()
                .map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
            let caller = Authenticated {
                user: live.user,
                role,
                session: live.id,
                authenticated_at: live.authenticated_at,
                mfa_enabled: account.mfa_enabled_at.is_some(),
                email_verified: account.email_verified_at.is_some(),
                phone: crate::crypto::seal::open_opt(
                    &state.db,
                    crate::crypto::seal::Field::UserPhone,
                    account.phone.as_deref(),
                )
                .await?,
                email: account.email,
                name: account.name,
                credential_expires_at: live.token_expires_at.min(live.expires_at),
            };
            let entry = CachedAuth {
                caller: caller.clone(),
                token_expires_at: live.token_expires_at,
                expires_at: live.expires_at,
            };
            state.auth_cache.put(key, entry);
            caller
        }
    };
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(caller.user));
    span.record("role", caller.role.as_str());
    Ok(caller)
}
