//! Errors as a browser sees them: the HTML error page and `PageError`, which shows every
//! domain error with the status the API gives it.

use super::*;

#[derive(Template)]
#[template(path = "error.html")]
pub(super) struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    /// What limit was passed (the 413 page says it).
    limit: Option<String>,
    request_id: Option<String>,
    nav: crate::web::Nav,
    /// A page of ours the user came from, to go back to.
    back: Option<String>,
    /// Where the user's own pages start (the home page when signed out).
    start: &'static str,
}

/// Marks an error page drawn without knowing who asked: the layer that knows the request
/// (`web::error_pages`) draws it again with the signed-in navigation and a way back.
#[derive(Clone, Copy, Debug)]
pub struct PlainErrorPage(pub StatusCode);

/// The body limit a 413 passed, in bytes: set by the route table's guard, said on the page.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// What an error page shows when the request behind it is known.
pub struct ErrorPageView {
    pub nav: crate::web::Nav,
    pub back: Option<String>,
    pub start: &'static str,
    pub limit: Option<BodyLimit>,
}

impl Default for ErrorPageView {
    fn default() -> Self {
        Self {
            nav: crate::web::Nav::default(),
            back: None,
            start: "/",
            limit: None,
        }
    }
}

/// `bytes` as people read sizes: "20 MB", "512 KB".
pub fn readable_size(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        if tenths.is_multiple_of(10) {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Where a browser without a session (or without the credential a step needs) is sent.
pub const SIGN_IN_PAGE: &str = "/login";

/// Where a signed-in person starts when no page was asked for (`web::start` sends each role
/// on to its next step).
pub const START_PAGE: &str = "/start";

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
            ApiError::Conflict { .. } | ApiError::Refused { .. } => PageError::Status(StatusCode::CONFLICT),
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
    let mut response = html_error_with(status, ErrorPageView::default());
    response.extensions_mut().insert(PlainErrorPage(status));
    response
}

/// The error page for `status`, with what is known of the request.
pub fn html_error_with(status: StatusCode, view: ErrorPageView) -> Response {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            "There is nothing at this address. Check the link, or start again from the home page.",
        ),
        StatusCode::FORBIDDEN => ("Not allowed", "Your account cannot open this page."),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "Too large",
            "What you sent is larger than this page accepts. Nothing was saved.",
        ),
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
        limit: view
            .limit
            .filter(|_| status == StatusCode::PAYLOAD_TOO_LARGE)
            .map(|l| readable_size(l.0)),
        request_id: current_request_id().map(|id| id.to_string()),
        nav: view.nav,
        back: view.back,
        start: view.start,
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

#[cfg(test)]
mod tests {
    use super::readable_size;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(readable_size(20 * 1024 * 1024), "20 MB");
        assert_eq!(readable_size(1024 * 1024 * 3 / 2), "1.5 MB");
        assert_eq!(readable_size(64 * 1024), "64 KB");
        assert_eq!(readable_size(1000), "1 KB");
    }
}
