//! The crew's app: "Today" — the open offers with the time left to answer, then the visits of
//! today and the next days as cards (the whole card opens the job; call and directions are
//! one tap), then the jobs waiting for something else. Built for a phone on a doorstep.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::StepRules;
use super::live::Until;
use super::today::{self, CrewDays};
use crate::access::SignedInForm;
use crate::access::{PageUser, Permission, Routes, perm};
use crate::auth::browser::CsrfProtected;
use crate::http::{IdPath, IdPaths, PageError};
use crate::ids::{BookingId, JobId, OfferId};
use crate::scheduling::booking::{BookingError, BookingStatus, REASON_CHARS};
use crate::scheduling::dispatch::{self, OfferView};
use crate::state::AppState;
use crate::web::confirm::{self, Confirmation};
use crate::web::form::Problems;
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new()
        .get("/installer", Permission::WorkJobs, today_page)
        .post("/installer/offers/{id}", Permission::WorkJobs, answer_offer)
        .get("/installer/events", Permission::WorkJobs, offer_events)
        .get(
            "/staff/jobs/{id}/bookings/{booking}/move",
            Permission::ManageJobs,
            staff_move_page,
        )
        .post(
            "/staff/jobs/{id}/bookings/{booking}/move",
            Permission::ManageJobs,
            staff_move,
        )
}

/// The crew's open offers, live: the list now, then again whenever it changes, until the
/// session's idle or absolute deadline (the stream is not activity).
async fn offer_events(
    State(state): State<AppState>,
    caller: PageUser<perm::WorkJobs>,
) -> Result<Response, PageError> {
    let crew = crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?;
    let until = Until {
        member: Some((caller.user, crew)),
        ..page_stream_until(&caller, &state.settings)
    };
    Ok(super::api::offer_stream(&state, crew, until).into_response())
}

/// When a page's event stream ends: when the browser session would, at its idle or absolute
/// deadline (the crew's Today and the customer's order page).
pub fn page_stream_until(
    caller: &crate::auth::browser::PageCaller,
    settings: &crate::config::Settings,
) -> Until {
    Until {
        deadline: caller.idle_deadline.min(caller.absolute_deadline),
        session: caller.session,
        idle: crate::auth::session::IdleRule::of(settings),
        member: None,
    }
}

/// "2 h 15 min", "40 min", "under a minute": the time left to answer an offer.
pub fn time_left(until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (until - now).num_minutes();
    match minutes {
        m if m < 1 => "under a minute".to_owned(),
        m if m < 60 => format!("{m} min"),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{} h {} min", m / 60, m % 60),
    }
}

#[derive(Template)]
#[template(path = "installer/today.html")]
struct TodayPage {
    nav: Nav,
    csrf: String,
    in_crew: bool,
    /// Each offer with the time left to answer it.
    offers: Vec<(OfferView, String)>,
    days: CrewDays,
    /// What customers say of the crew: how many and their average, never who.
    rating: Option<crate::crews::ratings::CrewRating>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn today_page(
    State(state): State<AppState>,
    caller: PageUser<perm::WorkJobs>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let crew = crate::crews::service::crew_of(&state.db, caller.user)
        .await
        .map_err(anyhow::Error::from)?;
    let rules = StepRules::new(&state.settings);
    let (offers, days) = match crew {
        Some(crew) => (
            dispatch::open_for(&state.db, crew).await?,
            today::crew_days(&state.db, crew, &rules).await?,
        ),
        None => (Vec::new(), today::empty(&rules)),
    };
    let notice = match q.notice.as_deref() {
        Some("accepted") => Some("Accepted: the job is on your list and the customer is told."),
        Some("declined") => Some("Offer declined. The job has gone to the next crew."),
        Some("closed") => Some("That offer is closed: it was answered, or its time ran out."),
        _ => None,
    };
    let rating = match crew {
        Some(id) => crate::crews::service::crew(&state.db, id)
            .await
            .map_err(anyhow::Error::from)?
            .map(|c| crate::crews::ratings::CrewRating::from(&c)),
        None => None,
    };
    let now = Utc::now();
    let in_crew = crew.is_some();
    let page = render(
        StatusCode::OK,
        &TodayPage {
            nav: Nav::for_caller("installer", Some(&caller)),
            csrf: caller.csrf.clone(),
            in_crew: crew.is_some(),
            offers: offers
                .into_iter()
                .map(|o| {
                    let left = time_left(o.expires_at, now);
                    (o, left)
                })
                .collect(),
            days,
            rating,
            notice,
        },
    )?;
    Ok(if in_crew {
        crate::web::keep_offline(page)
    } else {
        page
    })
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

/// Accept or decline an offer: one tap, then a confirmation that says what follows.
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
    if !confirm::given(&fields.confirmed) {
        let (title, will_happen, label, destructive, back_label) = if accept {
            (
                "Take this job?",
                vec![
                    "The day is your crew's: the customer is told and sees your company's name.".to_owned(),
                    "The address and the customer's phone number show on your list.".to_owned(),
                ],
                "Yes, take it",
                false,
                "Not yet",
            )
        } else {
            (
                "Decline this job offer?",
                vec![
                    "The job is offered to the next crew straight away.".to_owned(),
                    "You cannot take it back: if it comes to you again, it will be as a new offer."
                        .to_owned(),
                ],
                "Yes, decline it",
                true,
                "Keep the offer",
            )
        };
        return Confirmation {
            nav: Nav::for_caller("installer", Some(&caller)),
            title: title.to_owned(),
            will_happen,
            action: format!("/installer/offers/{id}"),
            fields: vec![("csrf", caller.csrf.clone()), ("answer", fields.answer.clone())],
            confirm: label,
            destructive,
            back: "/installer".to_owned(),
            back_label,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_as_people_say_it() {
        let now = Utc::now();
        let at = |m: i64| now + chrono::TimeDelta::minutes(m);
        assert_eq!(time_left(at(0), now), "under a minute");
        assert_eq!(time_left(at(40), now), "40 min");
        assert_eq!(time_left(at(120), now), "2 h");
        assert_eq!(time_left(at(135), now), "2 h 15 min");
    }
}

/// A free window as a choice in the staff form's list.
struct SlotChoice {
    slot_id: String,
    words: String,
}

/// The free windows of one day, for the list's groups.
struct SlotDay {
    label: String,
    slots: Vec<SlotChoice>,
}

#[derive(Template)]
#[template(path = "jobs/move.html")]
struct StaffMovePage {
    nav: Nav,
    csrf: String,
    job: JobId,
    booking: BookingId,
    kind: crate::scheduling::Kind,
    when: String,
    confirmed: bool,
    days: Vec<SlotDay>,
    chosen: String,
    reason: String,
    problems: Problems,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct StaffMoveFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slot_id: String,
    #[serde(default)]
    reason: String,
}

impl CsrfProtected for StaffMoveFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The job's order and its live booking `booking` (404 for anything else).
async fn staff_visit(
    state: &AppState,
    job: JobId,
    booking: BookingId,
) -> Result<(crate::orders::service::Order, crate::scheduling::booking::Booking), PageError> {
    let (found, order) = super::booking::job_and_order(&state.db, job).await?;
    let b = crate::scheduling::booking::of_job(&state.db, job)
        .await
        .map_err(anyhow::Error::from)?
        .into_iter()
        .find(|b| b.id == booking && b.status.is_live() && b.kind.pending_in(found.state))
        .ok_or(PageError::NotFound)?;
    Ok((order, b))
}

async fn render_staff_move(
    state: &AppState,
    caller: &crate::auth::browser::PageCaller,
    (job, booking): (JobId, BookingId),
    status: StatusCode,
    form: StaffMoveFields,
    problems: Problems,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (order, b) = staff_visit(state, job, booking).await?;
    let slots = super::booking::other_times(&state.db, &state.settings, &order, &b).await?;
    let days = crate::scheduling::slots::by_day(slots)
        .into_iter()
        .map(|(date, windows)| SlotDay {
            label: date.format("%A %-d %B").to_string(),
            slots: windows
                .into_iter()
                .map(|s| SlotChoice {
                    words: format!("{}, {}", s.window.part_of_day(), s.window.words()),
                    slot_id: s.id,
                })
                .collect(),
        })
        .collect();
    let page = StaffMovePage {
        nav: Nav::for_caller("staff", Some(caller)),
        csrf: caller.csrf.clone(),
        job,
        booking,
        kind: b.kind,
        when: b.when_words(),
        confirmed: b.status == BookingStatus::Confirmed,
        days,
        chosen: form.slot_id,
        reason: form.reason,
        problems,
        error,
    };
    render(status, &page)
}

async fn staff_move_page(
    State(state): State<AppState>,
    caller: PageUser<perm::ManageJobs>,
    IdPaths(job, booking): IdPaths<JobId, BookingId>,
) -> Result<Response, PageError> {
    render_staff_move(
        &state,
        &caller,
        (job, booking),
        StatusCode::OK,
        StaffMoveFields::default(),
        Problems::default(),
        None,
    )
    .await
}

async fn staff_move(
    State(state): State<AppState>,
    IdPaths(job, booking): IdPaths<JobId, BookingId>,
    SignedInForm(caller, fields): SignedInForm<perm::ManageJobs, StaffMoveFields>,
) -> Result<Response, PageError> {
    let mut problems = Problems::about("the move");
    if fields.slot_id.is_empty() {
        problems.add("slot", "Choose the new time.");
    }
    let reason_chars = fields.reason.trim().chars().count();
    if !(REASON_CHARS.0..=REASON_CHARS.1).contains(&reason_chars) {
        problems.add(
            "reason",
            format!(
                "Give the reason in {} to {} characters.",
                REASON_CHARS.0, REASON_CHARS.1
            ),
        );
    }
    let ids = (job, booking);
    if !problems.is_empty() {
        return render_staff_move(
            &state,
            &caller,
            ids,
            StatusCode::UNPROCESSABLE_ENTITY,
            fields,
            problems,
            None,
        )
        .await;
    }
    let actor = caller.actor();
    let (order, _) = staff_visit(&state, job, booking).await?;
    let moved = super::booking::move_booking(
        &state.db,
        &state.settings,
        &actor,
        &order,
        booking,
        &fields.slot_id,
        super::booking::MovedBy::Staff {
            reason: &fields.reason,
        },
    )
    .await;
    match moved {
        Ok(_) => {
            state.mailer.wake();
            Ok(Redirect::to(&format!("/jobs/{job}?notice=moved")).into_response())
        }
        Err(BookingError::Internal(e)) => Err(PageError::Internal(e)),
        Err(BookingError::NotFound) => Err(PageError::NotFound),
        Err(BookingError::Reason) => {
            let mut problems = Problems::about("the move");
            problems.add("reason", "Give the reason in words, without control characters.");
            render_staff_move(
                &state,
                &caller,
                ids,
                StatusCode::UNPROCESSABLE_ENTITY,
                fields,
                problems,
                None,
            )
            .await
        }
        Err(
            BookingError::SameSlot
            | BookingError::UnknownSlot
            | BookingError::OutOfWindow
            | BookingError::Holiday,
        ) => {
            let mut problems = Problems::about("the move");
            problems.add("slot", "Choose a new time from the list.");
            let kept = StaffMoveFields {
                slot_id: String::new(),
                ..fields
            };
            render_staff_move(
                &state,
                &caller,
                ids,
                StatusCode::UNPROCESSABLE_ENTITY,
                kept,
                problems,
                None,
            )
            .await
        }
        Err(e) => {
            let message = match e {
                BookingError::Taken => "That time was just taken: choose another.",
                BookingError::Changed => "The visit changed meanwhile: here it is as it stands now.",
                BookingError::NotMovable => "This visit can no longer be moved.",
                _ => "That time cannot be chosen: choose one from the list.",
            };
            let kept = StaffMoveFields {
                slot_id: String::new(),
                ..fields
            };
            render_staff_move(
                &state,
                &caller,
                ids,
                StatusCode::CONFLICT,
                kept,
                Problems::default(),
                Some(message.to_owned()),
            )
            .await
        }
    }
}
