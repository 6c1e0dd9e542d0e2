//! What a catalog error means over HTTP, once for the API and the pages.

use super::admin::CatalogError;
use crate::http::{ApiError, DomainError, FieldError};

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::NotFound => ApiError::NotFound,
            CatalogError::Exists
            | CatalogError::HolidayExists
            | CatalogError::WeatherExists
            | CatalogError::TooManyWeatherFiles => ApiError::Conflict { code: "conflict" },
            // The parser's own words: the line and column to fix.
            CatalogError::Weather(_) | CatalogError::WeatherNotText => ApiError::BadRequest(e.to_string()),
            CatalogError::Invalid(field) => ApiError::Validation(vec![FieldError {
                field: field.into(),
                code: "invalid",
            }]),
            CatalogError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl DomainError for CatalogError {}
