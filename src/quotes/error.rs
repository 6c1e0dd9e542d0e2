//! What a quote error means over HTTP, once for the API and the pages.

use super::service::QuoteError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<QuoteError> for ApiError {
    fn from(e: QuoteError) -> Self {
        match e {
            QuoteError::NotFound => ApiError::NotFound,
            QuoteError::UsageRequired => ApiError::Conflict {
                code: "usage_required",
            },
            QuoteError::Invalid(field) => ApiError::Validation(vec![FieldError {
                field: field.into(),
                code: "invalid",
            }]),
            QuoteError::Calc(e) => ApiError::BadRequest(e.to_string()),
            QuoteError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for QuoteError {}
