//! Job routes: the parties' list and detail with the timeline, the steps, and photos.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::lifecycle::{JobState, Party};
use super::model::JobDetail;
use super::party_view;
use super::photos::{self, NewPhoto, Photo, PhotoError, PhotoKind};
use super::service::{self, Job, JobError, Step, Viewer};
use crate::access::{Caller, Permission, Role, Routes, perm, policy};
use crate::audit::Actor;
use crate::http::json::ApiJson;
use crate::http::{ApiError, DomainError, FieldError, IdPath};
use crate::ids::{JobId, PhotoId};
use crate::state::AppState;
use crate::values::{IdempotencyKey, PhotoSubject};

/// The `Idempotency-Key` header a phone sends with a step or a photo, if any; a malformed
/// one is refused rather than ignored, so a client never believes it is protected when it
/// is not.
fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .and_then(IdempotencyKey::parse)
        .map(Some)
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                field: "Idempotency-Key".into(),
                code: "invalid",
            }])
        })
}

/// The job as `party` sees it, with the readiness of its booked-day step for the crew (the
/// API and the job page).
pub(crate) async fn detail_for(
    state: &AppState,
    actor: &Actor,
    viewer: crate::ids::UserId,
    job: Job,
    party: Party,
) -> Result<JobDetail, ApiError> {
    let readiness = if party == Party::AssignedCrew {
        crate::marketplace::readiness(
            &state.db,
            &job,
            party,
            &crate::marketplace::StepRules::new(&state.settings),
        )
        .await?
    } else {
        None
    };
    let mut detail = party_view::build(&state.db, actor, viewer, job, party).await?;
    detail.readiness = readiness;
    Ok(detail)
}

pub fn router() -> Routes {
    Routes::new()
        .get("/api/v1/jobs", Permission::ViewJobs, list)
        .get("/api/v1/jobs/{id}", Permission::ViewJobs, show)
        .post("/api/v1/jobs/{id}/transitions", Permission::ViewJobs, transition)
        .upload("/api/v1/jobs/{id}/photos", Permission::WorkJobs, upload_photo)
        .get("/api/v1/jobs/{id}/photos/{photo_id}", Permission::ViewJobs, photo)
}

fn viewer<P: crate::access::policy::Need>(caller: &Caller<P>) -> Viewer {
    Viewer {
        user: caller.user,
        role: caller.role,
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    items: Vec<Job>,
    /// Lists are one page of at most 100: the newest jobs of a customer, the most recently
    /// changed of a crew or (staff) of all.
    next_cursor: Option<String>,
}

/// The caller's jobs: a customer's own, an installer's crew's, or (staff) the most recently
/// changed, optionally in one `state`.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(("state" = Option<String>, Query, description = "staff: only jobs in this state")),
    responses((status = 200, body = JobList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller<perm::ViewJobs>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<JobList>, ApiError> {
    let items = match caller.role {
        Role::Customer => service::of_owner(&state.db, caller.user).await,
        Role::Installer => match crate::crews::service::crew_of(&state.db, caller.user)
            .await
            .map_err(anyhow::Error::from)?
        {
            Some(crew) => service::of_crew(&state.db, crew).await,
            None => Ok(Vec::new()),
        },
        role if policy::allows(role, Permission::ReadJobs) => {
            let filter = match q.state.as_deref() {
                Some(raw) => Some(raw.parse::<JobState>().map_err(|_| {
                    ApiError::Validation(vec![FieldError {
                        field: "state".into(),
                        code: "invalid",
                    }])
                })?),
                None => None,
            };
            service::recent(&state.db, filter).await
        }
        _ => Ok(Vec::new()),
    }?;
    Ok(axum::Json(JobList {
        items,
        next_cursor: None,
    }))
}

/// A job with its system, place, bookings, timeline, photos and the steps the caller may take.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = JobDetail), (status = 404, body = crate::http::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller<perm::ViewJobs>,
    IdPath(id): IdPath<JobId>,
) -> Result<axum::Json<JobDetail>, ApiError> {
    let actor = caller.actor();
    let (job, party) = service::visible(&state.db, &actor, viewer(&caller), id, Permission::ViewJobs).await?;
    Ok(axum::Json(
        detail_for(&state, &actor, caller.user, job, party).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The next state (see the lifecycle table).
    pub to: JobState,
    /// What happened, for the timeline (at most 1,000 characters).
    pub note: Option<String>,
}

/// Move a job one step. Who may take which step is the lifecycle table's: the assigned crew
/// records the survey and the installation, the customer approves the design, staff record
/// permits and the utility's permission. A step from the wrong state is 409. The survey and
/// the installation are recorded on or after their booked day (the home's calendar) and with
/// the photos the step needs (`readiness` in the job says which). With an `Idempotency-Key`,
/// a step sent again is recorded once and answered with the job as it stands.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/transitions", tag = "jobs",
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "8–64 letters, digits, `-`, `_`: the same key twice records the step once")),
    request_body = TransitionRequest,
    security(("bearer" = [])),
    responses((status = 200, body = JobDetail),
        (status = 403, description = "not this caller's step", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 409, description = "`invalid_transition` from this state; `too_early` before the booked day; `no_day` without a confirmed day; `photos_missing` without the step's photos", body = crate::http::error::Problem)))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller<perm::ViewJobs>,
    IdPath(id): IdPath<JobId>,
    headers: axum::http::HeaderMap,
    ApiJson(request): ApiJson<TransitionRequest>,
) -> Result<axum::Json<JobDetail>, ApiError> {
    let key = idempotency_key(&headers)?;
    let actor = caller.actor();
    let (job, party) = service::visible(&state.db, &actor, viewer(&caller), id, Permission::ViewJobs).await?;
    // Reading jobs is not managing them.
    if party == Party::Staff && !policy::allows(caller.role, Permission::ManageJobs) {
        return Err(ApiError::Forbidden);
    }
    let step = Step {
        to: request.to,
        note: request.note,
        key,
    };
    let rules = crate::marketplace::StepRules::new(&state.settings);
    let job = crate::marketplace::step(&state.db, &actor, &job, party, step, &rules).await?;
    state.mailer.wake();
    Ok(axum::Json(
        detail_for(&state, &actor, caller.user, job, party).await?,
    ))
}

/// Add a photo (multipart: `subject` — `roof`, `meter`, `service_panel`, `array`,
/// `inverter`, `labels` or `other` — and optionally `kind` = `survey` or `install`, then
/// `file`, a JPEG or PNG). The assigned crew only. The stored copy is re-encoded: no EXIF or
/// GPS data survives. With an `Idempotency-Key`, the same photo sent again is stored once (200
/// with the stored photo).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/photos", tag = "jobs",
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "8–64 letters, digits, `-`, `_`: the same key twice stores the photo once")),
    security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "`subject`, optionally `kind`, then `file`"),
    responses((status = 201, body = Photo),
        (status = 200, description = "sent before with this key: the stored photo", body = Photo),
        (status = 400, description = "not a JPEG or PNG image", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 413, body = crate::http::error::Problem)))]
pub async fn upload_photo(
    State(state): State<AppState>,
    caller: Caller<perm::WorkJobs>,
    IdPath(id): IdPath<JobId>,
    headers: axum::http::HeaderMap,
    mut multipart: Multipart,
) -> Result<(StatusCode, axum::Json<Photo>), ApiError> {
    let key = idempotency_key(&headers)?;
    let actor = caller.actor();
    let (job, party) = service::visible(&state.db, &actor, viewer(&caller), id, Permission::WorkJobs).await?;
    if !photos::may_upload(party) {
        return Err(ApiError::NotFound);
    }
    let limit = state.settings.photo_limit_bytes;
    let mut kind = None;
    let mut subject = PhotoSubject::Other;
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| ApiError::BadRequest("the form could not be read".into()))?
    {
        match field.name() {
            Some("kind") => {
                let raw = field
                    .text()
                    .await
                    .map_err(|_| ApiError::BadRequest("bad kind".into()))?;
                kind = Some(PhotoKind::parse(raw.trim()).ok_or_else(|| {
                    ApiError::Validation(vec![FieldError {
                        field: "kind".into(),
                        code: "invalid",
                    }])
                })?);
            }
            Some("subject") => {
                let raw = field
                    .text()
                    .await
                    .map_err(|_| ApiError::BadRequest("bad subject".into()))?;
                subject = PhotoSubject::parse(raw.trim()).ok_or_else(|| {
                    ApiError::Validation(vec![FieldError {
                        field: "subject".into(),
                        code: "invalid",
                    }])
                })?;
            }
            Some("file") => file = Some(read_capped(field, limit).await?),
            _ => {}
        }
    }
    let raw = file.ok_or_else(|| ApiError::BadRequest("no file in the form".into()))?;
    let new = NewPhoto {
        kind,
        subject,
        key,
        raw,
    };
    let uploaded = photos::upload(&state.db, &state.files, &actor, &job, new, limit).await?;
    let status = if uploaded.replay {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(uploaded.photo)))
}

/// Reads a multipart field, refusing it as soon as it passes `limit` bytes.
pub(crate) async fn read_capped(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| ApiError::BadRequest("the file could not be read".into()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A photo of the job, for its owner, its crew, and staff with a live grant to the customer.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/photos/{photo_id}", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, description = "the image", content_type = "image/jpeg"),
        (status = 403, description = "`grant_required`: staff need a live grant", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem)))]
pub async fn photo(
    State(state): State<AppState>,
    caller: Caller<perm::ViewJobs>,
    Path((id, photo_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let actor = caller.actor();
    let (job, party) = service::visible(
        &state.db,
        &actor,
        viewer(&caller),
        id.parse().map_err(|_| ApiError::NotFound)?,
        Permission::ViewJobs,
    )
    .await?;
    serve_photo(&state, &actor, caller.user, &job, party, &photo_id)
        .await
        .map_err(ApiError::from)
}

pub(crate) enum ServeError {
    GrantRequired,
    Photo(PhotoError),
    Job(JobError),
}

impl From<ServeError> for ApiError {
    fn from(e: ServeError) -> Self {
        match e {
            ServeError::GrantRequired => ApiError::Denied {
                code: "grant_required",
            },
            ServeError::Photo(e) => e.into(),
            ServeError::Job(e) => e.into(),
        }
    }
}

impl DomainError for ServeError {}

/// The photo as a response: its own content type, inline with a generated name (the security
/// headers add `nosniff`, the CSP and `no-store`).
pub(crate) async fn serve_photo(
    state: &AppState,
    actor: &Actor,
    viewer: crate::ids::UserId,
    job: &Job,
    party: Party,
    photo_id: &str,
) -> Result<Response, ServeError> {
    let photo_id: PhotoId = photo_id
        .parse()
        .map_err(|_| ServeError::Photo(PhotoError::NotFound))?;
    if party == Party::Staff
        && !party_view::staff_grant(&state.db, actor, viewer, job.owner_id)
            .await
            .map_err(ServeError::Job)?
    {
        return Err(ServeError::GrantRequired);
    }
    let (photo, bytes) = photos::read(&state.db, &state.files, job.id, photo_id)
        .await
        .map_err(ServeError::Photo)?;
    let extension = if photo.content_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&photo.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"photo-{}.{extension}\"", photo.id)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
