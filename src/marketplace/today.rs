//! A crew's days: the visits booked for it today and the next days (the survey or the
//! installation of a job it holds), each with what the crew needs on the doorstep — the town
//! and address, the customer's first name and phone, a link the phone's map app opens, the
//! access notes, what to do and which photos to take — and the jobs it holds that wait for
//! something other than a visit (a permit to file, an inspection to record).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::steps::{self, StepRules};
use crate::crews::model::ArrivalWindow;
use crate::ids::{CrewId, JobId};
use crate::jobs::lifecycle::Party;
use crate::jobs::model::StepReadiness;
use crate::jobs::service::{self as jobs, Job};
use crate::jobs::{JobError, JobState};
use crate::scheduling::Kind;
use crate::scheduling::booking::{self, BookingStatus};

/// How many days the list (and the phone's offline copy) covers, today included.
pub const DAYS: i64 = 3;

/// One visit: a booked day of a job the crew holds.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Visit {
    #[schema(value_type = String)]
    pub job_id: JobId,
    /// The short reference people read out on the phone (`J-…`).
    pub reference: String,
    pub kind: Kind,
    /// The booked day, on the home's calendar.
    pub date: NaiveDate,
    /// When the crew is expected (`8 am – 12 pm`, in the home's time zone); "All day" for
    /// visits booked before arrival windows.
    pub window: String,
    /// The window, for clients that show it their own way.
    #[schema(value_type = Option<crate::crews::model::WindowText>)]
    pub arrival_window: Option<ArrivalWindow>,
    pub town: Option<String>,
    pub address: String,
    pub customer_first_name: String,
    /// A `tel:` link to the customer, when they gave a number.
    pub phone_uri: Option<String>,
    /// A `geo:` link with the home's location: the phone's own map app opens it.
    pub geo_uri: String,
    pub access_notes: Option<String>,
    pub state: JobState,
    /// What to do on this visit, in a sentence.
    pub todo: &'static str,
    /// The step the visit ends with, whether it can be recorded now, and its photos.
    pub readiness: Option<StepReadiness>,
    /// The day is past and the step is still not recorded.
    pub overdue: bool,
}

/// A job the crew holds that waits for something other than a visit.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WaitingJob {
    #[schema(value_type = String)]
    pub job_id: JobId,
    pub reference: String,
    pub state: JobState,
    pub town: Option<String>,
    pub todo: &'static str,
}

/// A day of visits.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Day {
    pub date: NaiveDate,
    /// "Today", "Tomorrow" or the weekday and date.
    pub title: String,
    pub visits: Vec<Visit>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CrewDays {
    /// Today, then the next days (always `DAYS` of them, empty ones included).
    pub days: Vec<Day>,
    /// Visits further ahead, soonest first.
    pub later: Vec<Visit>,
    pub waiting: Vec<WaitingJob>,
    pub generated_at: DateTime<Utc>,
}

/// What the crew does at `state`, when the job is theirs.
fn todo(state: JobState) -> Option<&'static str> {
    Some(match state {
        JobState::SurveyScheduled => {
            "Survey the roof and the electrical service, take the photos, then record the survey."
        }
        JobState::InstallScheduled => "Install the system, take the photos, then record the installation.",
        JobState::DesignApproved => "The customer approved the design: apply for the permit and record it.",
        JobState::PermitSubmitted => "Record the permit's approval when the authority grants it.",
        JobState::Installed => "Book the inspection and record it when it passes.",
        _ => return None,
    })
}

/// The day a visit is listed under: a past day still open counts as today.
fn title(date: NaiveDate, today: NaiveDate) -> String {
    match (date - today).num_days() {
        0 => "Today".to_owned(),
        1 => "Tomorrow".to_owned(),
        _ => date.format("%A %-d %B").to_string(),
    }
}

/// The days of an installer in no crew: nothing booked.
pub fn empty(rules: &StepRules<'_>) -> CrewDays {
    group(Vec::new(), Vec::new(), rules.now.date_naive())
}

fn group(mut visits: Vec<Visit>, waiting: Vec<WaitingJob>, today: NaiveDate) -> CrewDays {
    // Within a day, in the order the crew arrives.
    visits.sort_by_key(|v| (v.date, v.arrival_window, v.reference.clone()));
    let last = today + TimeDelta::days(DAYS - 1);
    let mut days: Vec<Day> = (0..DAYS)
        .map(|i| {
            let date = today + TimeDelta::days(i);
            Day {
                date,
                title: title(date, today),
                visits: Vec::new(),
            }
        })
        .collect();
    let mut later = Vec::new();
    for v in visits {
        if v.date > last {
            later.push(v);
        } else {
            let i = usize::try_from((v.date.max(today) - today).num_days()).unwrap_or(0);
            days[i].visits.push(v);
        }
    }
    CrewDays {
        days,
        later,
        waiting,
        generated_at: Utc::now(),
    }
}

/// The crew's visits and waiting jobs as of `now`.
pub async fn crew_days(
    db: &DatabaseConnection,
    crew: CrewId,
    rules: &StepRules<'_>,
) -> Result<CrewDays, JobError> {
    let now = rules.now;
    // A crew works in one area: the first home's zone gives "today" for the day titles.
    let mut today: Option<NaiveDate> = None;
    let mut visits = Vec::new();
    let mut waiting = Vec::new();
    for job in jobs::of_crew(db, crew).await? {
        let Some(todo) = todo(job.state) else {
            continue;
        };
        let kind = match job.state {
            JobState::SurveyScheduled => Some(Kind::Survey),
            JobState::InstallScheduled => Some(Kind::Install),
            _ => None,
        };
        let site = crate::sites::service::by_id(db, job.site_id)
            .await
            .map_err(|e| JobError::Internal(e.into()))?;
        let town = crate::sites::model::town_of(&site.address);
        // The crew's "today" is its homes' (a crew works in one area), never UTC's.
        if today.is_none() {
            let zone = crate::catalog::time_zone_of(db, &site.region_id).await?;
            today = Some(now.with_timezone(&zone).date_naive());
        }
        let Some(kind) = kind else {
            waiting.push(WaitingJob {
                job_id: job.id,
                reference: job.id.reference("J"),
                state: job.state,
                town,
                todo,
            });
            continue;
        };
        let Some((date, window)) = booking::of_job(db, job.id)
            .await?
            .into_iter()
            .filter(|b| b.kind == kind && b.status == BookingStatus::Confirmed)
            .map(|b| (b.date, b.window))
            .max()
        else {
            continue;
        };
        let home_today = {
            let zone = crate::catalog::time_zone_of(db, &site.region_id).await?;
            now.with_timezone(&zone).date_naive()
        };
        let when = When { date, window };
        visits.push(visit(db, &job, kind, when, home_today, todo, site, town, rules).await?);
    }
    Ok(group(visits, waiting, today.unwrap_or_else(|| now.date_naive())))
}

/// A visit's booked day and arrival window.
struct When {
    date: NaiveDate,
    window: Option<ArrivalWindow>,
}

#[allow(clippy::too_many_arguments)] // one visit's parts, gathered by the loop above
async fn visit(
    db: &DatabaseConnection,
    job: &Job,
    kind: Kind,
    When { date, window }: When,
    today: NaiveDate,
    todo: &'static str,
    site: crate::sites::service::Site,
    town: Option<String>,
    rules: &StepRules<'_>,
) -> Result<Visit, JobError> {
    let contact = crate::auth::contact_of(db, job.owner_id).await?;
    let first_name = contact
        .as_ref()
        .and_then(|c| c.name.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "the customer".to_owned());
    let phone_uri = contact
        .and_then(|c| c.phone)
        .and_then(|p| crate::values::PhoneNumber::tel_uri(&p));
    Ok(Visit {
        job_id: job.id,
        reference: job.id.reference("J"),
        kind,
        date,
        window: window.map_or_else(|| "All day".to_owned(), |w| w.words()),
        arrival_window: window,
        town,
        geo_uri: crate::geo::Location {
            latitude: site.latitude,
            longitude: site.longitude,
        }
        .geo_uri(),
        address: site.address,
        customer_first_name: first_name,
        phone_uri,
        access_notes: site.access_notes,
        state: job.state,
        todo,
        readiness: steps::readiness(db, job, Party::AssignedCrew, rules).await?,
        overdue: date < today,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_named_as_people_say_them() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(title(today, today), "Today");
        assert_eq!(title(today + TimeDelta::days(1), today), "Tomorrow");
        assert_eq!(title(today + TimeDelta::days(2), today), "Wednesday 9 December");
    }

    #[test]
    fn only_the_crews_steps_have_something_to_do() {
        assert!(todo(JobState::SurveyScheduled).is_some());
        assert!(todo(JobState::InstallScheduled).is_some());
        assert!(
            todo(JobState::Surveyed).is_none(),
            "the customer approves the design"
        );
        assert!(todo(JobState::Active).is_none());
    }
}
