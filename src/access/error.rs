//! What a grant error means over HTTP, once for the API and the pages.

use super::grants::GrantError;
use crate::http::{ApiError, DomainError};

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::NotFound => ApiError::NotFound,
            GrantError::TooMany => ApiError::Conflict {
                code: "too_many_grants",
            },
            GrantError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for GrantError {}
