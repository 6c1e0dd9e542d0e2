//! What a staff-administration error means over HTTP, once for the API and the pages.

use super::service::StaffError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::NotFound => ApiError::NotFound,
            StaffError::EmailTaken => ApiError::Conflict { code: "email_taken" },
            StaffError::NotAStaffRole => ApiError::Validation(vec![FieldError {
                field: "role".into(),
                code: "invalid",
            }]),
            StaffError::OwnAccount => ApiError::Conflict { code: "own_account" },
            StaffError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for StaffError {}
