//! `ApiJson<T>`: the JSON body extractor of the API. Its rejections are problem+json, and a
//! body that does not fit the typed request (unknown field, wrong type) names the field
//! (S-IN-3, S-IT-3: request types deny unknown fields). Every request body is a JSON object,
//! as the OpenAPI document says: serde would also read a struct from an array of its fields
//! in order (`[null, 3]`), a second, undocumented shape of every request.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{ApiError, FieldError};

pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<Map<String, Value>>::from_request(req, state).await {
            Ok(axum::Json(object)) => serde_json::from_value(Value::Object(object))
                .map(Self)
                .map_err(|e| field_error(&e.to_string())),
            // Valid JSON, but not an object.
            Err(JsonRejection::JsonDataError(_)) => Err(ApiError::Validation(vec![FieldError {
                field: "body".into(),
                code: "invalid",
            }])),
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

/// The refusal of an object that does not fit the typed request: serde's message names the
/// field ("unknown field `role`", "missing field `email`"); only that name is kept, never a
/// value the client sent.
fn field_error(text: &str) -> ApiError {
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
    ApiError::Validation(vec![FieldError { field, code }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::header;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // read only by serde
    struct Patch {
        name: Option<String>,
        price_cents: Option<i64>,
    }

    async fn read(body: &'static str) -> Result<Patch, ApiError> {
        let req = Request::builder()
            .method("PATCH")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        ApiJson::<Patch>::from_request(req, &()).await.map(|ApiJson(p)| p)
    }

    fn refused_field(result: Result<Patch, ApiError>) -> (String, &'static str) {
        match result {
            Err(ApiError::Validation(fields)) => (fields[0].field.clone(), fields[0].code),
            other => panic!("expected a validation refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn only_an_object_of_known_fields_is_a_request() {
        assert!(read(r#"{"name":"Critter guard"}"#).await.is_ok());
        // serde alone would read these as the struct's fields in order.
        assert_eq!(
            refused_field(read("[null, null]").await),
            ("body".into(), "invalid")
        );
        assert_eq!(
            refused_field(read(r#"["x", 3]"#).await),
            ("body".into(), "invalid")
        );
        assert_eq!(refused_field(read("3").await), ("body".into(), "invalid"));
        assert_eq!(
            refused_field(read(r#"{"role":"admin"}"#).await),
            ("role".into(), "unknown_field")
        );
        assert_eq!(
            refused_field(read(r#"{"price_cents":"free"}"#).await).1,
            "invalid"
        );
        assert!(matches!(read("{").await, Err(ApiError::BadRequest(_))));
    }
}
