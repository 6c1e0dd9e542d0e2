//! Sites and usage in the JSON API (customers, their own sites only).

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::SiteForm;
use super::service::{self, Site, UsageInput, UsageSummary};
use crate::access::{Caller, Permission, Routes, perm};
use crate::http::json::ApiJson;
use crate::http::{ApiError, FieldError, IdPath};
use crate::ids::SiteId;
use crate::state::AppState;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/v1/sites", Permission::OwnSites, create)
        .get("/api/v1/sites", Permission::OwnSites, list)
        .get("/api/v1/sites/{id}", Permission::OwnSites, show)
        .put(
            "/api/v1/sites/{id}/access-notes",
            Permission::OwnSites,
            access_notes,
        )
        .upload("/api/v1/sites/{id}/usage", Permission::OwnSites, import_usage)
        .get("/api/v1/sites/{id}/usage", Permission::OwnSites, usage)
        .get("/api/v1/zip-codes/{zip}", crate::access::PUBLIC, zip_code)
}

/// Where a ZIP code is and which region serves it, before a home is added: a known ZIP code
/// answers its place and region (`served: false` and no region where we do not serve yet); a
/// malformed or unknown one is a 422 on `postal_code`.
#[utoipa::path(get, path = "/api/v1/zip-codes/{zip}", tag = "sites",
    params(("zip" = String, Path, description = "A five-digit ZIP code (ZIP+4 is accepted)")),
    responses((status = 200, body = service::ZipPlace), (status = 422, body = crate::http::error::Problem)))]
pub async fn zip_code(
    State(state): State<AppState>,
    axum::extract::Path(zip): axum::extract::Path<String>,
) -> Result<axum::Json<service::ZipPlace>, ApiError> {
    Ok(axum::Json(service::look_up_zip(&state.db, &zip).await?))
}

/// Record a home: address, location, roof facts, utility region.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", request_body = SiteForm, security(("bearer" = [])),
    responses((status = 201, body = Site), (status = 422, body = crate::http::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    ApiJson(form): ApiJson<SiteForm>,
) -> Result<(StatusCode, axum::Json<Site>), ApiError> {
    let actor = caller.actor();
    let site = service::create(&state.db, &actor, caller.user, form).await?;
    Ok((StatusCode::CREATED, axum::Json(site)))
}

#[derive(Serialize, ToSchema)]
pub struct SiteList {
    items: Vec<Site>,
    /// Where the next page starts (`cursor`); absent on the last page.
    next_cursor: Option<String>,
}

/// My sites, oldest first.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", params(crate::http::PageQuery), security(("bearer" = [])),
    responses((status = 200, body = SiteList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    Query(page): Query<crate::http::PageQuery>,
) -> Result<axum::Json<SiteList>, ApiError> {
    let (limit, after) = page.parse()?;
    let mut items = service::list_own(&state.db, caller.user, after, limit + 1).await?;
    let next_cursor = crate::http::next_page(&mut items, limit, |s| s.id);
    Ok(axum::Json(SiteList { items, next_cursor }))
}

/// One of my sites (someone else's answers 404).
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "sites",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Site), (status = 404, body = crate::http::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    IdPath(id): IdPath<SiteId>,
) -> Result<axum::Json<Site>, ApiError> {
    let actor = caller.actor();
    let site = service::own(&state.db, &actor, caller.user, id).await?;
    Ok(axum::Json(site))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessNotes {
    /// Gate code, dog, where to park: at most 500 characters; empty clears them. Shown only to
    /// the crew assigned to the home's job.
    pub access_notes: String,
}

/// Set the notes the crew reads before coming to one of my homes.
#[utoipa::path(put, path = "/api/v1/sites/{id}/access-notes", tag = "sites",
    params(("id" = String, Path)), request_body = AccessNotes, security(("bearer" = [])),
    responses((status = 200, body = Site), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn access_notes(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    IdPath(id): IdPath<SiteId>,
    ApiJson(body): ApiJson<AccessNotes>,
) -> Result<axum::Json<Site>, ApiError> {
    let actor = caller.actor();
    let site = service::set_access_notes(&state.db, &actor, caller.user, id, &body.access_notes).await?;
    Ok(axum::Json(site))
}

/// Typed-in usage: one annual figure or twelve monthly ones (January first).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypedUsage {
    annual_kwh: Option<f64>,
    monthly_kwh: Option<Vec<f64>>,
}

/// Import usage: a Green Button file (`multipart/form-data` with the file in a part named
/// `file`, or the raw file as `application/xml`; at most 20 MB) or typed figures
/// (`application/json`). The answer says what was understood: period, interval, totals, the
/// year the quote will use, and every estimate made.
#[utoipa::path(post, path = "/api/v1/sites/{id}/usage", tag = "sites",
    params(("id" = String, Path)), security(("bearer" = [])),
    request_body(content(
        (TypedUsage = "application/json"),
        (UsageFile = "multipart/form-data"),
        (String = "application/xml"),
    )),
    responses((status = 201, body = UsageSummary),
        (status = 400, description = "the file cannot be used, and why", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 413, body = crate::http::error::Problem),
        (status = 415, body = crate::http::error::Problem)))]
pub async fn import_usage(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    IdPath(id): IdPath<SiteId>,
    request: axum::extract::Request,
) -> Result<(StatusCode, axum::Json<UsageSummary>), ApiError> {
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let input = match media.as_str() {
        "application/xml" | "text/xml" | "application/atom+xml" => {
            UsageInput::GreenButton(whole_body(request).await?.to_vec())
        }
        "application/json" => typed(&whole_body(request).await?)?,
        "multipart/form-data" => UsageInput::GreenButton(file_part(request).await?),
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let actor = caller.actor();
    let summary = service::import_usage(&state.db, &actor, caller.user, id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(summary)))
}

/// The body, within the route's upload limit (413 past it).
async fn whole_body(request: axum::extract::Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, &()).await.map_err(|rejection| {
        if rejection.into_response().status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest("The body could not be read.".into())
        }
    })
}

/// A form upload of the usage file, as a web page or a phone's share sheet sends it.
#[derive(ToSchema)]
#[allow(dead_code)] // described for the OpenAPI document; the parts are read by `file_part`
pub struct UsageFile {
    /// The Green Button XML file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The part named `file` of a multipart body (other parts are skipped); the route's upload
/// limit has already bounded the whole body.
pub(crate) async fn file_part(request: axum::extract::Request) -> Result<Vec<u8>, ApiError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest("The multipart body could not be read.".into())
        }
    };
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|_| ApiError::BadRequest("The multipart body has no boundary.".into()))?;
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") {
            return Ok(field.bytes().await.map_err(unreadable)?.to_vec());
        }
    }
    Err(ApiError::Validation(vec![FieldError {
        field: "file".into(),
        code: "required",
    }]))
}

fn typed(body: &[u8]) -> Result<UsageInput, ApiError> {
    let invalid = |field: &str| {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            code: "invalid",
        }])
    };
    let typed: TypedUsage = serde_json::from_slice(body).map_err(|_| invalid("body"))?;
    match (typed.annual_kwh, typed.monthly_kwh) {
        (Some(kwh), None) => Ok(UsageInput::Annual(kwh)),
        (None, Some(months)) => {
            let months: [f64; 12] = months.try_into().map_err(|_| invalid("monthly_kwh"))?;
            Ok(UsageInput::Monthly(months))
        }
        _ => Err(invalid("annual_kwh")),
    }
}

/// The usage the next quote for this site will use.
#[utoipa::path(get, path = "/api/v1/sites/{id}/usage", tag = "sites",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = UsageSummary), (status = 404, body = crate::http::error::Problem)))]
pub async fn usage(
    State(state): State<AppState>,
    caller: Caller<perm::OwnSites>,
    IdPath(id): IdPath<SiteId>,
) -> Result<axum::Json<UsageSummary>, ApiError> {
    let actor = caller.actor();
    service::current_usage(&state.db, &actor, caller.user, id)
        .await?
        .map(axum::Json)
        .ok_or(ApiError::NotFound)
}
