//! What an order error means over HTTP, once for the API and the pages.

use super::service::OrderError;
use crate::http::{ApiError, DomainError};

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::NotFound => ApiError::NotFound,
            OrderError::EmailUnverified => ApiError::Denied {
                code: "email_unverified",
            },
            OrderError::AlreadyOrdered => ApiError::Conflict { code: "order_exists" },
            OrderError::QuoteExpired => ApiError::Conflict {
                code: "quote_expired",
            },
            OrderError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for OrderError {}
