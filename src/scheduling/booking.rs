//! Booking an arrival window: the job takes the window on a day (one live booking of each
//! kind), the best crew with room that day and in that window gives up one unit of each, and
//! the job is offered to it. Moving a booking gives back the old window and takes the new one in
//! one transaction, so a move that fails leaves the booking as it was and nobody can take the
//! old window while the move is under way.
//!
//! No double-booking, on any database: a crew's day is a `crew_load` row, and a unit is taken
//! with `UPDATE … SET booked = booked + 1 WHERE booked < capacity`, which the database applies
//! to the latest committed row under a row lock (SQLite serialises writers with
//! `BEGIN IMMEDIATE`). Two requests racing for the last unit: one update matches, the other
//! matches nothing and is told the day is taken.

use askama::Template;
use chrono::{TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::model::window_of;
use super::slots::{self, Need, Slot, Window};
use super::store::{booking, offer};
use super::{Kind, dispatch};
use crate::audit::{self, Action, Actor, Details};
use crate::crews::Crew;
use crate::ids::{BookingId, CrewId, JobId, UserId};
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
    #[error("no such booking")]
    NotFound,
    #[error("the booking cannot be moved now")]
    NotMovable,
    #[error("it is too close to the booked time to move it")]
    TooLate,
    #[error("the booking is at that time already")]
    SameSlot,
    #[error("the booking changed meanwhile")]
    Changed,
    #[error("a reason of 8 to 500 characters is needed")]
    Reason,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for BookingError {
    fn from(e: DbErr) -> Self {
        BookingError::Internal(e.into())
    }
}

pub use super::capacity::{ensure_load_rows, release, reserve};
pub use super::model::{Booking, BookingStatus, booking_target, when_words};

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

/// A day that may be booked: inside the booking window, and not a holiday of the home's region.
async fn check_day(
    db: &DatabaseConnection,
    rules: Rules,
    region: &str,
    day: chrono::NaiveDate,
) -> Result<(), BookingError> {
    if !rules.window.contains(day) {
        return Err(BookingError::OutOfWindow);
    }
    if !crate::catalog::holidays::closed_days(db, region, day, day)
        .await?
        .is_empty()
    {
        return Err(BookingError::Holiday);
    }
    Ok(())
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
    let Some(slot) = Slot::parse(request.slot_id) else {
        return Err(BookingError::OutOfWindow);
    };
    let (kind, day, window) = (slot.kind, slot.day, slot.window);
    if job.state != kind.bookable_in() {
        return Err(BookingError::WrongState(kind.label()));
    }
    check_day(db, rules, request.region, day).await?;
    let need = Need { kind, ..request.need };
    let ranked = slots::ranked(db, need, day, Some(window), &[]).await?;
    if ranked.is_empty() {
        return Err(BookingError::Taken);
    }
    ensure_load_rows(db, &ranked, day, Some(window)).await?;
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
        if reserve(&tx, crew, day, Some(window)).await? {
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
        arrive_from: Set(Some(window.minutes().0)),
        arrive_until: Set(Some(window.minutes().1)),
        moved_at: Set(None),
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
        if !b.status.is_live() {
            continue;
        }
        // Cancelled first, while still live: the update waits for a move of the same booking
        // under way, and the booking is then read again as it stands, so the units given back
        // are the ones it holds now, not the ones it held before the move.
        let cancelled = booking::Entity::update_many()
            .col_expr(
                booking::Column::Status,
                Expr::value(BookingStatus::Cancelled.as_str()),
            )
            .filter(booking::Column::Id.eq(b.id.0))
            .filter(
                booking::Column::Status
                    .is_in([BookingStatus::Offered.as_str(), BookingStatus::Confirmed.as_str()]),
            )
            .exec(tx)
            .await?;
        if cancelled.rows_affected == 0 {
            continue;
        }
        let Some(now) = booking::Entity::find_by_id(b.id.0).one(tx).await? else {
            continue;
        };
        if let Some(crew) = now.crew_id {
            release(tx, CrewId(crew), now.day, window_of(&now)).await?;
        }
        withdraw_offers(tx, b.id).await?;
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

/// Closes the open offers of a booking (cancelled or moved to another crew).
async fn withdraw_offers<C: crate::db::Conn>(tx: &C, booking: BookingId) -> Result<(), DbErr> {
    offer::Entity::update_many()
        .col_expr(
            offer::Column::Status,
            Expr::value(dispatch::OfferStatus::Withdrawn.as_str()),
        )
        // When it closed: the live screens see the offer leave.
        .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
        .filter(offer::Column::BookingId.eq(booking.0))
        .filter(offer::Column::Status.eq(dispatch::OfferStatus::Pending.as_str()))
        .exec(tx)
        .await?;
    Ok(())
}

/// Who moves a booking, and under which rule.
#[derive(Clone, Copy, Debug)]
pub enum Mover<'a> {
    /// The customer: up to `lead` before the booked window starts in the home's `zone`.
    Customer { lead: TimeDelta, zone: chrono_tz::Tz },
    /// Staff with `job.manage`: any time, with a reason for the record.
    Staff { reason: &'a str },
}

/// A move asked for: which booking of which job, to which slot, by whom.
pub struct MoveRequest<'a> {
    pub job: &'a Job,
    pub booking: BookingId,
    pub need: Need,
    pub region: &'a str,
    pub slot_id: &'a str,
    pub by: Mover<'a>,
}

/// Is a booking on `day` in `window` still far enough away (`lead`) for its customer to move
/// it? Counted from the window's start in the home's time zone (midnight for a whole day).
pub fn owner_may_move(
    day: chrono::NaiveDate,
    window: Option<crate::crews::model::ArrivalWindow>,
    lead: TimeDelta,
    zone: chrono_tz::Tz,
) -> bool {
    let starts = window.map_or(chrono::NaiveTime::MIN, |w| w.from());
    day.and_time(starts)
        .and_local_timezone(zone)
        .earliest()
        .is_some_and(|s| Utc::now() + lead <= s.with_timezone(&Utc))
}

/// How long a staff member's reason may be.
pub const REASON_CHARS: (usize, usize) = (8, 500);

fn checked_reason(raw: &str) -> Result<String, BookingError> {
    let reason = raw.trim();
    let n = reason.chars().count();
    if n < REASON_CHARS.0 || n > REASON_CHARS.1 || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(BookingError::Reason);
    }
    Ok(reason.to_owned())
}

#[derive(Template)]
#[template(path = "mail/booking_moved.txt")]
struct MovedMail<'a> {
    name: &'a str,
    kind: &'a str,
    when: String,
    /// The crew must confirm the new time again.
    reoffered: bool,
    link: String,
}

/// Moves a live booking of `request.job` (the caller checked whose it is) to another window.
/// The crew that holds it keeps it when it has room then; otherwise the job is offered again,
/// and a day the crew had confirmed goes back to waiting for a crew. All in one transaction.
pub async fn reschedule(
    db: &DatabaseConnection,
    actor: &Actor,
    request: &MoveRequest<'_>,
    rules: Rules,
    public_url: &url::Url,
) -> Result<Booking, BookingError> {
    // A move takes two days' rows in its own order; a move the other way, or an offer moving
    // on, may take them in the other: the database gives one up (a deadlock), and that one is
    // run again from the start, reading everything afresh. At most five runs.
    crate::db::run_again(
        |e| matches!(e, BookingError::Internal(e) if crate::db::lost_race(e)),
        || reschedule_once(db, actor, request, rules, public_url),
    )
    .await
}

async fn reschedule_once(
    db: &DatabaseConnection,
    actor: &Actor,
    request: &MoveRequest<'_>,
    rules: Rules,
    public_url: &url::Url,
) -> Result<Booking, BookingError> {
    let job = crate::jobs::service::reload(db, request.job.id)
        .await
        .map_err(|e| BookingError::Internal(e.into()))?;
    let job = &job;
    let current = booking::Entity::find_by_id(request.booking.0)
        .one(db)
        .await?
        .filter(|b| b.job_id == job.id.0)
        .ok_or(BookingError::NotFound)?;
    let status = BookingStatus::parse(&current.status);
    let kind = Kind::parse(&current.kind).ok_or(BookingError::NotMovable)?;
    // Only a visit still to come: a survey once the job is surveyed is history.
    if !status.is_live() || !kind.pending_in(job.state) {
        return Err(BookingError::NotMovable);
    }
    let slot = Slot::parse(request.slot_id)
        .filter(|s| s.kind == kind)
        .ok_or(BookingError::UnknownSlot)?;
    let old_window = window_of(&current);
    if slot.day == current.day && Some(slot.window) == old_window {
        return Err(BookingError::SameSlot);
    }
    let reason = match request.by {
        Mover::Customer { lead, zone } => {
            if !owner_may_move(current.day, old_window, lead, zone) {
                return Err(BookingError::TooLate);
            }
            None
        }
        Mover::Staff { reason } => Some(checked_reason(reason)?),
    };
    check_day(db, rules, request.region, slot.day).await?;
    let need = Need { kind, ..request.need };
    let holder = current.crew_id.map(CrewId);
    // A confirmed crew keeps the job when it can come at the new time; the others are asked
    // only when it cannot.
    let mut candidates: Vec<Crew> = Vec::new();
    if let (BookingStatus::Confirmed, Some(crew)) = (status, holder)
        && let Some(own) = slots::eligible(db, need, slot.day, slot.window, crew).await?
    {
        candidates.push(own);
    }
    let others = slots::ranked(db, need, slot.day, Some(slot.window), &[]).await?;
    let kept: Option<CrewId> = candidates.first().map(|c| c.id);
    candidates.extend(others.into_iter().filter(|c| Some(c.id) != kept));
    if candidates.is_empty() {
        return Err(BookingError::Taken);
    }
    ensure_load_rows(db, &candidates, slot.day, Some(slot.window)).await?;
    let tx = crate::db::begin(db).await?;
    // The job's row first, as a step of the job (a cancellation among them) takes it first:
    // the two queue behind one another instead of locking each other's rows in opposite
    // orders, and a job that left the visit's states meanwhile is not moved.
    let touched = job::Entity::update_many()
        .col_expr(job::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(job.id.0))
        .filter(job::Column::State.eq(job.state.as_str()))
        .exec(&tx)
        .await?;
    if touched.rows_affected == 0 {
        return Err(BookingError::Changed);
    }
    // Then the booking, only as it was read: a move, an answer or a cancellation under way
    // holds its row until it ends, and whichever comes second finds it changed.
    let mut claim = booking::Entity::update_many()
        .col_expr(booking::Column::MovedAt, Expr::value(Utc::now()))
        .filter(booking::Column::Id.eq(current.id))
        .filter(booking::Column::Status.eq(current.status.as_str()))
        .filter(booking::Column::Day.eq(current.day));
    claim = match current.crew_id {
        Some(c) => claim.filter(booking::Column::CrewId.eq(c)),
        None => claim.filter(booking::Column::CrewId.is_null()),
    };
    claim = match current.arrive_from {
        Some(m) => claim.filter(booking::Column::ArriveFrom.eq(m)),
        None => claim.filter(booking::Column::ArriveFrom.is_null()),
    };
    if claim.exec(&tx).await?.rows_affected == 0 {
        return Err(BookingError::Changed);
    }
    // The old unit goes back first, so that a crew moving within its own full day can take
    // the new one; until the transaction ends its row stays locked (SQLite: the one writer),
    // so nobody else can take it, and if no crew can come at the new time the transaction is
    // dropped and the booking is exactly as it was.
    if let Some(old) = holder {
        release(&tx, old, current.day, old_window).await?;
    }
    let mut chosen = None;
    for crew in &candidates {
        if reserve(&tx, crew, slot.day, Some(slot.window)).await? {
            chosen = Some(crew.id);
            break;
        }
    }
    let Some(crew) = chosen else {
        return Err(BookingError::Taken);
    };
    let stays = status == BookingStatus::Confirmed && Some(crew) == holder;
    let new_status = if stays {
        BookingStatus::Confirmed
    } else {
        BookingStatus::Offered
    };
    let (from, until) = slot.window.minutes();
    booking::Entity::update_many()
        .col_expr(booking::Column::Day, Expr::value(slot.day))
        .col_expr(booking::Column::ArriveFrom, Expr::value(from))
        .col_expr(booking::Column::ArriveUntil, Expr::value(until))
        .col_expr(booking::Column::CrewId, Expr::value(crew.0))
        .col_expr(booking::Column::Status, Expr::value(new_status.as_str()))
        .col_expr(booking::Column::MovedAt, Expr::value(Utc::now()))
        .filter(booking::Column::Id.eq(current.id))
        .exec(&tx)
        .await?;
    // The times and the reason go on the job's timeline (sealed), not in the audit details.
    let details = Details::new()
        .with("job", job.id.0)
        .with("kind", kind.as_str())
        .with("by", if reason.is_some() { "staff" } else { "customer" });
    let id = BookingId(current.id);
    audit::record(
        &tx,
        actor,
        Action::BookingMoved,
        Some(booking_target(id)),
        details,
    )
    .await?;
    let when = when_words(slot.day, Some(slot.window));
    let mut note = if stays {
        format!("Moved to {when}; the same crew is coming.")
    } else {
        format!("Moved to {when}; waiting for a crew to confirm.")
    };
    if let Some(reason) = &reason {
        note.push_str(&format!(" Reason: {reason}"));
    }
    let reopen =
        (status == BookingStatus::Confirmed && !stays).then(|| (kind.confirmed_state(), kind.bookable_in()));
    crate::jobs::service::record_move(&tx, actor, job, reopen, note)
        .await
        .map_err(|e| match e {
            crate::jobs::JobError::Conflict => BookingError::Changed,
            other => BookingError::Internal(other.into()),
        })?;
    if stays {
        tell_crew(
            &tx,
            crew,
            job.id,
            "Job moved",
            &format!("{} · now {when}", capitalised(kind.label())),
        )
        .await?;
    } else {
        withdraw_offers(&tx, id).await?;
        if let Some(old) = holder.filter(|_| status == BookingStatus::Confirmed) {
            let body = format!(
                "{} moved to a time your crew cannot take: it is no longer on your calendar",
                capitalised(kind.label())
            );
            tell_crew(&tx, old, job.id, "Job moved off your calendar", &body).await?;
        }
        dispatch::offer_to(&tx, actor, id, crew, rules.offer_timeout, public_url).await?;
    }
    tell_owner(&tx, job, kind, &when, !stays, public_url).await?;
    let stored = booking::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    tx.commit().await?;
    Ok(stored.into())
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A crew's phones (and its company's webhook) hear that a job of theirs moved.
async fn tell_crew<C: crate::db::Conn>(
    tx: &C,
    crew: CrewId,
    job: JobId,
    title: &str,
    body: &str,
) -> Result<(), DbErr> {
    let members = crate::crews::service::member_ids(tx, crew).await?;
    let notice = crate::push::Notice {
        title: title.to_owned(),
        body: body.to_owned(),
        url: "/installer".to_owned(),
    };
    crate::push::enqueue(tx, &members, &notice).await?;
    let data = serde_json::json!({ "job_id": job.to_string() });
    crate::webhooks::enqueue_for_crew(tx, crew, "booking.moved", data).await?;
    Ok(())
}

/// The customer hears the new time, by email and on their phone.
async fn tell_owner<C: crate::db::Conn>(
    tx: &C,
    job: &Job,
    kind: Kind,
    when: &str,
    reoffered: bool,
    public_url: &url::Url,
) -> Result<(), BookingError> {
    let owner: UserId = job.owner_id;
    let Some(contact) = crate::auth::contact_of(tx, owner).await? else {
        return Ok(());
    };
    let link = format!("/orders/{}", job.order_id);
    let body = MovedMail {
        name: &contact.name,
        kind: kind.label(),
        when: when.to_owned(),
        reoffered,
        link: crate::auth::signup::link(public_url, &link, None),
    }
    .render()
    .map_err(|e| BookingError::Internal(e.into()))?;
    let subject = format!("Your {} is moved to {when}", kind.label());
    crate::mail::enqueue_to_stored(tx, &contact.email, subject, body)
        .await
        .map_err(BookingError::Internal)?;
    let notice = crate::push::Notice {
        title: format!("{} moved", capitalised(kind.label())),
        body: when.to_owned(),
        url: link,
    };
    crate::push::enqueue(tx, &[owner], &notice).await?;
    Ok(())
}
