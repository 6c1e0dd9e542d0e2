//! Errors as a browser sees them: the HTML error page and `PageError`, which shows every
//! domain error with the status the API gives it.

use super::*;

#[derive(Template)]
#[template(path = "error.html")]
pub(super) struct ErrorPage<'a> {
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
