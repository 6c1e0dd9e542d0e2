//! Identity routes of the JSON API.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use chrono::TimeDelta;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::http::json::ApiJson;
use crate::http::{ApiError, FieldError, RequestContext};
use crate::startup::AppState;

use super::signup::{self, SignupContext, SignupError, SignupForm, VerifyError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/signup", post(signup))
        .route("/api/v1/auth/verify-email", post(verify_email))
        .route("/api/v1/auth/verify-email/resend", post(resend_verification))
}

pub(crate) fn signup_context(state: &AppState) -> SignupContext<'_> {
    SignupContext {
        db: &state.db,
        hasher: &state.hasher,
        mailer: &state.mailer,
        public_url: &state.settings.public_url,
        token_ttl: TimeDelta::seconds(state.settings.email_token_ttl_secs as i64),
    }
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
    match signup::sign_up(&signup_context(&state), form, &Actor::anonymous(&ctx)).await {
        Ok(()) => Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({})))),
        Err(SignupError::Invalid(fields)) => Err(ApiError::Validation(
            fields
                .into_iter()
                .map(|(field, code, _)| FieldError {
                    field: field.into(),
                    code,
                })
                .collect(),
        )),
        Err(SignupError::WeakPassword(problem)) => Err(ApiError::WeakPassword(problem)),
        Err(SignupError::Internal(e)) => Err(ApiError::Internal(e)),
    }
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
    match signup::verify_email(&state.db, body.token.expose_secret(), &Actor::anonymous(&ctx)).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(VerifyError::InvalidToken) => Err(ApiError::InvalidToken),
        Err(VerifyError::Internal(e)) => Err(ApiError::Internal(e)),
    }
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
    signup::resend_verification(&signup_context(&state), &body.email).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({}))))
}
