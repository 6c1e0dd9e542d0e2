//! Job pages for crews and staff, and the installer portal. The portal is built for a phone on a
//! roof: one column, large buttons, and a photo button that opens the camera.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::serve_photo;
use super::lifecycle::{JobState, Party};
use super::model::JobDetail;
use super::party_view;
use super::photos::{self, PhotoError, PhotoKind};
use super::service::{self, Job, JobError, Viewer};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm, policy};
use crate::audit::Actor;
use crate::auth::browser::{CsrfProtected, PageCaller, form_after_csrf};
use crate::http::{IdPath, PageError};
use crate::ids::{JobId, OfferId};
use crate::scheduling::dispatch::{self, OfferView};
use crate::state::AppState;
use crate::web::confirm::{self, Confirmation};
use crate::web::{Nav, render, sentence};

pub fn router() -> Routes {
    Routes::new()
        .get("/installer", Permission::WorkJobs, portal)
        .post("/installer/offers/{id}", Permission::WorkJobs, answer_offer)
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

#[derive(Template)]
#[template(path = "installer/portal.html")]
struct Portal {
    nav: Nav,
    csrf: String,
    in_crew: bool,
    offers: Vec<OfferView>,
    /// Id, state label, last change.
    jobs: Vec<(String, &'static str, String)>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn portal(
    State(state): State<AppState>,
    caller: PageUser<perm::WorkJobs>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let crew = crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?;
    let (offers, jobs) = match crew {
        Some(crew) => (
            dispatch::open_for(&state.db, crew).await?,
            service::of_crew(&state.db, crew).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let notice = match q.notice.as_deref() {
        Some("accepted") => Some("Accepted: the job is on your list and the customer is told."),
        Some("declined") => Some("Offer declined. The job has gone to the next crew."),
        Some("closed") => Some("That offer is closed: it was answered, or its time ran out."),
        _ => None,
    };
    render(
        StatusCode::OK,
        &Portal {
            nav: Nav::for_caller("installer", Some(&caller)),
            csrf: caller.csrf.clone(),
            in_crew: crew.is_some(),
            offers,
            jobs: jobs
                .into_iter()
                .map(|j: Job| {
                    (
                        j.id.to_string(),
                        j.state.label(),
                        j.updated_at.format("%Y-%m-%d").to_string(),
                    )
                })
                .collect(),
            notice,
        },
    )
}

#[derive(Deserialize)]
struct AnswerFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    confirmed: String,
}

impl CsrfProtected for AnswerFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn answer_offer(
    State(state): State<AppState>,
    IdPath(id): IdPath<OfferId>,
    SignedInForm(caller, fields): SignedInForm<perm::WorkJobs, AnswerFields>,
) -> Result<Response, PageError> {
    let accept = match fields.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(PageError::BadRequest),
    };
    if !accept && !confirm::given(&fields.confirmed) {
        return Confirmation {
            nav: Nav::for_caller("installer", Some(&caller)),
            title: "Decline this job offer?".to_owned(),
            will_happen: vec![
                "The job is offered to the next crew straight away.".to_owned(),
                "You cannot take it back: if it comes to you again, it will be as a new offer.".to_owned(),
            ],
            action: format!("/installer/offers/{id}"),
            fields: vec![("csrf", caller.csrf.clone()), ("answer", fields.answer.clone())],
            confirm: "Yes, decline it",
            destructive: true,
            back: "/installer".to_owned(),
            back_label: "Keep the offer",
        }
        .page();
    }
    let actor = caller.actor();
    match dispatch::answer(&state.db, &state.settings, &actor, caller.user, id, accept).await {
        Ok(()) => {
            state.mailer.wake();
            let notice = if accept { "accepted" } else { "declined" };
            Ok(Redirect::to(&format!("/installer?notice={notice}")).into_response())
        }
        Err(dispatch::OfferError::Closed) => Ok(Redirect::to("/installer?notice=closed").into_response()),
        Err(dispatch::OfferError::NotFound) => Err(PageError::NotFound),
        Err(dispatch::OfferError::Internal(e)) => Err(PageError::Internal(e)),
    }
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
    can_upload: bool,
    is_staff: bool,
    notice: Option<&'static str>,
    error: Option<String>,
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
    let detail = party_view::build(&state.db, actor, caller.user, job, party).await?;
    let manages = party != Party::Staff || policy::allows(caller.role, Permission::ManageJobs);
    let steps = if manages {
        detail.next_steps.iter().map(|s| (*s, s.label())).collect()
    } else {
        Vec::new()
    };
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
        can_upload: photos::may_upload(party),
        is_staff: party == Party::Staff,
        detail,
        notice,
        error,
    };
    render(status, &page)
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
    let note = Some(fields.note).filter(|n| !n.trim().is_empty());
    match crate::marketplace::step(
        &state.db,
        &actor,
        &job,
        party,
        to,
        note,
        &state.settings.public_url,
    )
    .await
    {
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
    let kind = form
        .fields
        .get("kind")
        .and_then(|k| PhotoKind::parse(k))
        .unwrap_or(PhotoKind::Survey);
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
    match photos::upload(
        &state.db,
        &state.files,
        &actor,
        &job,
        kind,
        bytes,
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
    /// Id, short reference, state label, last change.
    jobs: Vec<(String, String, &'static str, String)>,
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
    render(
        StatusCode::OK,
        &StaffList {
            nav: Nav::for_caller("staff", Some(&caller)),
            states: JobState::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
            selected: filter
                .map(|s: JobState| s.as_str().to_owned())
                .unwrap_or_default(),
            jobs: jobs
                .into_iter()
                .map(|j| {
                    (
                        j.id.to_string(),
                        j.id.reference("J"),
                        j.state.label(),
                        j.updated_at.format("%-d %b %Y, %H:%M UTC").to_string(),
                    )
                })
                .collect(),
        },
    )
}
