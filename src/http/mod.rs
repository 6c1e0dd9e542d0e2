//! Cross-cutting HTTP: request context (ids, client IP, access log), security headers,
//! errors (problem+json for the API, an HTML page for browsers) and the middleware stack.

pub mod client_ip;
pub mod context;
pub mod error;
pub mod headers;
pub mod json;
pub mod origin;
pub mod perimeter;
pub mod rate_limit;
pub mod request_id;

pub use context::{RequestContext, RequestId};
pub use error::{ApiError, DomainError, FieldError, PageError};

/// The most items one page of a list holds (S-DE-2).
pub const PAGE_MAX: u64 = 100;

/// A list's `limit` query parameter: absent gives `default`; outside 1 to [`PAGE_MAX`] is
/// refused (422, field `limit`) rather than quietly answered with another page size, as the
/// OpenAPI document's bounds say.
pub fn page_limit(limit: Option<u64>, default: u64) -> Result<u64, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::Validation(vec![FieldError {
            field: "limit".into(),
            code: "out_of_range",
        }])),
    }
}
