//! What a site error means over HTTP, once for the API and the pages.

use super::service::SiteError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<SiteError> for ApiError {
    fn from(e: SiteError) -> Self {
        match e {
            SiteError::NotFound => ApiError::NotFound,
            SiteError::Invalid(problem) => ApiError::Validation(vec![FieldError {
                field: problem.field.into(),
                code: "invalid",
            }]),
            SiteError::UnknownZip => ApiError::Validation(vec![FieldError {
                field: "postal_code".into(),
                code: "unknown",
            }]),
            SiteError::NotServed => ApiError::Validation(vec![FieldError {
                field: "postal_code".into(),
                code: "not_served",
            }]),
            // The import's own words: what is wrong with the file, for the customer to act on.
            SiteError::Import(e) => ApiError::BadRequest(e.to_string()),
            SiteError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for SiteError {}
