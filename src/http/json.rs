//! `ApiJson<T>`: the JSON body extractor of the API. Its rejections are problem+json, and a
//! body that does not fit the typed request (unknown field, wrong type) names the field
//! (S-IN-3, S-IT-3: request types deny unknown fields).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};

pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(err)) => {
                // serde's message names the field ("unknown field `role`", "missing field `email`").
                let text = err.body_text();
                // Only a field name from the message, never a value the client sent.
                let field = text
                    .split('`')
                    .nth(1)
                    .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|f| f.len() <= 64)
                    .unwrap_or("body")
                    .to_owned();
                let code = if text.contains("unknown field") {
                    "unknown_field"
                } else if text.contains("missing field") {
                    "required"
                } else {
                    "invalid"
                };
                Err(ApiError::Validation(vec![FieldError { field, code }]))
            }
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(ApiError::BadRequest("the body is not valid JSON".into()))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::BadRequest("send the body as application/json".into()))
            }
            Err(JsonRejection::BytesRejection(err)) if err.status().as_u16() == 413 => {
                Err(ApiError::TooLarge)
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}
