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

/// Internal detail of a failed request, for the log only.
#[derive(Clone)]
pub struct ErrorDetail(pub Arc<str>);

/// A stable, documented problem code and its human wording.
pub struct ProblemKind {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

/// Every problem code the API answers with; each has a page at `/problems/{code}`.
pub const PROBLEMS: &[ProblemKind] = &[
    ProblemKind {
        code: "bad_request",
        title: "Bad request",
        explanation: "The request could not be understood. Check its syntax and content type.",
    },
    ProblemKind {
        code: "validation_failed",
        title: "Validation failed",
        explanation: "Some fields are missing or invalid; `errors` lists each field with a code.",
    },
    ProblemKind {
        code: "weak_password",
        title: "Password too weak",
        explanation: "Choose 12 to 128 characters that are hard to guess and do not contain your name, your email or the service's name; `detail` says what to change.",
    },
    ProblemKind {
        code: "invalid_token",
        title: "Invalid or expired token",
        explanation: "The token is wrong, expired or already used. Ask for a new one (a new email, or sign in again).",
    },
    ProblemKind {
        code: "invalid_code",
        title: "Wrong code",
        explanation: "The authenticator or recovery code is wrong or was already used. Repeated failures are throttled.",
    },
    ProblemKind {
        code: "mfa_required",
        title: "Second factor required",
        explanation: "This account has two-step sign-in: send the current code from the authenticator app (or a recovery code).",
    },
    ProblemKind {
        code: "mfa_enrolment_required",
        title: "Set up two-step sign-in first",
        explanation: "Staff accounts must enrol a second factor before they can do anything else: use `/me/mfa/totp`.",
    },
    ProblemKind {
        code: "mfa_already_enabled",
        title: "Two-step sign-in is already on",
        explanation: "Remove the current second factor before enrolling a new one.",
    },
    ProblemKind {
        code: "mfa_not_enrolled",
        title: "No two-step sign-in to confirm or remove",
        explanation: "Start enrolment with `POST /me/mfa/totp` first.",
    },
    ProblemKind {
        code: "email_taken",
        title: "Email address in use",
        explanation: "Another account uses that email address.",
    },
    ProblemKind {
        code: "invalid_credentials",
        title: "Wrong email or password",
        explanation: "The email and password do not match an active account. Repeated failures are throttled.",
    },
    ProblemKind {
        code: "reauth_required",
        title: "Confirm your password",
        explanation: "This change needs a recent sign-in: call `/auth/reauth` with your password, then retry within 5 minutes.",
    },
    ProblemKind {
        code: "unauthorized",
        title: "Authentication required",
        explanation: "Send a valid access token in the Authorization header.",
    },
    ProblemKind {
        code: "forbidden",
        title: "Forbidden",
        explanation: "Your account is not allowed to do this.",
    },
    ProblemKind {
        code: "already_verified",
        title: "Already confirmed",
        explanation: "This account's email address is already confirmed; no new link is needed.",
    },
    ProblemKind {
        code: "too_many_grants",
        title: "Too many customers open",
        explanation: "You hold 10 open grants to customers' personal data; close one before opening another.",
    },
    ProblemKind {
        code: "usage_required",
        title: "Usage needed first",
        explanation: "A quote is sized from the home's electricity usage: import a Green Button file or type your yearly usage first.",
    },
    ProblemKind {
        code: "own_account",
        title: "Not on your own account",
        explanation: "Administrators cannot change their own role or disable themselves; ask another administrator.",
    },
    ProblemKind {
        code: "staff_mfa_required",
        title: "Staff keep their second factor",
        explanation: "Staff accounts must always have a second factor; set up a new one instead of removing it.",
    },
    ProblemKind {
        code: "grant_required",
        title: "Open the customer data first",
        explanation: "Staff see a customer's personal data (address, phone, photos of the home) only through a live grant: open the customer with a reason (`POST /staff/customers/{id}/access`), then retry.",
    },
    ProblemKind {
        code: "email_unverified",
        title: "Confirm your email address first",
        explanation: "Ordering needs a confirmed email address: use the link we sent, or ask for a new one with `POST /auth/verify-email/resend`.",
    },
    ProblemKind {
        code: "order_exists",
        title: "An order is in progress",
        explanation: "This home has an order that is not cancelled; follow it, or cancel it before accepting another quote.",
    },
    ProblemKind {
        code: "not_payable",
        title: "No deposit to pay",
        explanation: "The deposit is paid already, or the order no longer takes one (it was cancelled).",
    },
    ProblemKind {
        code: "payment_provider_unavailable",
        title: "Payment provider unavailable",
        explanation: "The payment provider could not start a checkout. Nothing was charged; try again in a few minutes.",
    },
    ProblemKind {
        code: "invalid_signature",
        title: "Webhook refused",
        explanation: "The webhook's signature is missing, wrong or too old (more than 5 minutes), or its amount differs from what was asked for.",
    },
    ProblemKind {
        code: "wrong_state",
        title: "Not at this step",
        explanation: "The job is not at the step this needs: a survey is booked after the deposit, an installation after the permit.",
    },
    ProblemKind {
        code: "already_booked",
        title: "Already booked",
        explanation: "This job has a day of that kind booked already; its crew's answer is pending or confirmed.",
    },
    ProblemKind {
        code: "slot_taken",
        title: "That day is taken",
        explanation: "No crew has room left on that day: list the free days again and pick another.",
    },
    ProblemKind {
        code: "invalid_transition",
        title: "Not a next step",
        explanation: "A job moves one step at a time, along the lifecycle; this step does not follow the job's current state.",
    },
    ProblemKind {
        code: "offer_closed",
        title: "The offer is closed",
        explanation: "The offer was answered, expired or withdrawn; it may have moved to another crew.",
    },
    ProblemKind {
        code: "not_found",
        title: "Not found",
        explanation: "There is nothing here, or you are not allowed to see it.",
    },
    ProblemKind {
        code: "method_not_allowed",
        title: "Method not allowed",
        explanation: "This resource does not accept that HTTP method.",
    },
    ProblemKind {
        code: "conflict",
        title: "Conflict",
        explanation: "The request conflicts with the current state of the resource.",
    },
    ProblemKind {
        code: "payload_too_large",
        title: "Request too large",
        explanation: "The request body is larger than this endpoint accepts.",
    },
    ProblemKind {
        code: "unsupported_media_type",
        title: "Unsupported media type",
        explanation: "Send `application/json` (or `multipart/form-data` for uploads).",
    },
    ProblemKind {
        code: "rate_limited",
        title: "Too many requests",
        explanation: "Wait for the number of seconds in `Retry-After`, then try again.",
    },
    ProblemKind {
        code: "internal_error",
        title: "Something went wrong on our side",
        explanation: "The error was logged with the request id; quote it if you contact support.",
    },
    ProblemKind {
        code: "unavailable",
        title: "Service unavailable",
        explanation: "The service is busy or a dependency is down; try again shortly.",
    },
];

pub fn problem_kind(code: &str) -> Option<&'static ProblemKind> {
    PROBLEMS.iter().find(|p| p.code == code)
}

fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() && s != StatusCode::INTERNAL_SERVER_ERROR => "unavailable",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}

/// One invalid field of a request body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

/// RFC 9457 problem details, with the request id and a stable `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str) -> Self {
        let title = problem_kind(code).map(|k| k.title).unwrap_or("Error");
        Self {
            kind: format!("/problems/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            request_id: current_request_id().map(|id| id.to_string()),
            detail: None,
            errors: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(&self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

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

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    request_id: Option<String>,
    nav: crate::web::Nav,
}

/// Where a browser without a session (or without the credential a step needs) is sent.
pub const SIGN_IN_PAGE: &str = "/login";

/// The error type of HTML handlers.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("bad request")]
    BadRequest,
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// What the API answers with 401: a browser goes to the sign-in page instead.
    #[error("sign-in required")]
    SignInRequired,
    /// Any other status a domain error can mean, on the plain error page.
    #[error("{0}")]
    Status(StatusCode),
    /// A refusal that ends after a wait (429, 503), with `Retry-After` as the API sends it.
    #[error("{status}, retry after {retry_after_secs} s")]
    RetryAfter {
        status: StatusCode,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::BadRequest => html_error(StatusCode::BAD_REQUEST),
            PageError::NotFound => html_error(StatusCode::NOT_FOUND),
            PageError::Forbidden => html_error(StatusCode::FORBIDDEN),
            PageError::SignInRequired => Redirect::to(SIGN_IN_PAGE).into_response(),
            PageError::Status(status) => html_error(status),
            PageError::RetryAfter {
                status,
                retry_after_secs,
            } => {
                let mut r = html_error(status);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
                r
            }
            PageError::Internal(err) => {
                let mut r = html_error(StatusCode::INTERNAL_SERVER_ERROR);
                r.extensions_mut().insert(ErrorDetail(format!("{err:#}").into()));
                r
            }
        }
    }
}

/// A page shows the status the API gives the same error, so the two never disagree. No arm
/// is a catch-all: a new `ApiError` variant must be given its page here.
impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(_) | ApiError::InvalidToken => PageError::BadRequest,
            ApiError::Validation(_) | ApiError::WeakPassword(_) => {
                PageError::Status(StatusCode::UNPROCESSABLE_ENTITY)
            }
            ApiError::Unauthorized { .. } => PageError::SignInRequired,
            // A staff account without a second factor is refused every page but its account
            // page, as the page extractor does.
            ApiError::Forbidden | ApiError::Denied { .. } | ApiError::MfaEnrolmentRequired => {
                PageError::Forbidden
            }
            ApiError::NotFound => PageError::NotFound,
            ApiError::Conflict { .. } => PageError::Status(StatusCode::CONFLICT),
            ApiError::TooLarge => PageError::Status(StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::UnsupportedMediaType => PageError::Status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ApiError::RateLimited { retry_after_secs } => PageError::RetryAfter {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after_secs,
            },
            ApiError::Unavailable => PageError::Status(StatusCode::SERVICE_UNAVAILABLE),
            ApiError::UnavailableFor { retry_after_secs } => PageError::RetryAfter {
                status: StatusCode::SERVICE_UNAVAILABLE,
                retry_after_secs,
            },
            ApiError::Coded { status, .. } => PageError::Status(status),
            ApiError::Internal(e) => PageError::Internal(e),
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

pub fn html_error(status: StatusCode) -> Response {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            "There is nothing at this address. Check the link, or start again from the home page.",
        ),
        StatusCode::FORBIDDEN => ("Not allowed", "Your account cannot open this page."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Too large", "What you sent is larger than this page accepts."),
        StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", "Please wait a moment, then try again."),
        s if s.is_server_error() => (
            "Something went wrong",
            "We could not complete your request. The problem was logged; if it persists, contact support and quote the reference below.",
        ),
        _ => (
            "That did not work",
            "The request could not be handled. Go back and try again.",
        ),
    };
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message,
        request_id: current_request_id().map(|id| id.to_string()),
        nav: crate::web::Nav::default(),
    };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        // Rendering a static template cannot fail in practice; keep a text fallback anyway.
        Err(_) => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            title,
        )
            .into_response(),
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
