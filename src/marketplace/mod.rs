//! Workflows that span the marketplace's domains: a step of a job that other domains must
//! follow (a cancelled job gives back the crew days it had booked), and booking a day for an
//! order (`booking`). It sits above jobs and
//! scheduling, so neither imports the other to do it, and each still writes only its own
//! tables, all in one transaction.

pub mod booking;

use sea_orm::DatabaseConnection;

use crate::audit::Actor;
use crate::jobs::lifecycle::Party;
use crate::jobs::service::{self as jobs, Job};
use crate::jobs::{JobError, JobState};

/// Moves `job` to `to` on behalf of `party`; a cancellation releases the job's bookings in
/// the same transaction.
pub async fn step(
    db: &DatabaseConnection,
    actor: &Actor,
    job: &Job,
    party: Party,
    to: JobState,
    note: Option<String>,
    public_url: &url::Url,
) -> Result<Job, JobError> {
    let tx = crate::db::begin(db).await?;
    jobs::step_in(&tx, actor, job, party, to, note, public_url).await?;
    if to == JobState::Cancelled {
        crate::scheduling::booking::release_all(&tx, actor, job).await?;
    }
    let updated = jobs::reload(&tx, job.id).await?;
    tx.commit().await?;
    Ok(updated)
}
