//! What a crew error means over HTTP, once for the API and the pages.

use super::service::CrewError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<CrewError> for ApiError {
    fn from(e: CrewError) -> Self {
        match e {
            CrewError::NotFound => ApiError::NotFound,
            CrewError::Invalid(problem) => ApiError::Validation(vec![FieldError {
                field: problem.0.into(),
                code: "invalid",
            }]),
            CrewError::NotAnInstaller => ApiError::Validation(vec![FieldError {
                field: "user_id".into(),
                code: "not_an_installer",
            }]),
            CrewError::InAnotherCrew => ApiError::Conflict { code: "conflict" },
            CrewError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for CrewError {}
