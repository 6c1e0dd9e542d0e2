//! `IdPath<T>`: the id a route takes from its one path parameter (`/orders/{id}`), parsed into
//! its typed id. An id that does not parse names nothing, so it is answered like an id that is
//! not there: 404, as problem+json on the API and as the error page everywhere else.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, PageError};

pub struct IdPath<T>(pub T);

impl<T, S> FromRequestParts<S> for IdPath<T>
where
    T: FromStr + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A parameter that is not even text (bad percent-encoding) keeps axum's own 400.
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        raw.parse().map(IdPath).map_err(|_| not_found(parts))
    }
}

/// Two typed ids from a route's two path parameters (`/orders/{id}/bookings/{booking}`), with
/// the same answer when either does not parse.
pub struct IdPaths<A, B>(pub A, pub B);

impl<A, B, S> FromRequestParts<S> for IdPaths<A, B>
where
    A: FromStr + Send,
    B: FromStr + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((a, b)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) => Ok(IdPaths(a, b)),
            _ => Err(not_found(parts)),
        }
    }
}

fn not_found(parts: &Parts) -> Response {
    if parts.uri.path().starts_with("/api/") {
        ApiError::NotFound.into_response()
    } else {
        PageError::NotFound.into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{Request, StatusCode, header};

    use super::*;

    fn refusal(path: &str) -> (StatusCode, String) {
        let (parts, ()) = Request::get(path).body(()).unwrap().into_parts();
        let response = not_found(&parts);
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        (response.status(), content_type)
    }

    #[test]
    fn a_malformed_id_is_not_found_in_the_format_of_its_side() {
        assert_eq!(
            refusal("/api/v1/orders/not-an-id"),
            (StatusCode::NOT_FOUND, "application/problem+json".to_owned())
        );
        let (status, content_type) = refusal("/orders/not-an-id");
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(content_type.starts_with("text/html"), "{content_type}");
    }
}
