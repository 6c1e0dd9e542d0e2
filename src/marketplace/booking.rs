//! Booking a day for an order: it reads the order (whose it is and what it holds), the home
//! (where the crew must travel) and the job (which step waits for a day), then books through
//! scheduling, which alone writes crews' days and offers. The API and the order page both
//! call these, so the rules are said once.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::audit::Actor;
use crate::config::Settings;
use crate::ids::{BookingId, JobId};
use crate::jobs::service::Job;
use crate::jobs::{JobError, JobState};
use crate::orders::service::Order;
use crate::scheduling::Kind;
use crate::scheduling::booking::{self, Booking, BookingError, BookingStatus, Mover, Rules};
use crate::scheduling::slots::{self, Need, Slot, Window};

/// The booking window and the offer timeout the settings give, from today.
pub fn rules(settings: &Settings) -> Rules {
    Rules {
        window: Window::from_today(
            Utc::now().date_naive(),
            settings.booking_lead_days,
            settings.booking_horizon_days,
        ),
        offer_timeout: settings.market().offer_timeout,
    }
}

/// Where the job is and what it needs, for matching crews.
/// What the order needs from a crew, and the region its home is in (whose holidays count).
async fn need_of(db: &DatabaseConnection, order: &Order, kind: Kind) -> Result<(Need, String), BookingError> {
    // An order's home always exists: its absence is a fault, never a 404.
    let site = crate::sites::service::by_id(db, order.site_id)
        .await
        .map_err(|e| anyhow::Error::from(e).context("the order's home"))?;
    let need = Need {
        kind,
        at: (site.latitude, site.longitude),
        battery: order.needs_battery,
    };
    Ok((need, site.region_id))
}

/// The order's job. An order and its job are made in one transaction: an order without one is
/// a fault.
async fn job_of(db: &DatabaseConnection, order: &Order) -> Result<Job, BookingError> {
    Ok(crate::jobs::service::of_order(db, order.id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| anyhow::anyhow!("order {} has no job", order.id))?)
}

/// A job and its order, for staff who manage jobs. A job always has one (the two are made in
/// one transaction): its absence is a fault.
pub async fn job_and_order(db: &DatabaseConnection, id: JobId) -> Result<(Job, Order), JobError> {
    let job = crate::jobs::service::reload(db, id).await?;
    let order = crate::orders::service::get(db, job.order_id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| anyhow::anyhow!("job {id} has no order"))?;
    Ok((job, order))
}

/// Free days for `kind` from crews that serve the order's home.
pub async fn free_days(
    db: &DatabaseConnection,
    settings: &Settings,
    order: &Order,
    kind: Kind,
) -> Result<Vec<Slot>, BookingError> {
    let (need, region) = need_of(db, order, kind).await?;
    Ok(slots::free(db, need, &region, rules(settings).window)
        .await
        .map_err(anyhow::Error::from)?)
}

/// The free windows a booked visit could move to: those of its kind, its own time left out.
pub async fn other_times(
    db: &DatabaseConnection,
    settings: &Settings,
    order: &Order,
    visit: &Booking,
) -> Result<Vec<Slot>, BookingError> {
    let own = visit.window.map(|w| Slot::new(visit.kind, visit.date, w).id);
    Ok(free_days(db, settings, order, visit.kind)
        .await?
        .into_iter()
        .filter(|s| Some(&s.id) != own.as_ref())
        .collect())
}

/// The step that waits for the customer to pick a day, if any: the survey once the deposit is
/// paid, the installation once the permit is approved, each unless a day is already offered
/// or confirmed for it.
pub fn step_to_book(order: &Order, bookings: &[Booking]) -> Option<Kind> {
    let live = |kind: Kind| {
        bookings
            .iter()
            .any(|b| b.kind == kind && matches!(b.status, BookingStatus::Offered | BookingStatus::Confirmed))
    };
    match order.state {
        JobState::DepositPaid if !live(Kind::Survey) => Some(Kind::Survey),
        JobState::PermitApproved if !live(Kind::Install) => Some(Kind::Install),
        _ => None,
    }
}

/// Books `slot_id` for `order`: the job is offered to the best crew for that day. The caller
/// has already checked that the order is the actor's (`orders::service::own`).
pub async fn book(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    order: &Order,
    slot_id: &str,
) -> Result<Booking, BookingError> {
    let job = job_of(db, order).await?;
    let kind = Slot::parse(slot_id)
        .map(|s| s.kind)
        .ok_or(BookingError::UnknownSlot)?;
    let (need, region) = need_of(db, order, kind).await?;
    booking::book(
        db,
        actor,
        &booking::BookingRequest {
            job: &job,
            need,
            region: &region,
            slot_id,
        },
        rules(settings),
        &settings.public_url,
    )
    .await
}

/// The live bookings of the order's job that its customer may still move themselves (far
/// enough ahead), with the lead time the settings give.
pub fn owner_may_move(settings: &Settings, b: &Booking, zone: chrono_tz::Tz) -> bool {
    matches!(b.status, BookingStatus::Offered | BookingStatus::Confirmed)
        && booking::owner_may_move(b.date, b.window, lead(settings), zone)
}

fn lead(settings: &Settings) -> chrono::TimeDelta {
    chrono::TimeDelta::hours(i64::from(settings.reschedule_lead_hours))
}

/// Who asks for a move.
pub enum MovedBy<'a> {
    /// The order's customer (already checked as theirs).
    Owner,
    /// Staff with `job.manage`, with the reason for the record.
    Staff { reason: &'a str },
}

/// Moves booking `id` of `order`'s job to `slot_id`. A booking that is not the order's is 404
/// and recorded as a refusal.
pub async fn move_booking(
    db: &DatabaseConnection,
    settings: &Settings,
    actor: &Actor,
    order: &Order,
    id: BookingId,
    slot_id: &str,
    by: MovedBy<'_>,
) -> Result<Booking, BookingError> {
    let job = job_of(db, order).await?;
    let bookings = booking::of_job(db, job.id).await.map_err(anyhow::Error::from)?;
    let Some(current) = bookings.iter().find(|b| b.id == id) else {
        let permission = match by {
            MovedBy::Owner => crate::access::Permission::OwnOrders,
            MovedBy::Staff { .. } => crate::access::Permission::ManageJobs,
        };
        crate::access::object::refused(db, actor, booking::booking_target(id), permission).await;
        return Err(BookingError::NotFound);
    };
    let (need, region) = need_of(db, order, current.kind).await?;
    let zone = crate::catalog::time_zone_of(db, &region)
        .await
        .map_err(anyhow::Error::from)?;
    let by = match by {
        MovedBy::Owner => Mover::Customer {
            lead: lead(settings),
            zone,
        },
        MovedBy::Staff { reason } => Mover::Staff { reason },
    };
    booking::reschedule(
        db,
        actor,
        &booking::MoveRequest {
            job: &job,
            booking: id,
            need,
            region: &region,
            slot_id,
            by,
        },
        rules(settings),
        &settings.public_url,
    )
    .await
}
