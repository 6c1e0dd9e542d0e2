//! The OpenAPI 3.1 description mobile clients generate their SDKs from, built from the
//! handlers' annotations. Every API route adds itself to `ApiDoc`.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sunbridge API",
        version = "1",
        description = "JSON API of the Sunbridge solar marketplace. Errors are RFC 9457 \
            problem+json with a stable `code`; see `/problems/{code}` for each code."
    ),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        openapi_json,
        crate::auth::api::signup,
        crate::auth::api::verify_email,
        crate::auth::api::resend_verification,
    ),
    components(schemas(crate::http::error::Problem, crate::http::error::FieldError, crate::health::Health)),
    tags((name = "health", description = "Probes for load balancers and orchestrators"),
         (name = "identity", description = "Sign-up, verification, sign-in and sessions"),
         (name = "meta", description = "This description"))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
