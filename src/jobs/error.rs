//! What job, photo and rating errors mean over HTTP, once for the API and the pages.

use super::lifecycle::StepRefused;
use super::photos::PhotoError;
use super::rating::RateError;
use super::service::JobError;
use crate::crews::ratings::RatingError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        let detail = e.to_string();
        match e {
            JobError::NotFound => ApiError::NotFound,
            JobError::Refused(StepRefused::NoSuchStep { .. }) => ApiError::Conflict {
                code: "invalid_transition",
            },
            JobError::Refused(StepRefused::NotYours(_)) => ApiError::Forbidden,
            JobError::Conflict => ApiError::Conflict { code: "conflict" },
            JobError::InvalidNote => ApiError::Validation(vec![FieldError {
                field: "note".into(),
                code: "invalid",
            }]),
            JobError::TooEarly { .. } => ApiError::Refused {
                code: "too_early",
                detail: detail.clone(),
            },
            JobError::NoDay(_) => ApiError::Refused {
                code: "no_day",
                detail: detail.clone(),
            },
            JobError::PhotosMissing(_) => ApiError::Refused {
                code: "photos_missing",
                detail: detail.clone(),
            },
            JobError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for JobError {}

impl From<PhotoError> for ApiError {
    fn from(e: PhotoError) -> Self {
        match e {
            PhotoError::NotAnImage | PhotoError::TooManyPixels => ApiError::BadRequest(e.to_string()),
            PhotoError::TooLarge(_) => ApiError::TooLarge,
            PhotoError::WrongState | PhotoError::TooMany => ApiError::Conflict { code: "conflict" },
            PhotoError::NotFound => ApiError::NotFound,
            PhotoError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for PhotoError {}

impl From<RateError> for ApiError {
    fn from(e: RateError) -> Self {
        let detail = e.to_string();
        match e {
            RateError::NotFound => ApiError::NotFound,
            RateError::NotInstalled => ApiError::Refused {
                code: "not_installed",
                detail,
            },
            RateError::Rating(RatingError::Invalid(field)) => ApiError::Validation(vec![FieldError {
                field: field.into(),
                code: "invalid",
            }]),
            RateError::Rating(RatingError::Closed) => ApiError::Refused {
                code: "rating_closed",
                detail,
            },
            RateError::Rating(RatingError::Conflict) => ApiError::Conflict { code: "conflict" },
            RateError::Rating(RatingError::Internal(e)) | RateError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for RateError {}
