//! The permission in the handler's signature (style habit 4): `Caller<perm::ViewCustomers>`
//! for the API, `PageUser<perm::ViewCustomers>` for pages. Each one authenticates, checks the
//! role against the policy table, and checks that the route declared this very permission.
//! A refusal is a 403 and an audited authorization failure. Each keeps the request's context,
//! so `actor()` gives the handler the caller as the audit trail records them.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::policy::{Need, Permission, allows};
use super::routes::declared;
use crate::audit::{self, Action, Actor, Details};
use crate::auth::browser::{PageCaller, SignInRequired};
use crate::auth::extract::Authenticated;
use crate::http::{ApiError, PageError, RequestContext};
use crate::state::AppState;

/// An API caller whose role holds `P`.
pub struct Caller<P: Need> {
    caller: Authenticated,
    ctx: RequestContext,
    _permission: PhantomData<P>,
}

impl<P: Need> Deref for Caller<P> {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.caller
    }
}

impl<P: Need> Caller<P> {
    pub fn into_inner(self) -> Authenticated {
        self.caller
    }

    /// The caller as the audit trail records them, from this request's address and id.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.ctx, self.caller.user, self.caller.role)
    }
}

/// A page user whose role holds `P`.
pub struct PageUser<P: Need> {
    caller: PageCaller,
    ctx: RequestContext,
    _permission: PhantomData<P>,
}

impl<P: Need> Deref for PageUser<P> {
    type Target = PageCaller;
    fn deref(&self) -> &PageCaller {
        &self.caller
    }
}

impl<P: Need> PageUser<P> {
    pub fn into_inner(self) -> PageCaller {
        self.caller
    }

    /// The user as the audit trail records them, from this request's address and id.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.ctx, self.caller.user, self.caller.role)
    }
}

/// Writes the refusal to the audit trail (best effort: a failing write must not turn a 403
/// into something else).
async fn record_denial(
    parts: &Parts,
    state: &AppState,
    who: (crate::ids::UserId, super::Role),
    p: Permission,
) {
    tracing::warn!(
        permission = p.name(),
        "authorization failure: role lacks permission"
    );
    let Some(ctx) = parts.extensions.get::<RequestContext>() else {
        return;
    };
    let actor = Actor::user(ctx, who.0, who.1);
    let details = Details::new().with("permission", p.name());
    if let Err(e) = audit::record(&state.db, &actor, Action::AccessDenied, None, details).await {
        tracing::error!(error = %e, "could not record an authorization failure");
    }
}

impl<P: Need> FromRequestParts<AppState> for Caller<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !declared(parts, P::PERMISSION) {
            return Err(ApiError::Forbidden);
        }
        let caller = crate::auth::extract::authenticate(parts, state).await?;
        // S-AU-4: a staff account without a second factor can do nothing but enrol one.
        if caller.role.is_staff() && !caller.mfa_enabled {
            return Err(ApiError::MfaEnrolmentRequired);
        }
        if !allows(caller.role, P::PERMISSION) {
            record_denial(parts, state, (caller.user, caller.role), P::PERMISSION).await;
            return Err(ApiError::Forbidden);
        }
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        Ok(Caller {
            caller,
            ctx,
            _permission: PhantomData,
        })
    }
}

impl<P: Need> FromRequestParts<AppState> for PageUser<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !declared(parts, P::PERMISSION) {
            return Err(PageError::Forbidden.into_response());
        }
        let caller = match crate::auth::browser::page_caller(parts, state).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return Err(SignInRequired::from(parts).into_response()),
            Err(e) => return Err(e.into_response()),
        };
        // Staff without a second factor reach their account page (to enrol) and nothing else.
        if caller.must_enrol() && P::PERMISSION != Permission::OwnAccount {
            return Err(PageError::Forbidden.into_response());
        }
        if !allows(caller.role, P::PERMISSION) {
            record_denial(parts, state, (caller.user, caller.role), P::PERMISSION).await;
            return Err(PageError::Forbidden.into_response());
        }
        let ctx = RequestContext::from_request_parts(parts, state)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        Ok(PageUser {
            caller,
            ctx,
            _permission: PhantomData,
        })
    }
}

/// A form posted by a signed-in user whose role holds `P`: same-origin, with the session's
/// CSRF token (S-AC-8). A cross-site post, or one without the right token, is refused with
/// 403 before the handler.
pub struct SignedInForm<P: Need, T>(pub PageUser<P>, pub T);

impl<P, T> axum::extract::FromRequest<AppState> for SignedInForm<P, T>
where
    P: Need,
    T: serde::de::DeserializeOwned + crate::auth::browser::CsrfProtected + Send,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        crate::http::origin::SameOrigin::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let caller = PageUser::<P>::from_request_parts(&mut parts, state).await?;
        let urlencoded = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !urlencoded {
            return Err(PageError::BadRequest.into_response());
        }
        let req = axum::extract::Request::from_parts(parts, body);
        let bytes = <axum::body::Bytes as axum::extract::FromRequest<AppState>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // serde_html_form reads repeated fields (checkboxes) into a Vec, as browsers send them.
        let form: T =
            serde_html_form::from_bytes(&bytes).map_err(|_| PageError::BadRequest.into_response())?;
        if !crate::auth::browser::csrf_matches(state, caller.session, form.csrf()) {
            tracing::warn!("form refused: CSRF token missing or wrong");
            return Err(PageError::Forbidden.into_response());
        }
        Ok(SignedInForm(caller, form))
    }
}
