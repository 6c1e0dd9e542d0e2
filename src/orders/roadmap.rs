//! The order's roadmap: every step of the installation, the ones done with their dates, the
//! booked days, and the ones ahead with the date they can be expected. Expected dates add the
//! typical time each step takes to the last date known (a step done, a day booked, or the
//! earliest day that can still be booked), so they move as the job moves; the page says they
//! are typical, not promised.

use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::jobs::lifecycle::JobState;
use crate::jobs::service::TimelineEntry;
use crate::scheduling::Kind;
use crate::scheduling::booking::{Booking, BookingStatus};

/// Where a step of the roadmap stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Taken, at this moment.
    Done(DateTime<Utc>),
    /// Passed on the way to a later step, without a moment of its own.
    Passed,
    /// A booked day and arrival window: confirmed by a crew, or waiting for one.
    Booked {
        date: NaiveDate,
        window: Option<crate::crews::model::ArrivalWindow>,
        confirmed: bool,
    },
    /// Waits for the customer to choose a day.
    YouChoose,
    /// A day is chosen; a crew has yet to confirm it.
    AwaitingCrew,
    /// Not yet: around this day.
    Around(NaiveDate),
}

#[derive(Clone, Debug)]
pub struct Step {
    pub state: JobState,
    pub label: &'static str,
    /// What happens at this step, in a sentence.
    pub what: &'static str,
    pub when: When,
    /// The note staff or the crew left with the step.
    pub note: Option<String>,
    /// The first step not done yet.
    pub current: bool,
}

/// The steps after the order, in the lifecycle's order (cancellation is not a step ahead).
fn path() -> impl Iterator<Item = JobState> {
    JobState::ALL
        .into_iter()
        .filter(|s| !matches!(s, JobState::Accepted | JobState::Cancelled))
}

/// Typical days a step takes after the one before it: the planning figures the dates ahead
/// are built from (permits and the utility's permission vary by town and utility).
fn typical_days(state: JobState) -> u64 {
    match state {
        // Used only while no day is booked: a crew's first free days.
        JobState::Surveyed => 3,
        JobState::Installed => 7,
        JobState::DesignApproved => 4,
        JobState::PermitSubmitted => 2,
        JobState::PermitApproved => 15,
        JobState::InspectionPassed => 10,
        JobState::PtoGranted => 14,
        JobState::Active => 2,
        _ => 0,
    }
}

fn what(state: JobState) -> &'static str {
    match state {
        JobState::DepositPaid => "Your deposit holds your place.",
        JobState::SurveyScheduled => "A crew confirms the day you choose for the site survey.",
        JobState::Surveyed => "The crew measures the roof and checks the electricity meter and panel.",
        JobState::DesignApproved => "We send the final design from the survey; you approve it.",
        JobState::PermitSubmitted => "We apply to your town for the building permit.",
        JobState::PermitApproved => "The town approves the permit.",
        JobState::InstallScheduled => "A crew confirms the day you choose for the installation.",
        JobState::Installed => "The crew puts the panels on the roof and connects them.",
        JobState::InspectionPassed => "The town inspects the installation.",
        JobState::PtoGranted => "Your utility gives permission to switch the system on.",
        JobState::Active => "You switch the system on and start making electricity.",
        _ => "",
    }
}

/// The kind of day a step happens on, if any.
fn booked_kind(state: JobState) -> Option<Kind> {
    match state {
        JobState::Surveyed => Some(Kind::Survey),
        JobState::Installed => Some(Kind::Install),
        _ => None,
    }
}

/// The kind of day a step schedules (a crew confirming it), if any.
fn scheduled_kind(state: JobState) -> Option<Kind> {
    match state {
        JobState::SurveyScheduled => Some(Kind::Survey),
        JobState::InstallScheduled => Some(Kind::Install),
        _ => None,
    }
}

/// The roadmap of a job at `state`, from its timeline and booked days. `earliest` is the
/// first day that could be booked now (today plus the booking lead time).
pub fn roadmap(
    state: JobState,
    timeline: &[TimelineEntry],
    bookings: &[Booking],
    earliest: NaiveDate,
) -> Vec<Step> {
    // A moved visit's line is not the step: "Deposit paid" keeps the day it was paid.
    let done_at = |s: JobState| timeline.iter().rev().find(|e| e.state == s && !e.moved);
    let live_booking = |kind: Kind| {
        bookings
            .iter()
            .filter(|b| b.kind == kind)
            .filter(|b| matches!(b.status, BookingStatus::Offered | BookingStatus::Confirmed))
            .max_by_key(|b| b.date)
    };
    let reached = state.position();
    // Dates ahead are never before the earliest bookable day.
    let mut anchor = earliest;
    let mut steps = Vec::with_capacity(JobState::ALL.len());
    let mut current_seen = false;
    for s in path() {
        let entry = done_at(s);
        let when = if s.position() <= reached && state != JobState::Cancelled
            || (state == JobState::Cancelled && entry.is_some())
        {
            entry.map_or(When::Passed, |e| When::Done(e.at))
        } else if state == JobState::Cancelled {
            continue;
        } else if let Some(b) = booked_kind(s).and_then(live_booking) {
            anchor = anchor.max(b.date);
            When::Booked {
                date: b.date,
                window: b.window,
                confirmed: b.status == BookingStatus::Confirmed,
            }
        } else if let Some(kind) = scheduled_kind(s) {
            if live_booking(kind).is_some() {
                When::AwaitingCrew
            } else {
                When::YouChoose
            }
        } else {
            anchor = anchor
                .checked_add_days(Days::new(typical_days(s)))
                .unwrap_or(anchor);
            When::Around(anchor)
        };
        let current = !current_seen && !matches!(when, When::Done(_) | When::Passed);
        current_seen |= current;
        steps.push(Step {
            state: s,
            label: s.label(),
            what: what(s),
            when,
            note: entry.and_then(|e| e.note.clone()),
            current,
        });
    }
    // Days done before anything else happened (the quote accepted) lead the list.
    if let Some(e) = done_at(JobState::Accepted) {
        steps.insert(
            0,
            Step {
                state: JobState::Accepted,
                label: JobState::Accepted.label(),
                what: "You accepted the quote; its figures do not change.",
                when: When::Done(e.at),
                note: e.note.clone(),
                current: false,
            },
        );
    }
    if let Some(e) = done_at(JobState::Cancelled).filter(|_| state == JobState::Cancelled) {
        steps.push(Step {
            state: JobState::Cancelled,
            label: JobState::Cancelled.label(),
            what: "The order was cancelled; booked days were released.",
            when: When::Done(e.at),
            note: e.note.clone(),
            current: false,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{BookingId, JobId};

    fn at(day: &str) -> DateTime<Utc> {
        format!("{day}T10:00:00Z").parse().unwrap()
    }

    fn entry(state: JobState, day: &str) -> TimelineEntry {
        TimelineEntry {
            state,
            moved: false,
            label: state.label(),
            at: at(day),
            by: "system".into(),
            note: None,
        }
    }

    fn date(day: &str) -> NaiveDate {
        day.parse().unwrap()
    }

    #[test]
    fn a_booked_survey_leads_the_dates_that_follow() {
        let timeline = [
            entry(JobState::Accepted, "2026-12-01"),
            entry(JobState::DepositPaid, "2026-12-01"),
            entry(JobState::SurveyScheduled, "2026-12-02"),
        ];
        let bookings = [Booking {
            id: BookingId(uuid::Uuid::nil()),
            job_id: JobId(uuid::Uuid::nil()),
            kind: Kind::Survey,
            date: date("2026-12-10"),
            window: None,
            status: BookingStatus::Confirmed,
            crew_id: None,
        }];
        let steps = roadmap(
            JobState::SurveyScheduled,
            &timeline,
            &bookings,
            date("2026-12-05"),
        );
        let find = |s: JobState| steps.iter().find(|x| x.state == s).unwrap();
        assert_eq!(steps.first().unwrap().state, JobState::Accepted);
        assert_eq!(find(JobState::DepositPaid).when, When::Done(at("2026-12-01")));
        assert_eq!(
            find(JobState::Surveyed).when,
            When::Booked {
                date: date("2026-12-10"),
                window: None,
                confirmed: true
            }
        );
        assert!(find(JobState::Surveyed).current);
        assert_eq!(
            find(JobState::DesignApproved).when,
            When::Around(date("2026-12-14"))
        );
        assert_eq!(
            find(JobState::PermitApproved).when,
            When::Around(date("2026-12-31"))
        );
        assert_eq!(find(JobState::InstallScheduled).when, When::YouChoose);
        assert_eq!(find(JobState::Installed).when, When::Around(date("2027-01-07")));
        assert_eq!(find(JobState::Active).when, When::Around(date("2027-02-02")));
        assert_eq!(steps.iter().filter(|s| s.current).count(), 1);
    }

    #[test]
    fn a_cancelled_order_shows_what_was_done_and_no_steps_ahead() {
        let timeline = [
            entry(JobState::Accepted, "2026-12-01"),
            entry(JobState::Cancelled, "2026-12-03"),
        ];
        let steps = roadmap(JobState::Cancelled, &timeline, &[], date("2026-12-05"));
        let states: Vec<JobState> = steps.iter().map(|s| s.state).collect();
        assert_eq!(states, [JobState::Accepted, JobState::Cancelled]);
    }
}
