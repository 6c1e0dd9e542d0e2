//! What payment errors mean over HTTP, once for the API and the pages.

use axum::http::StatusCode;

use super::service::{PaymentError, WebhookError};
use crate::http::{ApiError, DomainError};

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::NotPayable => ApiError::Conflict { code: "not_payable" },
            PaymentError::Provider(e) => {
                // The client hears only that the provider is down; the reason is for the log.
                tracing::error!(error = %e, "payment provider failed to start a checkout");
                ApiError::Coded {
                    status: StatusCode::BAD_GATEWAY,
                    code: "payment_provider_unavailable",
                }
            }
            PaymentError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for PaymentError {}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            // One answer for every refusal: the sender learns nothing about which check failed.
            WebhookError::Signature(_)
            | WebhookError::Malformed
            | WebhookError::UnknownCheckout
            | WebhookError::AmountMismatch => ApiError::Coded {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_signature",
            },
            WebhookError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for WebhookError {}
