//! Cross-cutting HTTP: request context (ids, client IP, access log), security headers,
//! errors (problem+json for the API, an HTML page for browsers) and the middleware stack.

pub mod client_ip;
pub mod context;
pub mod error;
pub mod headers;
pub mod id_path;
pub mod json;
pub mod origin;
pub mod perimeter;
pub mod rate_limit;
pub mod request_id;

pub use context::{RequestContext, RequestId};
pub use error::{ApiError, DomainError, FieldError, PageError};
pub use id_path::{IdPath, IdPaths};

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

/// The query of a list kept in id order (ids are UUID v7, so id order is creation order):
/// `limit` (1 to [`PAGE_MAX`]) and the `next_cursor` of the previous page.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// At most 100 (the default).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, and the id the page continues from (a cursor that is not one is 400).
    pub fn parse<T: std::str::FromStr>(&self) -> Result<(u64, Option<T>), ApiError> {
        let limit = page_limit(self.limit, PAGE_MAX)?;
        let from = match &self.cursor {
            Some(c) => Some(
                c.parse()
                    .map_err(|_| ApiError::BadRequest("invalid cursor".into()))?,
            ),
            None => None,
        };
        Ok((limit, from))
    }
}

/// Cuts `rows`, read with one more than `limit`, to the page, and names where the next page
/// continues (`None` on the last page).
pub fn next_page<T, C: std::fmt::Display>(
    rows: &mut Vec<T>,
    limit: u64,
    cursor_of: impl Fn(&T) -> C,
) -> Option<String> {
    if rows.len() as u64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|r| cursor_of(r).to_string())
}
