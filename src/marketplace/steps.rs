//! A step of a job that other domains must follow. A cancelled job gives back the crew days
//! it had booked; the survey and the installation are recorded on their booked day, not
//! before (the home's own calendar day), and only with the photos the step needs; a step sent
//! again with the same key (a phone replaying after lost signal) is recorded once.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseConnection;

use crate::audit::Actor;
use crate::config::Settings;
use crate::jobs::lifecycle::{self, Party};
use crate::jobs::model::{RequiredPhoto, StepReadiness};
use crate::jobs::service::{self as jobs, Job, Step};
use crate::jobs::{JobError, JobState, photos};
use crate::scheduling::Kind;
use crate::scheduling::booking::{self, BookingStatus};
use crate::values::PhotoSubject;

/// What the rules of a step need to know: where links point, the photos each booked step
/// needs, and the moment the step is taken.
#[derive(Clone, Copy, Debug)]
pub struct StepRules<'a> {
    pub public_url: &'a url::Url,
    pub survey_photos: &'a [PhotoSubject],
    pub install_photos: &'a [PhotoSubject],
    /// Now, except for the demo's seed, which plays each job's days as they come.
    pub now: DateTime<Utc>,
}

impl<'a> StepRules<'a> {
    pub fn new(settings: &'a Settings) -> Self {
        StepRules {
            public_url: &settings.public_url,
            survey_photos: &settings.survey_photos,
            install_photos: &settings.install_photos,
            now: Utc::now(),
        }
    }

    fn photos_for(&self, kind: Kind) -> &'a [PhotoSubject] {
        match kind {
            Kind::Survey => self.survey_photos,
            Kind::Install => self.install_photos,
        }
    }
}

/// The confirmed day of `kind` for the job, if one is.
async fn confirmed_day<C: crate::db::Conn>(
    conn: &C,
    job: &Job,
    kind: Kind,
) -> Result<Option<NaiveDate>, JobError> {
    Ok(booking::of_job(conn, job.id)
        .await?
        .into_iter()
        .filter(|b| b.kind == kind && b.status == BookingStatus::Confirmed)
        .map(|b| b.date)
        .max())
}

/// Today on the home's calendar: a crew in Alaska finishes its day after UTC has moved on.
async fn home_today<C: crate::db::Conn>(
    conn: &C,
    job: &Job,
    now: DateTime<Utc>,
) -> Result<NaiveDate, JobError> {
    let site = crate::sites::service::by_id(conn, job.site_id)
        .await
        .map_err(|e| JobError::Internal(e.into()))?;
    let zone = crate::catalog::time_zone_of(conn, &site.region_id).await?;
    Ok(now.with_timezone(&zone).date_naive())
}

/// Whether `party` may record the booked-day step that comes next for `job`, and why not.
/// `None` when the next step is not one done on a booked day, or not this party's.
pub async fn readiness<C: crate::db::Conn>(
    conn: &C,
    job: &Job,
    party: Party,
    rules: &StepRules<'_>,
) -> Result<Option<StepReadiness>, JobError> {
    let Some((step, kind)) = lifecycle::next_steps(job.state, party)
        .into_iter()
        .find_map(|s| Kind::done_on(s).map(|k| (s, k)))
    else {
        return Ok(None);
    };
    Ok(Some(check(conn, job, step, kind, rules).await?))
}

async fn check<C: crate::db::Conn>(
    conn: &C,
    job: &Job,
    step: JobState,
    kind: Kind,
    rules: &StepRules<'_>,
) -> Result<StepReadiness, JobError> {
    let required = rules.photos_for(kind);
    let missing = photos::missing(conn, job.id, required).await?;
    let day = confirmed_day(conn, job, kind).await?;
    let today = home_today(conn, job, rules.now).await?;
    let (waiting_for, why_not) = match day {
        None => (
            Some("day"),
            Some(format!("No {} day is confirmed yet.", kind.label())),
        ),
        Some(day) if today < day => (
            Some("day"),
            Some(format!(
                "You can record this from {}, the booked day.",
                day.format("%A %-d %B")
            )),
        ),
        Some(_) if !missing.is_empty() => (
            Some("photos"),
            Some(format!(
                "Take the {} photo{} first.",
                missing
                    .iter()
                    .map(|s| s.label().to_lowercase().trim_start_matches("the ").to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 { "" } else { "s" }
            )),
        ),
        Some(_) => (None, None),
    };
    Ok(StepReadiness {
        step,
        day,
        photos: required
            .iter()
            .map(|s| RequiredPhoto {
                subject: *s,
                label: s.label(),
                taken: !missing.contains(s),
            })
            .collect(),
        open: why_not.is_none(),
        waiting_for,
        why_not,
    })
}

/// Refuses a booked-day step before its day or without its photos.
async fn enforce<C: crate::db::Conn>(
    conn: &C,
    job: &Job,
    to: JobState,
    rules: &StepRules<'_>,
) -> Result<(), JobError> {
    let Some(kind) = Kind::done_on(to) else {
        return Ok(());
    };
    let readiness = check(conn, job, to, kind, rules).await?;
    if readiness.open {
        return Ok(());
    }
    let missing: Vec<PhotoSubject> = readiness
        .photos
        .iter()
        .filter(|p| !p.taken)
        .map(|p| p.subject)
        .collect();
    // The readiness already says what the step waits for: no second look at the calendar.
    Err(match (readiness.waiting_for, readiness.day) {
        (_, None) => JobError::NoDay(kind.label()),
        (Some("day"), Some(day)) => JobError::TooEarly {
            kind: kind.label(),
            day,
        },
        _ => JobError::PhotosMissing(missing),
    })
}

/// Moves `job` one step on behalf of `party`. A cancellation releases the job's bookings in
/// the same transaction; a step sent again with a key already recorded answers the job as it
/// stands, without recording anything.
pub async fn step(
    db: &DatabaseConnection,
    actor: &Actor,
    job: &Job,
    party: Party,
    step: Step,
    rules: &StepRules<'_>,
) -> Result<Job, JobError> {
    if let Some(key) = &step.key
        && jobs::step_recorded(db, job.id, key).await?
    {
        return jobs::reload(db, job.id).await;
    }
    // The lifecycle's own refusal (not yours, no such step) comes before the calendar's.
    lifecycle::check(job.state, step.to, party)?;
    enforce(db, job, step.to, rules).await?;
    let key = step.key.clone();
    let to = step.to;
    let result = async {
        let tx = crate::db::begin(db).await?;
        jobs::step_in(&tx, actor, job, party, step, rules.public_url).await?;
        if to == JobState::Cancelled {
            crate::scheduling::booking::release_all(&tx, actor, job).await?;
        }
        let updated = jobs::reload(&tx, job.id).await?;
        tx.commit().await?;
        Ok(updated)
    }
    .await;
    match (result, key) {
        // Two replays raced: the first recorded the step; the second finds its key.
        (Err(e), Some(key)) => {
            if jobs::step_recorded(db, job.id, &key).await? {
                jobs::reload(db, job.id).await
            } else {
                Err(e)
            }
        }
        (result, _) => result,
    }
}
