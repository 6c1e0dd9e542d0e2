//! What a support error means over HTTP, once for the API and the pages.

use super::service::SupportError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<SupportError> for ApiError {
    fn from(e: SupportError) -> Self {
        match e {
            SupportError::NotFound => ApiError::NotFound,
            SupportError::QueryTooShort => ApiError::Validation(vec![FieldError {
                field: "query".into(),
                code: "too_short",
            }]),
            SupportError::AlreadyVerified => ApiError::Conflict {
                code: "already_verified",
            },
            // Confirmation emails are counted per hour.
            SupportError::RateLimited => ApiError::RateLimited {
                retry_after_secs: 3600,
            },
            SupportError::TooManyGrants => ApiError::Conflict {
                code: "too_many_grants",
            },
            SupportError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for SupportError {}
