//! Errors as clients see them: RFC 9457 problem+json for `/api/`, a plain page for browsers.
//! Nothing internal reaches a client (S-MC-2): the detail of a 500 travels in a response
//! extension to the access-log middleware, which logs it with the request id.

use std::any::Any;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::request_id::current_request_id;

mod catalogue;
mod page;
mod problem;

pub use catalogue::*;
pub use page::*;
pub use problem::*;

/// Internal detail of a failed request, for the log only.
#[derive(Clone)]
pub struct ErrorDetail(pub Arc<str>);

/// The error type of JSON handlers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthorized { code: &'static str },
    #[error("forbidden")]
    Forbidden,
    /// Forbidden for a reason the caller can act on (a stable code with its own page).
    #[error("forbidden: {code}")]
    Denied { code: &'static str },
    #[error("not found")]
    NotFound,
    #[error("conflict: {code}")]
    Conflict { code: &'static str },
    /// A 409 whose reason the caller shows to a person (a step refused, and why).
    #[error("refused: {code}")]
    Refused { code: &'static str, detail: String },
    #[error("payload too large")]
    TooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("weak password")]
    WeakPassword(crate::auth::PasswordProblem),
    #[error("invalid token")]
    InvalidToken,
    #[error("second factor enrolment required")]
    MfaEnrolmentRequired,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    /// Unavailable for a while: 503 with Retry-After.
    #[error("service unavailable")]
    UnavailableFor { retry_after_secs: u64 },
    /// Any other documented problem: a status and its stable code.
    #[error("{code}")]
    Coded { status: StatusCode, code: &'static str },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(detail) => Problem::new(StatusCode::BAD_REQUEST, "bad_request")
                .with_detail(detail)
                .into_response(),
            ApiError::Validation(errors) => {
                let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                p.errors = errors;
                p.into_response()
            }
            ApiError::Unauthorized { code } => Problem::new(StatusCode::UNAUTHORIZED, code).into_response(),
            ApiError::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden").into_response(),
            ApiError::Denied { code } => Problem::new(StatusCode::FORBIDDEN, code).into_response(),
            ApiError::Coded { status, code } => Problem::new(status, code).into_response(),
            ApiError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not_found").into_response(),
            ApiError::Conflict { code } => Problem::new(StatusCode::CONFLICT, code).into_response(),
            ApiError::Refused { code, detail } => Problem::new(StatusCode::CONFLICT, code)
                .with_detail(detail)
                .into_response(),
            ApiError::WeakPassword(problem) => {
                let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password")
                    .with_detail(problem.to_string());
                p.errors = vec![FieldError {
                    field: "password".into(),
                    code: problem.code(),
                }];
                p.into_response()
            }
            ApiError::MfaEnrolmentRequired => {
                Problem::new(StatusCode::FORBIDDEN, "mfa_enrolment_required").into_response()
            }
            ApiError::InvalidToken => Problem::new(StatusCode::BAD_REQUEST, "invalid_token")
                .with_detail("the link is invalid, expired or already used")
                .into_response(),
            ApiError::UnsupportedMediaType => {
                Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").into_response()
            }
            ApiError::TooLarge => {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").into_response()
            }
            ApiError::RateLimited { retry_after_secs } => {
                let mut r = Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited").into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
                r
            }
            ApiError::Unavailable => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response()
            }
            ApiError::UnavailableFor { retry_after_secs } => {
                let mut r = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
                r
            }
            ApiError::Internal(err) => {
                let mut r = Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error").into_response();
                r.extensions_mut().insert(ErrorDetail(format!("{err:#}").into()));
                r
            }
        }
    }
}

/// A service's error whose HTTP meaning is written once, as `From<…> for ApiError` beside the
/// error. Marking it gives pages the same meaning through `From<ApiError> for PageError`, so a
/// handler writes `?` in both kinds of route.
pub trait DomainError: Into<ApiError> {}

impl<E: DomainError> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError::from(e.into())
    }
}

/// Layers and rejections (404 fallback, 405, 413 from the body limit, 503 from the timeout,
/// a caught panic) answer with bare or plain-text bodies. This gives them our error format,
/// keeping their headers (`Allow`, `Retry-After`) and extensions (the error detail).
pub async fn render_bare_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Handlers answer in a format of their choice (problem+json, a page, a probe's JSON);
    // only bodies without a type or in plain text come from layers and rejections.
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let (mut parts, _discarded_body) = response.into_parts();
    let mut rendered = if api {
        Problem::new(status, code_for_status(status)).into_response()
    } else {
        html_error(status)
    };
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in parts.headers.iter() {
        rendered.headers_mut().insert(name.clone(), value.clone());
    }
    rendered
        .extensions_mut()
        .extend(std::mem::take(&mut parts.extensions));
    rendered
}

/// A panic in a handler becomes a 500 with the panic message in the log, not the client.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    };
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response
        .extensions_mut()
        .insert(ErrorDetail(format!("handler panicked: {message}").into()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every kind of `ApiError`, with every code the services use.
    fn every_error() -> Vec<ApiError> {
        vec![
            ApiError::BadRequest("x".into()),
            ApiError::Validation(vec![]),
            ApiError::Unauthorized { code: "unauthorized" },
            ApiError::Unauthorized {
                code: "invalid_credentials",
            },
            ApiError::Unauthorized {
                code: "invalid_token",
            },
            ApiError::Unauthorized {
                code: "reauth_required",
            },
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::Conflict { code: "conflict" },
            ApiError::TooLarge,
            ApiError::UnsupportedMediaType,
            ApiError::WeakPassword(crate::auth::PasswordProblem::TooShort),
            ApiError::InvalidToken,
            ApiError::MfaEnrolmentRequired,
            ApiError::Unauthorized { code: "invalid_code" },
            ApiError::Unauthorized { code: "mfa_required" },
            ApiError::Conflict {
                code: "mfa_already_enabled",
            },
            ApiError::Conflict {
                code: "mfa_not_enrolled",
            },
            ApiError::Conflict { code: "email_taken" },
            ApiError::Conflict {
                code: "already_verified",
            },
            ApiError::Conflict { code: "own_account" },
            ApiError::Conflict {
                code: "usage_required",
            },
            ApiError::Conflict {
                code: "too_many_grants",
            },
            ApiError::Conflict {
                code: "staff_mfa_required",
            },
            ApiError::Denied {
                code: "grant_required",
            },
            ApiError::Denied {
                code: "email_unverified",
            },
            ApiError::Conflict { code: "order_exists" },
            ApiError::Conflict { code: "not_payable" },
            ApiError::Conflict { code: "wrong_state" },
            ApiError::Conflict {
                code: "already_booked",
            },
            ApiError::Conflict { code: "slot_taken" },
            ApiError::Conflict {
                code: "invalid_transition",
            },
            ApiError::Conflict { code: "offer_closed" },
            ApiError::Refused {
                code: "too_early",
                detail: "x".into(),
            },
            ApiError::Refused {
                code: "no_day",
                detail: "x".into(),
            },
            ApiError::Refused {
                code: "photos_missing",
                detail: "x".into(),
            },
            ApiError::Coded {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_signature",
            },
            ApiError::Coded {
                status: StatusCode::BAD_GATEWAY,
                code: "payment_provider_unavailable",
            },
            ApiError::RateLimited { retry_after_secs: 1 },
            ApiError::Unavailable,
            ApiError::UnavailableFor { retry_after_secs: 5 },
            ApiError::Internal(anyhow::anyhow!("x")),
        ]
    }

    #[test]
    fn every_api_error_answers_with_a_documented_code() {
        for error in every_error() {
            let response = error.into_response();
            let body = body_json(response);
            let code = body["code"].as_str().unwrap().to_owned();
            assert!(problem_kind(&code).is_some(), "{code} has no /problems page");
        }
    }

    #[test]
    fn a_page_answers_with_the_status_of_the_api() {
        for (api, page) in every_error().into_iter().zip(every_error()) {
            let what = format!("{api:?}");
            let api = api.into_response();
            let page = PageError::from(page).into_response();
            if api.status() == StatusCode::UNAUTHORIZED {
                assert_eq!(page.status(), StatusCode::SEE_OTHER, "{what}");
                assert_eq!(page.headers()[header::LOCATION], SIGN_IN_PAGE, "{what}");
            } else {
                assert_eq!(page.status(), api.status(), "{what}");
                assert_eq!(
                    page.headers().get(header::RETRY_AFTER),
                    api.headers().get(header::RETRY_AFTER),
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn a_page_logs_the_whole_chain_of_an_internal_error() {
        let cause = std::io::Error::other("disk full");
        let error = ApiError::Internal(anyhow::Error::from(cause).context("saving the photo"));
        let page = PageError::from(error).into_response();
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let detail = page
            .extensions()
            .get::<ErrorDetail>()
            .expect("the detail for the log");
        assert_eq!(&*detail.0, "saving the photo: disk full");
    }

    fn body_json(response: Response) -> serde_json::Value {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn every_status_code_maps_to_a_documented_problem() {
        for status in [
            400u16, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 502, 503, 504,
        ] {
            let code = code_for_status(StatusCode::from_u16(status).unwrap());
            assert!(
                problem_kind(code).is_some(),
                "{status} maps to undocumented {code}"
            );
        }
    }
}
