//! Booking a day: the job takes the day (one live booking of each kind), the best crew with
//! room that day gives up one unit of its capacity, and the job is offered to it.
//!
//! No double-booking, on any database: a crew's day is a `crew_load` row, and a unit is taken
//! with `UPDATE … SET booked = booked + 1 WHERE booked < capacity`, which the database applies
//! to the latest committed row under a row lock (SQLite serialises writers with
//! `BEGIN IMMEDIATE`). Two requests racing for the last unit: one update matches, the other
//! matches nothing and is told the day is taken.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::slots::{self, Need, Slot, Window};
use super::store::{booking, offer};
use super::{Kind, dispatch};
use crate::audit::{self, Action, Actor, Details};
use crate::ids::{BookingId, JobId};
use crate::jobs::Job;
use crate::jobs::store::job;

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("the job cannot book a {0} now")]
    WrongState(&'static str),
    #[error("a {0} is booked already")]
    AlreadyBooked(&'static str),
    #[error("the day is outside the bookable window")]
    OutOfWindow,
    #[error("the day is taken")]
    Taken,
    #[error("no such day to book")]
    UnknownSlot,
    #[error("no crew works that day: it is a public holiday")]
    Holiday,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for BookingError {
    fn from(e: DbErr) -> Self {
        BookingError::Internal(e.into())
    }
}

pub use super::capacity::{ensure_load_rows, release, reserve};
pub use super::model::{Booking, BookingStatus, booking_target};

fn pointer(kind: Kind) -> job::Column {
    match kind {
        Kind::Survey => job::Column::SurveyBookingId,
        Kind::Install => job::Column::InstallBookingId,
    }
}

/// What a booking needs to know about the settings.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub window: Window,
    pub offer_timeout: chrono::TimeDelta,
}

/// What is booked: a day (`slot_id`) for a job that needs `need`.
pub struct BookingRequest<'a> {
    pub job: &'a Job,
    pub need: Need,
    /// The home's region: its holidays are not booked.
    pub region: &'a str,
    pub slot_id: &'a str,
}

/// Books the day for the job (the owner's, already checked) and offers it to the best crew.
pub async fn book(
    db: &DatabaseConnection,
    actor: &Actor,
    request: &BookingRequest<'_>,
    rules: Rules,
    public_url: &url::Url,
) -> Result<Booking, BookingError> {
    let job = request.job;
    let Some((kind, day)) = Slot::parse(request.slot_id) else {
        return Err(BookingError::OutOfWindow);
    };
    if job.state != kind.bookable_in() {
        return Err(BookingError::WrongState(kind.label()));
    }
    if !rules.window.contains(day) {
        return Err(BookingError::OutOfWindow);
    }
    if !crate::catalog::holidays::closed_days(db, request.region, day, day)
        .await?
        .is_empty()
    {
        return Err(BookingError::Holiday);
    }
    let need = Need { kind, ..request.need };
    let ranked = slots::ranked(db, need, day, &[]).await?;
    if ranked.is_empty() {
        return Err(BookingError::Taken);
    }
    ensure_load_rows(db, &ranked, day).await?;
    let id = BookingId::new();
    let tx = crate::db::begin(db).await?;
    // One live booking of each kind per job, and only in the state that takes it.
    let claimed = job::Entity::update_many()
        .col_expr(pointer(kind), Expr::value(id.0))
        .filter(job::Column::Id.eq(job.id.0))
        .filter(job::Column::State.eq(kind.bookable_in().as_str()))
        .filter(pointer(kind).is_null())
        .exec(&tx)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(BookingError::AlreadyBooked(kind.label()));
    }
    let mut chosen = None;
    for crew in &ranked {
        if reserve(&tx, crew, day).await? {
            chosen = Some(crew);
            break;
        }
    }
    // Dropping the transaction undoes the claim on the job.
    let Some(crew) = chosen else {
        return Err(BookingError::Taken);
    };
    booking::Entity::insert(booking::ActiveModel {
        id: Set(id.0),
        job_id: Set(job.id.0),
        kind: Set(kind.as_str().to_owned()),
        day: Set(day),
        crew_id: Set(Some(crew.id.0)),
        status: Set(BookingStatus::Offered.as_str().to_owned()),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(&tx)
    .await?;
    let details = Details::new().with("job", job.id.0).with("kind", kind.as_str());
    audit::record(&tx, actor, Action::BookingMade, Some(booking_target(id)), details).await?;
    dispatch::offer_to(&tx, actor, id, crew.id, rules.offer_timeout, public_url).await?;
    let stored = booking::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    tx.commit().await?;
    Ok(stored.into())
}

/// The bookings of a job, oldest first.
pub async fn of_job<C: crate::db::Conn>(conn: &C, job: JobId) -> Result<Vec<Booking>, DbErr> {
    Ok(booking::Entity::find()
        .filter(booking::Column::JobId.eq(job.0))
        .all(conn)
        .await?
        .into_iter()
        .map(Booking::from)
        .collect())
}

/// A cancelled job gives back its days and withdraws its open offers (in the cancellation's
/// transaction).
pub async fn release_all<C: crate::db::Conn>(tx: &C, actor: &Actor, job: &Job) -> Result<(), DbErr> {
    for b in of_job(tx, job.id).await? {
        if !matches!(b.status, BookingStatus::Offered | BookingStatus::Confirmed) {
            continue;
        }
        if let Some(crew) = b.crew_id {
            release(tx, crew, b.date).await?;
        }
        booking::Entity::update_many()
            .col_expr(
                booking::Column::Status,
                Expr::value(BookingStatus::Cancelled.as_str()),
            )
            .filter(booking::Column::Id.eq(b.id.0))
            .exec(tx)
            .await?;
        offer::Entity::update_many()
            .col_expr(
                offer::Column::Status,
                Expr::value(dispatch::OfferStatus::Withdrawn.as_str()),
            )
            // When it closed: the live screens see the offer leave.
            .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
            .filter(offer::Column::BookingId.eq(b.id.0))
            .filter(offer::Column::Status.eq(dispatch::OfferStatus::Pending.as_str()))
            .exec(tx)
            .await?;
        let details = Details::new().with("reason", "job_cancelled");
        audit::record(
            tx,
            actor,
            Action::BookingReleased,
            Some(booking_target(b.id)),
            details,
        )
        .await?;
    }
    Ok(())
}
