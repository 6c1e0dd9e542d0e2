//! What a webhook-endpoint error means over HTTP, once for the API and the pages.

use super::WebhookError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::NotFound => ApiError::NotFound,
            WebhookError::InvalidUrl => ApiError::Validation(vec![FieldError {
                field: "url".into(),
                code: "invalid",
            }]),
            WebhookError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for WebhookError {}
