//! Identity routes of the JSON API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::http::json::ApiJson;
use crate::http::{ApiError, RequestContext};
use crate::state::AppState;

use super::credentials;
use super::extract::{Authenticated, Enrolling};
use super::login::{self, Client, LoginForm, LoginOutcome, SessionGrant};
use super::session::IssuedTokens;
use super::sign_out;
use super::signup::{self, SignupForm};
use crate::access::{Caller, PUBLIC, Permission::OwnAccount, Routes, perm};

pub fn router() -> Routes {
    Routes::new()
        .post("/api/v1/auth/signup", PUBLIC, signup)
        .post("/api/v1/auth/verify-email", PUBLIC, verify_email)
        .post("/api/v1/auth/verify-email/resend", PUBLIC, resend_verification)
        .post("/api/v1/auth/login", PUBLIC, login)
        .post("/api/v1/auth/login/mfa", PUBLIC, login_mfa)
        .post("/api/v1/auth/refresh", PUBLIC, refresh)
        .post("/api/v1/auth/logout", OwnAccount, logout)
        .post("/api/v1/auth/reauth", OwnAccount, reauth)
        .post("/api/v1/auth/password/forgot", PUBLIC, forgot_password)
        .post("/api/v1/auth/password/reset", PUBLIC, reset_password)
        .post("/api/v1/me/password", OwnAccount, change_password)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    /// 12 to 128 characters, not easy to guess; any Unicode.
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    name: String,
}

/// Sign up. Always 202 with `{}`, whether or not the address already has an account: a new
/// address gets a verification email, a taken one a notice to its owner.
#[utoipa::path(
    post, path = "/api/v1/auth/signup", tag = "identity", request_body = SignupBody,
    responses(
        (status = 202, description = "Accepted; check your email"),
        (status = 422, description = "Invalid field (`validation_failed`) or weak password (`weak_password`)", body = crate::http::error::Problem),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<impl IntoResponse, ApiError> {
    let form = SignupForm {
        email: body.email,
        name: body.name,
        password: body.password,
    };
    signup::sign_up(&state.signup_context(), form, &Actor::anonymous(&ctx)).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({}))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    #[schema(value_type = String)]
    token: SecretString,
}

/// Confirm an email address with the token from the verification email.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "identity", request_body = TokenBody,
    responses(
        (status = 204, description = "Verified"),
        (status = 400, description = "`invalid_token`: invalid, expired or already used", body = crate::http::error::Problem),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<StatusCode, ApiError> {
    use secrecy::ExposeSecret;
    signup::verify_email(&state.db, body.token.expose_secret(), &Actor::anonymous(&ctx)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: String,
}

/// Ask for a new verification email. Always 202; at most 3 emails per account per hour.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email/resend", tag = "identity", request_body = EmailBody,
    responses((status = 202, description = "Accepted"))
)]
pub async fn resend_verification(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<impl IntoResponse, ApiError> {
    signup::resend_verification(&state.signup_context(), &body.email).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({}))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// Shown in the session list, e.g. "Maya's phone".
    device_name: Option<String>,
    /// The `device_token` of an earlier sign-in on this device: failed attempts elsewhere
    /// then do not throttle it.
    #[schema(value_type = Option<String>)]
    device_token: Option<SecretString>,
}

/// Tokens for the API. The access token goes in `Authorization: Bearer`.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires (at most 600).
    expires_in: i64,
    /// Single use: exchange it at `/auth/refresh` for new tokens.
    refresh_token: String,
    /// Keep it on the device and send it with later sign-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    device_token: Option<String>,
}

impl TokenResponse {
    fn new(tokens: IssuedTokens, device_token: Option<String>) -> Self {
        Self {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            device_token,
        }
    }
}

fn api_tokens(grant: SessionGrant) -> Result<IssuedTokens, ApiError> {
    match grant {
        SessionGrant::Api(tokens) => Ok(tokens),
        SessionGrant::Browser { .. } => {
            Err(ApiError::Internal(anyhow::anyhow!("browser session on the API")))
        }
    }
}

/// Answer of a sign-in: tokens, or a request for the second factor.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginResponse {
    Tokens(TokenResponse),
    MfaRequired(MfaRequired),
}

#[derive(Serialize, ToSchema)]
pub struct MfaRequired {
    /// Always true.
    mfa_required: bool,
    /// Send it with the code to `/auth/login/mfa` within 5 minutes.
    mfa_token: String,
}

/// Sign in. Wrong password, unknown email and disabled account all answer 401
/// `invalid_credentials`; repeated failures answer 429 with `Retry-After`.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "identity", request_body = LoginBody,
    responses(
        (status = 200, description = "Tokens, or `{mfa_required: true, mfa_token}`", body = LoginResponse),
        (status = 401, description = "`invalid_credentials`", body = crate::http::error::Problem),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = crate::http::error::Problem),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<axum::Json<LoginResponse>, ApiError> {
    use secrecy::ExposeSecret;
    let form = LoginForm {
        email: body.email,
        password: body.password,
        device_name: body.device_name,
        device_token: body.device_token.map(|t| t.expose_secret().to_owned()),
    };
    let outcome = login::login(&state.login_context(), form, Client::Api, &ctx).await?;
    Ok(axum::Json(match outcome {
        LoginOutcome::SignedIn(success) => LoginResponse::Tokens(TokenResponse::new(
            api_tokens(success.session)?,
            Some(success.device_token),
        )),
        LoginOutcome::MfaRequired { mfa_token } => LoginResponse::MfaRequired(MfaRequired {
            mfa_required: true,
            mfa_token,
        }),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaBody {
    #[schema(value_type = String)]
    mfa_token: SecretString,
    /// The current 6-digit code of the authenticator app, or a recovery code.
    #[schema(value_type = String)]
    code: SecretString,
}

/// Finish a sign-in with the second factor. 5 wrong codes throttle the factor; a TOTP code
/// and a recovery code each work once.
#[utoipa::path(
    post, path = "/api/v1/auth/login/mfa", tag = "identity", request_body = LoginMfaBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_code` or `invalid_token`", body = crate::http::error::Problem),
        (status = 429, description = "`rate_limited`", body = crate::http::error::Problem),
    )
)]
pub async fn login_mfa(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<LoginMfaBody>,
) -> Result<axum::Json<TokenResponse>, ApiError> {
    use secrecy::ExposeSecret;
    let success = login::login_with_second_factor(
        &state.login_context(),
        body.mfa_token.expose_secret(),
        body.code.expose_secret(),
        Client::Api,
        &ctx,
    )
    .await?;
    Ok(axum::Json(TokenResponse::new(
        api_tokens(success.session)?,
        Some(success.device_token),
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    #[schema(value_type = String)]
    refresh_token: SecretString,
}

/// Exchange a refresh token for new tokens. The old refresh token is spent; presenting a
/// spent one signs out that session everywhere and emails the owner.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "identity", request_body = RefreshBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_token`", body = crate::http::error::Problem),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<axum::Json<TokenResponse>, ApiError> {
    use secrecy::ExposeSecret;
    let tokens = login::refresh(&state.login_context(), body.refresh_token.expose_secret(), &ctx).await?;
    Ok(axum::Json(TokenResponse::new(tokens, None)))
}

/// Sign out: this session's tokens stop working at once.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "identity", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = crate::http::error::Problem))
)]
pub async fn logout(State(state): State<AppState>, caller: Enrolling) -> Result<StatusCode, ApiError> {
    sign_out::sign_out(
        &state.db,
        &state.auth_cache,
        &caller.actor(),
        caller.user,
        caller.session,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthBody {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// The current TOTP or a recovery code, for accounts with a second factor.
    #[schema(value_type = Option<String>)]
    code: Option<SecretString>,
}

/// Confirm the password again: opens a 5-minute window for sensitive changes (S-AU-7).
#[utoipa::path(
    post, path = "/api/v1/auth/reauth", tag = "identity", request_body = ReauthBody, security(("bearer" = [])),
    responses(
        (status = 204, description = "Window open"),
        (status = 401, description = "`invalid_credentials`", body = crate::http::error::Problem),
        (status = 429, description = "`rate_limited`", body = crate::http::error::Problem),
    )
)]
pub async fn reauth(
    State(state): State<AppState>,
    caller: Enrolling,
    ApiJson(body): ApiJson<ReauthBody>,
) -> Result<StatusCode, ApiError> {
    credentials::reauthenticate(
        &state.login_context(),
        &caller,
        credentials::Proof {
            password: body.password,
            code: body.code,
        },
        caller.context(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 401 `reauth_required` unless the session authenticated within the window.
pub(crate) fn require_recent_auth(state: &AppState, caller: &Authenticated) -> Result<(), ApiError> {
    let window = state.settings.sessions().reauth_window;
    if credentials::within_reauth_window(caller.authenticated_at, window) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized {
            code: "reauth_required",
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    new_password: SecretString,
}

/// Change my password (needs re-authentication). Every other session ends; an email confirms.
#[utoipa::path(
    post, path = "/api/v1/me/password", tag = "account", request_body = ChangePasswordBody, security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "`reauth_required` or `invalid_credentials`", body = crate::http::error::Problem),
        (status = 422, description = "`weak_password`", body = crate::http::error::Problem),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller<perm::OwnAccount>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<StatusCode, ApiError> {
    require_recent_auth(&state, &caller)?;
    credentials::change_password(
        &state.login_context(),
        caller.user,
        caller.session,
        body.current_password,
        body.new_password,
        &ctx,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a password-reset link. Always 202 `{}`; at most 3 links per account per hour.
#[utoipa::path(
    post, path = "/api/v1/auth/password/forgot", tag = "identity", request_body = EmailBody,
    responses((status = 202, description = "Accepted"))
)]
pub async fn forgot_password(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<impl IntoResponse, ApiError> {
    let ttl = state.settings.links().email_token;
    credentials::request_reset(&state.login_context(), &body.email, ttl, &ctx).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({}))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    #[schema(value_type = String)]
    token: SecretString,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Set a new password with the emailed token. Signs nobody in; every session ends.
#[utoipa::path(
    post, path = "/api/v1/auth/password/reset", tag = "identity", request_body = ResetBody,
    responses(
        (status = 204, description = "Password set"),
        (status = 400, description = "`invalid_token`", body = crate::http::error::Problem),
        (status = 422, description = "`weak_password`", body = crate::http::error::Problem),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<StatusCode, ApiError> {
    use secrecy::ExposeSecret;
    credentials::reset_password(
        &state.login_context(),
        body.token.expose_secret(),
        body.password,
        &ctx,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
