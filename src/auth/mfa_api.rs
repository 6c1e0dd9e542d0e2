//! Second-factor enrolment and removal for the signed-in user (S-AU-4, S-AU-7).

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::json::ApiJson;
use crate::http::{ApiError, RequestContext};
use crate::state::AppState;

use super::api::require_recent_auth;
use super::extract::Enrolling;
use super::mfa;
use crate::access::{Caller, Permission::OwnAccount, Routes, perm};

pub fn router() -> Routes {
    Routes::new()
        .post("/api/v1/me/mfa/totp", OwnAccount, start)
        .delete("/api/v1/me/mfa/totp", OwnAccount, remove)
        .post("/api/v1/me/mfa/totp/confirm", OwnAccount, confirm)
}

#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret, for typing into an app that cannot scan the QR code.
    secret: String,
    otpauth_uri: String,
    /// The `otpauth_uri` as an SVG QR code (rendered here; no external service sees it).
    qr_svg: String,
}

/// Start TOTP enrolment (needs re-authentication). Confirm it with a code from the app.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, body = TotpEnrolment),
        (status = 401, description = "`reauth_required`", body = crate::http::error::Problem),
        (status = 409, description = "`mfa_already_enabled`", body = crate::http::error::Problem),
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: Enrolling,
) -> Result<axum::Json<TotpEnrolment>, ApiError> {
    require_recent_auth(&state, &caller)?;
    let enrolment = mfa::start_enrolment(&state.db, caller.user).await?;
    Ok(axum::Json(TotpEnrolment {
        secret: enrolment.secret_base32,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    #[schema(value_type = String)]
    code: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once: keep them somewhere safe.
    recovery_codes: Vec<String>,
}

/// Confirm TOTP enrolment with the current code; answers the recovery codes, once.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/confirm", tag = "account", request_body = CodeBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 401, description = "`invalid_code`", body = crate::http::error::Problem),
        (status = 409, description = "`mfa_not_enrolled`", body = crate::http::error::Problem),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Enrolling,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<axum::Json<RecoveryCodes>, ApiError> {
    let codes = mfa::confirm_enrolment(
        &state.login_context(),
        caller.user,
        body.code.expose_secret(),
        caller.context(),
    )
    .await?;
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Remove the second factor (needs re-authentication; staff cannot go without one).
#[utoipa::path(delete, path = "/api/v1/me/mfa/totp", tag = "account", security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "`reauth_required`", body = crate::http::error::Problem),
        (status = 409, description = "`staff_mfa_required`: staff accounts keep their second factor", body = crate::http::error::Problem),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    ctx: RequestContext,
) -> Result<StatusCode, ApiError> {
    require_recent_auth(&state, &caller)?;
    if caller.role.is_staff() {
        return Err(ApiError::Conflict {
            code: "staff_mfa_required",
        });
    }
    mfa::remove(&state.login_context(), caller.user, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
