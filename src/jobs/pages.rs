//! Job pages for crews and staff. Built for a phone on a roof: one column, large buttons, the
//! photos the step needs with a button that opens the camera, and, when the step is not open
//! yet, why.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::serve_photo;
use super::lifecycle::{JobState, Party};
use super::model::JobDetail;
use super::photos::{self, NewPhoto, PhotoError, PhotoKind};
use super::service::{self, JobError, Step, Viewer};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm, policy};
use crate::audit::Actor;
use crate::auth::browser::{CsrfProtected, PageCaller, form_after_csrf};
use crate::http::{IdPath, PageError};
use crate::ids::JobId;
use crate::state::AppState;
use crate::values::{IdempotencyKey, PhotoSubject};
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/jobs/{id}", Permission::ViewJobs, show)
        .post("/jobs/{id}/step", Permission::ViewJobs, step)
        .upload("/jobs/{id}/photos", Permission::WorkJobs, upload)
        .get("/jobs/{id}/photos/{photo_id}", Permission::ViewJobs, photo)
        .get("/staff/jobs", Permission::ReadJobs, staff_list)
}

fn viewer(caller: &PageCaller) -> Viewer {
    Viewer {
        user: caller.user,
        role: caller.role,
    }
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// A step in the form but hidden until the phone sees it can be used.
struct Gate {
    step: JobState,
    /// The photos still to take, space-separated.
    subjects: String,
    /// The booked day, when it has not come yet.
    from: Option<chrono::NaiveDate>,
}

#[derive(Template)]
#[template(path = "jobs/job.html")]
struct JobPage {
    nav: Nav,
    csrf: String,
    detail: JobDetail,
    price: Option<String>,
    /// Step buttons: the state and its label.
    steps: Vec<(JobState, &'static str)>,
    /// The booked-day step waiting only for photos, and the subjects it still needs.
    /// The booked-day step that waits, shown by the phone when it can be used.
    gated: Option<Gate>,
    can_upload: bool,
    /// What a photo may show; the first photo the step still needs is preselected.
    subjects: Vec<(&'static str, &'static str, bool)>,
    /// Call and directions links, for the assigned crew.
    tel_uri: Option<String>,
    geo_uri: Option<String>,
    is_staff: bool,
    /// Staff who may move the job's booked visits.
    moves_visits: bool,
    /// The home's time zone: the crew and staff read times as the homeowner does.
    zone: chrono_tz::Tz,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl JobPage {
    /// A moment in the home's time zone, named ("Thu 3 Dec 2026, 2:05 PM EST").
    fn local(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%a %-d %b %Y, %-I:%M %p %Z")
            .to_string()
    }
}

async fn job_page(
    state: &AppState,
    caller: &PageCaller,
    actor: &Actor,
    id: JobId,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (job, party) = service::visible(&state.db, actor, viewer(caller), id, Permission::ViewJobs).await?;
    if party == Party::Owner {
        // Customers follow their job on the order page.
        return Ok(Redirect::to(&format!("/orders/{}", job.order_id)).into_response());
    }
    let detail = super::api::detail_for(state, actor, caller.user, job, party).await?;
    let manages = party != Party::Staff || policy::allows(caller.role, Permission::ManageJobs);
    // A booked-day step that is not open yet is in the form, hidden, with what it waits for:
    // the photos still to take and, before its day, the day. The phone shows it once the
    // photos are taken and its own calendar reaches the day, even without signal, so a page
    // kept the evening before works on the roof the next morning (`static/app.js`); the server
    // checks both again when the step arrives. Without a confirmed day it is only explained.
    let gated = detail.readiness.as_ref().filter(|r| !r.open).and_then(|r| {
        let from = match r.waiting_for {
            Some("photos") => None,
            Some("day") => Some(r.day?),
            _ => return None,
        };
        let subjects = r
            .photos
            .iter()
            .filter(|p| !p.taken)
            .map(|p| p.subject.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Some(Gate {
            step: r.step,
            subjects,
            from,
        })
    });
    let closed = detail.readiness.as_ref().filter(|r| !r.open).map(|r| r.step);
    let steps = if manages {
        detail
            .next_steps
            .iter()
            .filter(|s| Some(**s) != closed || gated.is_some())
            .map(|s| (*s, s.label()))
            .collect()
    } else {
        Vec::new()
    };
    let crew_links = party == Party::AssignedCrew;
    let zone = crate::catalog::time_zone_of(&state.db, &detail.place.region_id)
        .await
        .map_err(anyhow::Error::from)?;
    let page = JobPage {
        nav: Nav::for_caller(
            if party == Party::Staff {
                "staff"
            } else {
                "installer"
            },
            Some(caller),
        ),
        csrf: caller.csrf.clone(),
        price: detail.system.price_cents.map(|p| p.whole()),
        steps,
        gated,
        can_upload: photos::may_upload(party),
        subjects: {
            let first_missing = detail
                .readiness
                .as_ref()
                .and_then(|r| r.photos.iter().find(|p| !p.taken))
                .map(|p| p.subject);
            PhotoSubject::ALL
                .iter()
                .map(|s| (s.as_str(), s.label(), Some(*s) == first_missing))
                .collect()
        },
        tel_uri: crew_links
            .then(|| detail.customer.as_ref().and_then(|c| c.phone.as_deref()))
            .flatten()
            .and_then(crate::values::PhoneNumber::tel_uri),
        geo_uri: crew_links
            .then(|| {
                let (latitude, longitude) = (detail.place.latitude?, detail.place.longitude?);
                Some(crate::geo::Location { latitude, longitude }.geo_uri())
            })
            .flatten(),
        is_staff: party == Party::Staff,
        moves_visits: party == Party::Staff && policy::allows(caller.role, Permission::ManageJobs),
        zone,
        detail,
        notice,
        error,
    };
    let response = render(status, &page)?;
    Ok(if crew_links && status == StatusCode::OK {
        crate::web::keep_offline(response)
    } else {
        response
    })
}

async fn show(
    State(state): State<AppState>,
    caller: PageUser<perm::ViewJobs>,
    IdPath(id): IdPath<JobId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("step") => Some("Saved. The customer is told by email."),
        Some("photo") => Some("Photo added. Location data was removed from it."),
        Some("moved") => Some("Moved. The customer and the crew are told."),
        _ => None,
    };
    job_page(&state, &caller, &caller.actor(), id, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
struct StepFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
    /// Set by the app on every form it sends, so a replay from the phone's queue is recorded
    /// once.
    #[serde(default)]
    idempotency_key: String,
}

impl CsrfProtected for StepFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn step(
    State(state): State<AppState>,
    IdPath(id): IdPath<JobId>,
    SignedInForm(caller, fields): SignedInForm<perm::ViewJobs, StepFields>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let (job, party) = service::visible(&state.db, &actor, viewer(&caller), id, Permission::ViewJobs).await?;
    if party == Party::Staff && !policy::allows(caller.role, Permission::ManageJobs) {
        return Err(PageError::Forbidden);
    }
    let to: JobState = fields.to.parse().map_err(|_| PageError::BadRequest)?;
    let step = Step {
        to,
        note: Some(fields.note).filter(|n| !n.trim().is_empty()),
        key: IdempotencyKey::parse(&fields.idempotency_key),
    };
    let rules = crate::marketplace::StepRules::new(&state.settings);
    match crate::marketplace::step(&state.db, &actor, &job, party, step, &rules).await {
        Ok(_) => {
            state.mailer.wake();
            Ok(Redirect::to(&format!("/jobs/{id}?notice=step")).into_response())
        }
        Err(JobError::Internal(e)) => Err(PageError::Internal(e)),
        Err(JobError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let message = Some(sentence(&e.to_string()));
            job_page(&state, &caller, &actor, id, StatusCode::CONFLICT, None, message).await
        }
    }
}

async fn upload(
    State(state): State<AppState>,
    _same_origin: crate::http::origin::SameOrigin,
    caller: PageUser<perm::WorkJobs>,
    IdPath(id): IdPath<JobId>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let form = form_after_csrf(&state, caller.session, multipart).await?;
    let actor = caller.actor();
    let (job, party) = service::visible(&state.db, &actor, viewer(&caller), id, Permission::WorkJobs).await?;
    if !photos::may_upload(party) {
        return Err(PageError::NotFound);
    }
    let kind = form.fields.get("kind").and_then(|k| PhotoKind::parse(k));
    let subject = form
        .fields
        .get("subject")
        .and_then(|s| PhotoSubject::parse(s))
        .unwrap_or(PhotoSubject::Other);
    let key = form
        .fields
        .get("idempotency_key")
        .and_then(|k| IdempotencyKey::parse(k));
    let Some(bytes) = form.file else {
        let message = Some("Choose a photo to upload.".to_owned());
        return job_page(
            &state,
            &caller,
            &actor,
            id,
            StatusCode::BAD_REQUEST,
            None,
            message,
        )
        .await;
    };
    let new = NewPhoto {
        kind,
        subject,
        key,
        raw: bytes,
    };
    match photos::upload(
        &state.db,
        &state.files,
        &actor,
        &job,
        new,
        state.settings.photo_limit_bytes,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/jobs/{id}?notice=photo")).into_response()),
        Err(PhotoError::Internal(e)) => Err(PageError::Internal(e)),
        Err(e) => {
            let status = match e {
                PhotoError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            job_page(
                &state,
                &caller,
                &actor,
                id,
                status,
                None,
                Some(sentence(&e.to_string())),
            )
            .await
        }
    }
}

async fn photo(
    State(state): State<AppState>,
    caller: PageUser<perm::ViewJobs>,
    Path((id, photo_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    let (job, party) = service::visible(
        &state.db,
        &actor,
        viewer(&caller),
        id.parse().map_err(|_| PageError::NotFound)?,
        Permission::ViewJobs,
    )
    .await?;
    serve_photo(&state, &actor, caller.user, &job, party, &photo_id)
        .await
        .map_err(PageError::from)
}

#[derive(Template)]
#[template(path = "jobs/staff_list.html")]
struct StaffList {
    nav: Nav,
    states: Vec<(&'static str, &'static str)>,
    selected: String,
    jobs: Vec<StaffRow>,
}

/// A job as the staff list shows it: what people say on the phone ("the Greensboro job of
/// Piedmont Crew A"), never the customer's name or street (those need a grant, on the job's
/// page).
struct StaffRow {
    id: String,
    reference: String,
    town: String,
    crew: String,
    step: &'static str,
    changed: String,
    /// The same moment for the device to show in its own zone.
    changed_at: String,
}

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

async fn staff_list(
    State(state): State<AppState>,
    caller: PageUser<perm::ReadJobs>,
    Query(q): Query<StateQuery>,
) -> Result<Response, PageError> {
    let filter = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let jobs = service::recent(&state.db, filter).await?;
    let crews: std::collections::HashMap<crate::ids::CrewId, String> =
        crate::crews::service::crews(&state.db, false)
            .await
            .map_err(anyhow::Error::from)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
    let mut rows = Vec::with_capacity(jobs.len());
    for j in jobs {
        // The town only: the rest of the address stays sealed on this list.
        let town = crate::sites::service::by_id(&state.db, j.site_id)
            .await
            .map_err(anyhow::Error::from)?;
        rows.push(StaffRow {
            id: j.id.to_string(),
            reference: j.id.reference("J"),
            town: crate::sites::model::town_of(&town.address).unwrap_or_else(|| "—".to_owned()),
            crew: j
                .crew_id
                .and_then(|c| crews.get(&c).cloned())
                .unwrap_or_else(|| "Not assigned yet".to_owned()),
            step: j.state.label(),
            changed: j.updated_at.format("%-d %b %Y, %H:%M UTC").to_string(),
            changed_at: j.updated_at.to_rfc3339(),
        });
    }
    render(
        StatusCode::OK,
        &StaffList {
            nav: Nav::for_caller("staff", Some(&caller)),
            states: JobState::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
            selected: filter
                .map(|s: JobState| s.as_str().to_owned())
                .unwrap_or_default(),
            jobs: rows,
        },
    )
}
