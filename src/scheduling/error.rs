//! What offer and booking errors mean over HTTP, once for the API and the pages.

use super::booking::BookingError;
use super::dispatch::OfferError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<OfferError> for ApiError {
    fn from(e: OfferError) -> Self {
        match e {
            OfferError::NotFound => ApiError::NotFound,
            OfferError::Closed => ApiError::Conflict { code: "offer_closed" },
            OfferError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for OfferError {}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::WrongState(_) => ApiError::Conflict { code: "wrong_state" },
            BookingError::AlreadyBooked(_) => ApiError::Conflict {
                code: "already_booked",
            },
            BookingError::OutOfWindow | BookingError::UnknownSlot | BookingError::Holiday => {
                ApiError::Validation(vec![FieldError {
                    field: "slot_id".into(),
                    code: "invalid",
                }])
            }
            BookingError::Taken => ApiError::Conflict { code: "slot_taken" },
            BookingError::NotFound => ApiError::NotFound,
            BookingError::NotMovable => ApiError::Conflict { code: "not_movable" },
            BookingError::TooLate => ApiError::Conflict { code: "too_late" },
            BookingError::Changed => ApiError::Conflict {
                code: "booking_changed",
            },
            BookingError::SameSlot => ApiError::Validation(vec![FieldError {
                field: "slot_id".into(),
                code: "unchanged",
            }]),
            BookingError::Reason => ApiError::Validation(vec![FieldError {
                field: "reason".into(),
                code: "length",
            }]),
            BookingError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for BookingError {}
