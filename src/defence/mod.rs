//! Automatic defence: an address whose requests keep tripping the authentication alarms (failed
//! sign-ins, second factors, re-authentications) or the authorization alarms (refused routes,
//! other people's objects) beyond a threshold within a window is blocked for a while. Blocks are
//! audited, listed to admins, and lifted by them.
//!
//! A block spares the innocent (S-DE-4): it refuses anonymous requests and new sign-ins from
//! the address with a bare 403, but a request with a valid session or token goes on, and so
//! does a sign-in from a device the account already knows (its owner is then throttled per
//! account). One attacker behind a company network, campus or carrier address must not lock
//! out everyone else there. An IPv6 client is blocked by its /64, which it owns whole. Lifting
//! a block forgets the failures before it.
//!
//! The counts come from the audit trail itself (its rows carry the client address), so what
//! triggers a block is exactly what an investigator later reads.

pub mod api;
mod blocks;
pub mod rate;

pub use api::router;
pub use blocks::{Block, BlockList, Rules, lift, list};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::audit;
use crate::http::{ApiError, PageError, RequestContext};
use crate::ids::UserId;
use crate::state::AppState;

/// Routes that carry their own credential in the body (a password with a known-device token,
/// a pending second factor, a refresh token): let through from a blocked address, marked, so
/// the sign-in itself refuses anyone but a known device (S-DE-4).
const SIGN_IN: [&str; 5] = [
    "/api/v1/auth/login",
    "/api/v1/auth/login/mfa",
    "/api/v1/auth/refresh",
    "/login",
    "/login/second-factor",
];

/// Refuses anonymous requests from blocked addresses, with no detail. Probes are exempt, so an
/// orchestrator behind the same address is never blinded; a signed-in caller is judged per
/// account instead (S-DE-4).
///
/// It also reacts to what each request recorded, once the request is done: alarms that pass
/// the threshold block their address before the answer leaves, so the next request meets it.
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (response, recorded) = audit::journal::watch(admit(&state, req, next)).await;
    if !recorded.is_empty() {
        state.blocks.react(&recorded).await;
    }
    response
}

async fn admit(state: &AppState, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let Some(ip) = req.extensions().get::<RequestContext>().map(|c| c.client_ip) else {
        return next.run(req).await;
    };
    let Some(blocked_at) = state.blocks.blocked_since(ip).await else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    if let Some(user) = signed_in(&parts, state).await {
        // The account that raised the alarms is not a neighbour: it stays shut out with its
        // address.
        let since = blocked_at - state.blocks.window();
        match blocks::raised_alarms(&state.db, user, since).await {
            Ok(false) => return next.run(Request::from_parts(parts, body)).await,
            Ok(true) => {}
            Err(e) => tracing::error!(error = %e, "reading a blocked caller's alarms failed"),
        }
    }
    let has_device =
        crate::auth::browser::cookie(&parts.headers, crate::auth::browser::DEVICE_COOKIE).is_some();
    let sign_in = parts.method == Method::POST && SIGN_IN.contains(&parts.uri.path());
    // A browser that signed in here before may still reach the sign-in form and its styles;
    // the sign-in itself then checks that the device is known to the account.
    let form = parts.method == Method::GET
        && has_device
        && (parts.uri.path() == "/login" || parts.uri.path().starts_with("/static/"));
    if sign_in || form {
        if let Some(ctx) = parts.extensions.get_mut::<RequestContext>() {
            ctx.address_blocked = true;
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    if parts.uri.path().starts_with("/api/") {
        ApiError::Forbidden.into_response()
    } else {
        PageError::Forbidden.into_response()
    }
}

/// The account of the live session (cookie) or access token (bearer) the request carries.
/// Only asked for requests from blocked addresses, so the lookups cost nothing in the common
/// case.
async fn signed_in(parts: &Parts, state: &AppState) -> Option<UserId> {
    if parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
        return crate::auth::extract::authenticate(parts, state)
            .await
            .ok()
            .map(|caller| caller.user);
    }
    match crate::auth::browser::page_caller(parts, state).await {
        Ok(Some(caller)) => Some(caller.user),
        _ => None,
    }
}
