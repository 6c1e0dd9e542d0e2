//! Offers: a booked day goes to one crew at a time. The crew accepts (the job is theirs and the
//! customer is told) or declines, or lets the offer lapse; then the unit of capacity it held
//! goes back and the day is offered to the next crew that could take it. When no crew can, the
//! booking is released and the customer asked to pick another day.
//!
//! Every change is a conditional update on the offer's status, so an answer racing the expiry
//! worker (on this or another replica) takes effect once.

use askama::Template;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::Kind;
use super::capacity;
use super::model::{BookingStatus, booking_target, when_words, window_of};
use super::slots::{self, Need};
use super::store::{booking as booking_row, offer};
use crate::access::{Permission, object};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::crews::model::ArrivalWindow;
use crate::ids::{BookingId, CrewId, JobId, OfferId, UserId};
use crate::jobs::service::{self as jobs};
use crate::jobs::store::job;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Pending,
    Accepted,
    Declined,
    Expired,
    /// The job was cancelled while the offer was open.
    Withdrawn,
}

impl OfferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Pending => "pending",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("not found")]
    NotFound,
    #[error("the offer is no longer open")]
    Closed,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for OfferError {
    fn from(e: DbErr) -> Self {
        OfferError::Internal(e.into())
    }
}

impl From<crate::jobs::JobError> for OfferError {
    fn from(e: crate::jobs::JobError) -> Self {
        OfferError::Internal(e.into())
    }
}

fn offer_target(id: OfferId) -> Target {
    Target {
        kind: "offer",
        id: id.to_string(),
    }
}

#[derive(Template)]
#[template(path = "mail/new_offer.txt")]
struct OfferMail<'a> {
    name: &'a str,
    kind: &'a str,
    day: String,
    expires: String,
    link: String,
}

/// Offers booking `booking` to `crew` (whose capacity the caller reserved) and emails its
/// members, in the caller's transaction.
pub async fn offer_to<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    booking: BookingId,
    crew: CrewId,
    timeout: TimeDelta,
    public_url: &url::Url,
) -> Result<OfferId, DbErr> {
    let id = OfferId::new();
    let now = Utc::now();
    let expires = now + timeout;
    offer::Entity::insert(offer::ActiveModel {
        id: Set(id.0),
        booking_id: Set(booking.0),
        crew_id: Set(crew.0),
        status: Set(OfferStatus::Pending.as_str().to_owned()),
        offered_at: Set(now),
        expires_at: Set(expires),
        responded_at: Set(None),
        responded_by: Set(None),
    })
    .exec_without_returning(tx)
    .await?;
    let details = Details::new().with("booking", booking.0).with("crew", crew.0);
    audit::record(tx, actor, Action::OfferMade, Some(offer_target(id)), details).await?;
    if let Some(b) = booking_row::Entity::find_by_id(booking.0).one(tx).await? {
        let data = serde_json::json!({
            "offer_id": id.to_string(),
            "job_id": b.job_id.to_string(),
            "kind": b.kind,
            "day": b.day.to_string(),
            "window": window_of(&b),
            "expires_at": expires.to_rfc3339(),
        });
        crate::webhooks::enqueue_for_crew(tx, crew, "offer.made", data).await?;
    }
    if let Some(b) = booking_row::Entity::find_by_id(booking.0).one(tx).await? {
        let kind = Kind::parse(&b.kind).unwrap_or(Kind::Survey);
        let members = crate::crews::service::member_ids(tx, crew).await?;
        // The lock screen shows the kind, the town and the day: never a name or a street.
        let town = match job::Entity::find_by_id(b.job_id).one(tx).await? {
            Some(j) => crate::sites::service::by_id(tx, crate::ids::SiteId(j.site_id))
                .await
                .ok()
                .and_then(|site| crate::sites::model::town_of(&site.address)),
            None => None,
        };
        let label = kind.label();
        let mut body = label[..1].to_uppercase() + &label[1..];
        if let Some(town) = town {
            body.push_str(&format!(" · {town}"));
        }
        body.push_str(&format!(" · {}", when_words(b.day, window_of(&b))));
        let notice = crate::push::Notice {
            title: "New job offer".to_owned(),
            body,
            url: "/installer".to_owned(),
        };
        crate::push::enqueue(tx, &members, &notice).await?;
        for member in members {
            let Some(contact) = crate::auth::contact_of(tx, member).await? else {
                continue;
            };
            let body = OfferMail {
                name: &contact.name,
                kind: kind.label(),
                day: when_words(b.day, window_of(&b)),
                expires: expires.format("%Y-%m-%d %H:%M UTC").to_string(),
                link: crate::auth::signup::link(public_url, "/installer", None),
            }
            .render()
            .map_err(|e| DbErr::Custom(format!("offer mail: {e}")))?;
            crate::mail::enqueue_to_stored(
                tx,
                &contact.email,
                format!("New job offer: {}", kind.label()),
                body,
            )
            .await
            .map_err(|e| DbErr::Custom(format!("offer mail: {e}")))?;
        }
    }
    Ok(id)
}

/// An offer as a crew sees it: what, when, how far, how big; no street address until accepted.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OfferView {
    #[schema(value_type = String)]
    pub id: OfferId,
    pub kind: Kind,
    pub date: NaiveDate,
    /// When the crew is expected, in the home's time zone.
    #[schema(value_type = Option<crate::crews::model::WindowText>)]
    pub window: Option<ArrivalWindow>,
    pub expires_at: DateTime<Utc>,
    pub status: OfferStatus,
    /// From the crew's base to the home, rounded to the km.
    pub distance_km: f64,
    pub system_kw: f64,
    pub panels: i32,
    pub battery: bool,
    /// The region the home is in (the street address shows once the job is accepted).
    pub region: String,
    /// The home's town, when its address names one.
    pub town: Option<String>,
    #[schema(value_type = String)]
    pub job_id: JobId,
}

fn offer_status(raw: &str) -> OfferStatus {
    match raw {
        "accepted" => OfferStatus::Accepted,
        "declined" => OfferStatus::Declined,
        "expired" => OfferStatus::Expired,
        "withdrawn" => OfferStatus::Withdrawn,
        _ => OfferStatus::Pending,
    }
}

/// Offers made or answered after `since`: their id, crew and when (for the live screens).
pub async fn changed_since<C: crate::db::Conn>(
    conn: &C,
    since: DateTime<Utc>,
) -> Result<Vec<(uuid::Uuid, CrewId, DateTime<Utc>)>, DbErr> {
    use sea_orm::Condition;
    // Oldest first: rows past the limit are newer, and the next look starts from the last seen.
    let rows = offer::Entity::find()
        .filter(
            Condition::any()
                .add(offer::Column::OfferedAt.gt(since))
                .add(offer::Column::RespondedAt.gt(since)),
        )
        .order_by_asc(offer::Column::OfferedAt)
        .limit(1000)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|o| {
            let at = o.responded_at.unwrap_or(o.offered_at).max(o.offered_at);
            (o.id, CrewId(o.crew_id), at)
        })
        .collect())
}

/// The open offers of a crew, soonest deadline first.
pub async fn open_for(db: &DatabaseConnection, crew: CrewId) -> Result<Vec<OfferView>, OfferError> {
    let rows = offer::Entity::find()
        .filter(offer::Column::CrewId.eq(crew.0))
        .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
        .filter(offer::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(offer::Column::ExpiresAt)
        .limit(100)
        .all(db)
        .await?;
    let Some(crew) = crate::crews::service::crew(db, crew).await? else {
        return Ok(Vec::new());
    };
    let mut views = Vec::with_capacity(rows.len());
    for o in rows {
        let Some(b) = booking_row::Entity::find_by_id(o.booking_id).one(db).await? else {
            continue;
        };
        let Some(j) = job::Entity::find_by_id(b.job_id).one(db).await? else {
            continue;
        };
        let Some(order) = crate::orders::service::get(db, crate::ids::OrderId(j.order_id))
            .await
            .map_err(|e| OfferError::Internal(e.into()))?
        else {
            continue;
        };
        let site = crate::sites::service::by_id(db, crate::ids::SiteId(j.site_id))
            .await
            .map_err(|e| OfferError::Internal(e.into()))?;
        let distance = crate::crews::model::distance_km(
            (crew.base_latitude, crew.base_longitude),
            (site.latitude, site.longitude),
        );
        views.push(OfferView {
            id: OfferId(o.id),
            kind: Kind::parse(&b.kind).unwrap_or(Kind::Survey),
            date: b.day,
            window: window_of(&b),
            expires_at: o.expires_at,
            status: offer_status(&o.status),
            distance_km: distance.round(),
            system_kw: order.system_kw.value(),
            panels: order.panels,
            battery: order.needs_battery,
            town: crate::sites::model::town_of(&site.address),
            region: site.region_id,
            job_id: JobId(j.id),
        });
    }
    Ok(views)
}

/// A crew member's answer to an offer, with the offer timeout and the public address the
/// settings give (the API and the portal).
pub async fn answer(
    db: &DatabaseConnection,
    settings: &crate::config::Settings,
    actor: &Actor,
    member: UserId,
    id: OfferId,
    accept: bool,
) -> Result<(), OfferError> {
    // An answer racing a move of the same booking can lose a deadlock (each takes the offer,
    // the booking and the audit chain in its own order): it runs again from the start, where
    // the offer it finds withdrawn answers `Closed`. At most five runs.
    crate::db::run_again(
        |e| matches!(e, OfferError::Internal(e) if crate::db::lost_race(e)),
        || {
            respond(
                db,
                actor,
                member,
                id,
                accept,
                settings.market().offer_timeout,
                &settings.public_url,
            )
        },
    )
    .await
}

/// A crew member's answer to an offer made to their crew. Someone else's offer is 404.
pub async fn respond(
    db: &DatabaseConnection,
    actor: &Actor,
    member: UserId,
    id: OfferId,
    accept: bool,
    timeout: TimeDelta,
    public_url: &url::Url,
) -> Result<(), OfferError> {
    let crew = crate::crews::service::crew_of(db, member).await?;
    let row = offer::Entity::find_by_id(id.0).one(db).await?;
    let Some(row) = row.filter(|o| Some(CrewId(o.crew_id)) == crew) else {
        object::refused(db, actor, offer_target(id), Permission::WorkJobs).await;
        return Err(OfferError::NotFound);
    };
    let Some(b) = booking_row::Entity::find_by_id(row.booking_id).one(db).await? else {
        return Err(OfferError::NotFound);
    };
    if !accept {
        // The next crews need their load rows before the transaction (see booking.rs).
        prepare_next(db, &b).await?;
    }
    let now = Utc::now();
    let tx = crate::db::begin(db).await?;
    let status = if accept {
        OfferStatus::Accepted
    } else {
        OfferStatus::Declined
    };
    let answered = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value(status.as_str()))
        .col_expr(offer::Column::RespondedAt, Expr::value(now))
        .col_expr(offer::Column::RespondedBy, Expr::value(member.0))
        .filter(offer::Column::Id.eq(id.0))
        .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
        .filter(offer::Column::ExpiresAt.gt(now))
        .exec(&tx)
        .await?;
    if answered.rows_affected == 0 {
        return Err(OfferError::Closed);
    }
    let action = if accept {
        Action::OfferAccepted
    } else {
        Action::OfferDeclined
    };
    audit::record(&tx, actor, action, Some(offer_target(id)), Details::new()).await?;
    if accept {
        confirm(&tx, actor, &b, CrewId(row.crew_id), public_url).await?;
    } else {
        move_on(&tx, actor, &b, CrewId(row.crew_id), timeout, public_url).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The crew took the day: the booking is confirmed, the job is theirs, the customer is told.
async fn confirm<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    b: &booking_row::Model,
    crew: CrewId,
    public_url: &url::Url,
) -> Result<(), OfferError> {
    booking_row::Entity::update_many()
        .col_expr(
            booking_row::Column::Status,
            Expr::value(BookingStatus::Confirmed.as_str()),
        )
        .filter(booking_row::Column::Id.eq(b.id))
        .exec(tx)
        .await?;
    job::Entity::update_many()
        .col_expr(job::Column::CrewId, Expr::value(crew.0))
        .filter(job::Column::Id.eq(b.job_id))
        .exec(tx)
        .await?;
    let kind = Kind::parse(&b.kind).unwrap_or(Kind::Survey);
    let current = job::Entity::find_by_id(b.job_id)
        .one(tx)
        .await?
        .ok_or(OfferError::NotFound)?;
    let current = jobs::Job::try_from(current)?;
    if current.state == kind.bookable_in() {
        jobs::record_step(
            tx,
            actor,
            &current,
            jobs::Step::to(kind.confirmed_state()),
            public_url,
        )
        .await?;
    }
    Ok(())
}

/// Creates the load rows of the crews that could take `b`'s day next.
async fn prepare_next(db: &DatabaseConnection, b: &booking_row::Model) -> Result<(), OfferError> {
    let need = need_of(db, b).await?;
    let window = window_of(b);
    let crews = slots::ranked(db, need, b.day, window, &[]).await?;
    capacity::ensure_load_rows(db, &crews, b.day, window).await?;
    Ok(())
}

async fn need_of<C: crate::db::Conn>(conn: &C, b: &booking_row::Model) -> Result<Need, OfferError> {
    let j = job::Entity::find_by_id(b.job_id)
        .one(conn)
        .await?
        .ok_or(OfferError::NotFound)?;
    let site = crate::sites::service::by_id(conn, crate::ids::SiteId(j.site_id))
        .await
        .map_err(|e| OfferError::Internal(e.into()))?;
    let battery = crate::orders::store::order::Entity::find_by_id(j.order_id)
        .one(conn)
        .await?
        .is_some_and(|o| o.needs_battery);
    Ok(Need {
        kind: Kind::parse(&b.kind).unwrap_or(Kind::Survey),
        at: (site.latitude, site.longitude),
        battery,
    })
}

#[derive(Template)]
#[template(path = "mail/pick_another_day.txt")]
struct PickAnotherDay<'a> {
    name: &'a str,
    kind: &'a str,
    day: String,
    link: String,
}

/// The crew that held `b` let it go: its unit goes back, and the next crew that could take the
/// day (and has not been asked) gets the offer. With none left, the booking is released and the
/// customer asked to pick another day.
async fn move_on<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    b: &booking_row::Model,
    previous: CrewId,
    timeout: TimeDelta,
    public_url: &url::Url,
) -> Result<(), OfferError> {
    let window = window_of(b);
    capacity::release(tx, previous, b.day, window).await?;
    // Crews asked about this time; a crew asked before the booking moved may say yes now.
    let asked: Vec<CrewId> = offer::Entity::find()
        .filter(offer::Column::BookingId.eq(b.id))
        .all(tx)
        .await?
        .into_iter()
        .filter(|o| b.moved_at.is_none_or(|moved| o.offered_at >= moved) || o.crew_id == previous.0)
        .map(|o| CrewId(o.crew_id))
        .collect();
    let need = need_of(tx, b).await?;
    for crew in slots::ranked(tx, need, b.day, window, &asked).await? {
        if capacity::reserve(tx, &crew, b.day, window).await? {
            booking_row::Entity::update_many()
                .col_expr(booking_row::Column::CrewId, Expr::value(crew.id.0))
                .filter(booking_row::Column::Id.eq(b.id))
                .exec(tx)
                .await?;
            offer_to(tx, actor, BookingId(b.id), crew.id, timeout, public_url).await?;
            return Ok(());
        }
    }
    // Nobody left: free the job to book another day.
    booking_row::Entity::update_many()
        .col_expr(
            booking_row::Column::Status,
            Expr::value(BookingStatus::Unassigned.as_str()),
        )
        .col_expr(
            booking_row::Column::CrewId,
            Expr::value(Option::<uuid::Uuid>::None),
        )
        .filter(booking_row::Column::Id.eq(b.id))
        .exec(tx)
        .await?;
    let kind = need.kind;
    let pointer = match kind {
        Kind::Survey => job::Column::SurveyBookingId,
        Kind::Install => job::Column::InstallBookingId,
    };
    job::Entity::update_many()
        .col_expr(pointer, Expr::value(Option::<uuid::Uuid>::None))
        .filter(job::Column::Id.eq(b.job_id))
        .filter(pointer.eq(b.id))
        .exec(tx)
        .await?;
    let details = Details::new().with("reason", "no_crew");
    audit::record(
        tx,
        actor,
        Action::BookingReleased,
        Some(booking_target(BookingId(b.id))),
        details,
    )
    .await?;
    if let Some(j) = job::Entity::find_by_id(b.job_id).one(tx).await?
        && let Some(contact) = crate::auth::contact_of(tx, UserId(j.owner_id)).await?
    {
        let body = PickAnotherDay {
            name: &contact.name,
            kind: kind.label(),
            day: when_words(b.day, window_of(b)),
            link: crate::auth::signup::link(public_url, &format!("/orders/{}", j.order_id), None),
        }
        .render()
        .map_err(|e| OfferError::Internal(e.into()))?;
        crate::mail::enqueue_to_stored(tx, &contact.email, "Please choose another day", body).await?;
    }
    Ok(())
}

/// Moves every offer past its deadline to the next crew. Returns how many were moved.
pub async fn expire_due(
    db: &DatabaseConnection,
    timeout: TimeDelta,
    public_url: &url::Url,
) -> Result<usize, OfferError> {
    let now = Utc::now();
    let due = offer::Entity::find()
        .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
        .filter(offer::Column::ExpiresAt.lte(now))
        .order_by_asc(offer::Column::ExpiresAt)
        .limit(100)
        .all(db)
        .await?;
    let actor = Actor::system();
    let mut moved = 0;
    for o in due {
        let Some(b) = booking_row::Entity::find_by_id(o.booking_id).one(db).await? else {
            continue;
        };
        prepare_next(db, &b).await?;
        let tx = crate::db::begin(db).await?;
        // Another replica (or the crew, at the last second) may have got there first.
        let lapsed = offer::Entity::update_many()
            .col_expr(offer::Column::Status, Expr::value(OfferStatus::Expired.as_str()))
            // When it closed: the live screens see the offer leave.
            .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
            .filter(offer::Column::Id.eq(o.id))
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .exec(&tx)
            .await?;
        if lapsed.rows_affected == 0 {
            continue;
        }
        audit::record(
            &tx,
            &actor,
            Action::OfferExpired,
            Some(offer_target(OfferId(o.id))),
            Details::new(),
        )
        .await?;
        move_on(&tx, &actor, &b, CrewId(o.crew_id), timeout, public_url).await?;
        tx.commit().await?;
        moved += 1;
    }
    Ok(moved)
}

/// Runs `expire_due` every `every` under `supervisor`. Mail queued by a move is delivered by
/// the mail worker, woken here.
pub fn start(
    supervisor: &crate::supervisor::Supervisor,
    db: DatabaseConnection,
    every: std::time::Duration,
    timeout: TimeDelta,
    public_url: url::Url,
    mailer: crate::mail::Mailer,
) {
    supervisor.periodic("dispatch", crate::supervisor::Schedule::every(every), move || {
        let (db, public_url, mailer) = (db.clone(), public_url.clone(), mailer.clone());
        async move {
            let moved = expire_due(&db, timeout, &public_url).await?;
            if moved > 0 {
                tracing::info!(moved, "expired offers moved to the next crew");
                mailer.wake();
            }
            Ok(crate::supervisor::Next::Wait)
        }
    });
}
