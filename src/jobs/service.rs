//! Jobs: who may see one (the owner, the assigned crew, staff who read jobs), the steps of the
//! lifecycle with an audit row, a timeline event and an email to the customer each, all in the
//! transaction of the step.

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::lifecycle::{self, JobState, Party, StepRefused};
use super::store::{event, job};
use crate::access::{Permission, Role, object, policy};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::{CrewId, JobId, OrderId, SiteId, UserId};
use crate::values::IdempotencyKey;
use crate::values::PhotoSubject;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] StepRefused),
    /// Someone else moved the job first; the caller should reload it.
    #[error("the job changed meanwhile")]
    Conflict,
    #[error("the note is too long or holds control characters")]
    InvalidNote,
    /// A step done on a booked day, asked for before the day.
    #[error("the {kind} is booked for {day}: it can be recorded from that day")]
    TooEarly { kind: &'static str, day: NaiveDate },
    /// A step done on a booked day with no confirmed day.
    #[error("no {0} day is confirmed for this job")]
    NoDay(&'static str),
    /// A step that needs photos the job does not have yet.
    #[error("take these photos first: {}", .0.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))]
    PhotosMissing(Vec<PhotoSubject>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for JobError {
    fn from(e: DbErr) -> Self {
        JobError::Internal(e.into())
    }
}

/// A job as its parties see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Job {
    #[schema(value_type = String)]
    pub id: JobId,
    #[schema(value_type = String)]
    pub order_id: OrderId,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    pub state: JobState,
    /// The crew doing the work, once one accepted.
    #[schema(value_type = Option<String>)]
    pub crew_id: Option<CrewId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub owner_id: UserId,
    #[serde(skip)]
    pub survey_booking: Option<uuid::Uuid>,
    #[serde(skip)]
    pub install_booking: Option<uuid::Uuid>,
}

impl TryFrom<job::Model> for Job {
    type Error = anyhow::Error;
    fn try_from(m: job::Model) -> anyhow::Result<Self> {
        Ok(Self {
            id: JobId(m.id),
            order_id: OrderId(m.order_id),
            site_id: SiteId(m.site_id),
            state: m
                .state
                .parse()
                .map_err(|_| anyhow::anyhow!("job {} has an unknown state", m.id))?,
            crew_id: m.crew_id.map(CrewId),
            created_at: m.created_at,
            updated_at: m.updated_at,
            owner_id: UserId(m.owner_id),
            survey_booking: m.survey_booking_id,
            install_booking: m.install_booking_id,
        })
    }
}

/// One step on the timeline.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub state: JobState,
    /// A booked visit moved (the state stayed, or went back to waiting for a crew): not a
    /// step taken.
    pub moved: bool,
    pub label: &'static str,
    pub at: DateTime<Utc>,
    /// Who took the step: `customer`, `installer`, `support`, `admin` or `system`.
    pub by: String,
    pub note: Option<String>,
}

pub fn job_target(id: JobId) -> Target {
    Target {
        kind: "job",
        id: id.to_string(),
    }
}

/// The caller of a job route: who they are and through which role they reach jobs.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub user: UserId,
    pub role: Role,
}

/// How `viewer` stands to `job`, or `None` when it is not theirs to see.
pub async fn party_of<C: crate::db::Conn>(
    conn: &C,
    viewer: Viewer,
    job: &Job,
) -> Result<Option<Party>, DbErr> {
    Ok(match viewer.role {
        Role::Customer if job.owner_id == viewer.user => Some(Party::Owner),
        Role::Installer => {
            let crew = crate::crews::service::crew_of(conn, viewer.user).await?;
            (crew.is_some() && crew == job.crew_id).then_some(Party::AssignedCrew)
        }
        role if policy::allows(role, Permission::ReadJobs) => Some(Party::Staff),
        _ => None,
    })
}

async fn load<C: crate::db::Conn>(conn: &C, id: JobId) -> Result<Option<Job>, JobError> {
    match job::Entity::find_by_id(id.0).one(conn).await? {
        Some(m) => Ok(Some(Job::try_from(m)?)),
        None => Ok(None),
    }
}

/// The job `id` if `viewer` may see it, with how they stand to it; otherwise 404 and an
/// audited refusal (S-AC-3).
pub async fn visible(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: JobId,
    permission: Permission,
) -> Result<(Job, Party), JobError> {
    if let Some(job) = load(db, id).await?
        && let Some(party) = party_of(db, viewer, &job).await?
    {
        return Ok((job, party));
    }
    object::refused(db, actor, job_target(id), permission).await;
    Err(JobError::NotFound)
}

/// The job of an order.
pub async fn of_order<C: crate::db::Conn>(conn: &C, order: OrderId) -> Result<Option<Job>, JobError> {
    match job::Entity::find()
        .filter(job::Column::OrderId.eq(order.0))
        .one(conn)
        .await?
    {
        Some(m) => Ok(Some(Job::try_from(m)?)),
        None => Ok(None),
    }
}

/// The jobs of several orders, in one query (a list of orders needs each one's job).
pub async fn of_orders<C: crate::db::Conn>(
    conn: &C,
    orders: &[OrderId],
) -> Result<std::collections::HashMap<OrderId, Job>, JobError> {
    if orders.is_empty() {
        return Ok(Default::default());
    }
    job::Entity::find()
        .filter(job::Column::OrderId.is_in(orders.iter().map(|o| o.0)))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Ok((OrderId(m.order_id), Job::try_from(m)?)))
        .collect()
}

/// Jobs of a customer, newest first (at most `PAGE`: a home has one live job at a time).
pub async fn of_owner<C: crate::db::Conn>(conn: &C, owner: UserId) -> Result<Vec<Job>, JobError> {
    let query = job::Entity::find()
        .filter(job::Column::OwnerId.eq(owner.0))
        .order_by_desc(job::Column::CreatedAt);
    let rows = sea_orm::QuerySelect::limit(query, PAGE).all(conn).await?;
    rows.into_iter()
        .map(|m| Job::try_from(m).map_err(JobError::Internal))
        .collect()
}

/// Jobs assigned to a crew, most recently changed first (at most `PAGE`; an older job is
/// still reached by its id).
pub async fn of_crew<C: crate::db::Conn>(conn: &C, crew: CrewId) -> Result<Vec<Job>, JobError> {
    let query = job::Entity::find()
        .filter(job::Column::CrewId.eq(crew.0))
        .order_by_desc(job::Column::UpdatedAt);
    let rows = sea_orm::QuerySelect::limit(query, PAGE).all(conn).await?;
    rows.into_iter()
        .map(|m| Job::try_from(m).map_err(JobError::Internal))
        .collect()
}

/// The most jobs one page of the staff list shows.
pub const PAGE: u64 = 100;

/// Jobs for staff, most recently changed first, optionally in one state.
pub async fn recent<C: crate::db::Conn>(conn: &C, state: Option<JobState>) -> Result<Vec<Job>, JobError> {
    let mut query = job::Entity::find();
    if let Some(state) = state {
        query = query.filter(job::Column::State.eq(state.as_str()));
    }
    let rows = sea_orm::QuerySelect::limit(query.order_by_desc(job::Column::UpdatedAt), PAGE)
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|m| Job::try_from(m).map_err(JobError::Internal))
        .collect()
}

pub async fn timeline<C: crate::db::Conn>(conn: &C, id: JobId) -> Result<Vec<TimelineEntry>, JobError> {
    let rows = event::Entity::find()
        .filter(event::Column::JobId.eq(id.0))
        .order_by_asc(event::Column::At)
        .order_by_asc(event::Column::Id)
        .all(conn)
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for e in rows {
        let state: JobState = e
            .to_state
            .parse()
            .map_err(|_| JobError::Internal(anyhow::anyhow!("unknown state on the timeline")))?;
        let note =
            crate::crypto::seal::open_opt(conn, crate::crypto::seal::Field::JobNote, e.note.as_deref())
                .await?;
        // A step back, or a line that stays in its state, is a booked visit that moved.
        let moved = e
            .from_state
            .as_deref()
            .and_then(|f| f.parse::<JobState>().ok())
            .is_some_and(|f| f.position() >= state.position());
        entries.push(TimelineEntry {
            state,
            moved,
            label: if moved { state.moved_label() } else { state.label() },
            at: e.at,
            by: e.actor_role.unwrap_or_else(|| "system".into()),
            note,
        });
    }
    Ok(entries)
}

/// Timeline events recorded after `since`: the event's id, its job and when (for the live
/// screens).
pub async fn events_since<C: crate::db::Conn>(
    conn: &C,
    since: DateTime<Utc>,
) -> Result<Vec<(uuid::Uuid, JobId, DateTime<Utc>)>, DbErr> {
    // Oldest first: rows past the limit are newer, and the next look starts from the last seen.
    let query = event::Entity::find()
        .filter(event::Column::At.gt(since))
        .order_by_asc(event::Column::At);
    let rows = sea_orm::QuerySelect::limit(query, 1000).all(conn).await?;
    Ok(rows.into_iter().map(|e| (e.id, JobId(e.job_id), e.at)).collect())
}

/// Longest note a step may carry.
pub const MAX_NOTE_CHARS: usize = 1000;

fn checked_note(note: Option<String>) -> Result<Option<String>, JobError> {
    let Some(note) = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(JobError::InvalidNote);
    }
    Ok(Some(note))
}

#[derive(Template)]
#[template(path = "mail/job_update.txt")]
struct UpdateMail<'a> {
    name: &'a str,
    label: &'a str,
    explanation: &'a str,
    link: String,
}

/// What a step means for the customer, in the email.
fn explanation(state: JobState) -> &'static str {
    match state {
        JobState::Accepted => {
            "We have your order. The next step is the deposit, then you choose a day for the site survey."
        }
        JobState::DepositPaid => {
            "Thank you, your deposit arrived. Choose a day for the site survey on your order page."
        }
        JobState::SurveyScheduled => "A crew confirmed your site survey day.",
        JobState::Surveyed => {
            "The crew surveyed your home. Your design is next: look at it and approve it on your order page."
        }
        JobState::DesignApproved => "The design is approved. The crew applies for the permit next.",
        JobState::PermitSubmitted => "The permit application is with your local authority.",
        JobState::PermitApproved => {
            "The permit is approved. Choose your installation day on your order page."
        }
        JobState::InstallScheduled => "A crew confirmed your installation day.",
        JobState::Installed => "Your panels are installed. The inspection is next.",
        JobState::InspectionPassed => {
            "The inspection passed. We have asked your utility for permission to operate."
        }
        JobState::PtoGranted => "Your utility granted permission to operate: your system may be switched on.",
        JobState::Active => "Your system is on. Welcome to solar.",
        JobState::Cancelled => "Your order is cancelled.",
    }
}

/// Writes the step: the state (only if it is still `from`), the timeline event, the audit row
/// and the customer's email, in the caller's transaction.
pub async fn record_step<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    job: &Job,
    step: Step,
    public_url: &url::Url,
) -> Result<(), JobError> {
    let Step { to, note, key } = step;
    let now = Utc::now();
    let moved = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(to.as_str()))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::Id.eq(job.id.0))
        .filter(job::Column::State.eq(job.state.as_str()))
        .exec(tx)
        .await?;
    if moved.rows_affected == 0 {
        return Err(JobError::Conflict);
    }
    let event = Event {
        from: Some(job.state),
        to,
        note,
        key,
        at: now,
    };
    append_event(tx, actor, job.id, event).await?;
    let details = Details::new()
        .with("from", job.state.as_str())
        .with("to", to.as_str());
    audit::record(
        tx,
        actor,
        Action::JobTransition,
        Some(job_target(job.id)),
        details,
    )
    .await?;
    // The assigned crew's company hears of each step (the crew may have just been assigned).
    let crew = match job.crew_id {
        Some(c) => Some(c),
        None => job::Entity::find_by_id(job.id.0)
            .one(tx)
            .await?
            .and_then(|j| j.crew_id)
            .map(CrewId),
    };
    if let Some(crew) = crew {
        let data = serde_json::json!({
            "job_id": job.id.to_string(),
            "from": job.state.as_str(),
            "to": to.as_str(),
        });
        crate::webhooks::enqueue_for_crew(tx, crew, "job.step", data).await?;
    }
    notify_owner(tx, job, to, public_url).await
}

/// A booked visit moved, in the move's transaction: a line on the timeline with the new time
/// (and staff's reason). When the crew that had confirmed it cannot come then (`reopen`: from
/// the scheduled state back to the one waiting for a crew), the job has no crew until one
/// confirms. The customer's email is the move's own.
pub async fn record_move<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    job: &Job,
    reopen: Option<(JobState, JobState)>,
    note: String,
) -> Result<(), JobError> {
    let now = Utc::now();
    let (from, to) = match reopen {
        Some((from, to)) => {
            let moved = job::Entity::update_many()
                .col_expr(job::Column::State, Expr::value(to.as_str()))
                .col_expr(job::Column::CrewId, Expr::value(Option::<uuid::Uuid>::None))
                .col_expr(job::Column::UpdatedAt, Expr::value(now))
                .filter(job::Column::Id.eq(job.id.0))
                .filter(job::Column::State.eq(from.as_str()))
                .exec(tx)
                .await?;
            if moved.rows_affected == 0 {
                return Err(JobError::Conflict);
            }
            let details = Details::new()
                .with("from", from.as_str())
                .with("to", to.as_str())
                .with("reason", "booking_moved");
            audit::record(
                tx,
                actor,
                Action::JobTransition,
                Some(job_target(job.id)),
                details,
            )
            .await?;
            (from, to)
        }
        None => {
            let state = reload(tx, job.id).await?.state;
            (state, state)
        }
    };
    let event = Event {
        from: Some(from),
        to,
        note: Some(note),
        key: None,
        at: now,
    };
    append_event(tx, actor, job.id, event).await?;
    Ok(())
}

/// A step asked for: where to, the crew's note, and the phone's key when it came from one.
#[derive(Clone, Debug)]
pub struct Step {
    pub to: JobState,
    pub note: Option<String>,
    pub key: Option<IdempotencyKey>,
}

impl Step {
    pub fn to(to: JobState) -> Step {
        Step {
            to,
            note: None,
            key: None,
        }
    }
}

/// One line of the timeline.
pub struct Event {
    pub from: Option<JobState>,
    pub to: JobState,
    pub note: Option<String>,
    pub key: Option<IdempotencyKey>,
    pub at: DateTime<Utc>,
}

/// Has the step sent with `key` been recorded on `job`? (A phone's replay.)
pub async fn step_recorded<C: crate::db::Conn>(
    conn: &C,
    job: JobId,
    key: &IdempotencyKey,
) -> Result<bool, DbErr> {
    Ok(event::Entity::find()
        .filter(event::Column::JobId.eq(job.0))
        .filter(event::Column::IdempotencyKey.eq(key.as_str()))
        .one(conn)
        .await?
        .is_some())
}

/// A timeline event (also the first one, when a job is created).
pub async fn append_event<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    id: JobId,
    event: Event,
) -> Result<(), DbErr> {
    let Event {
        from,
        to,
        note,
        key,
        at,
    } = event;
    event::Entity::insert(event::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        job_id: Set(id.0),
        from_state: Set(from.map(|s| s.as_str().to_owned())),
        to_state: Set(to.as_str().to_owned()),
        actor_id: Set(actor.user_id.map(|u| u.0)),
        actor_role: Set(actor.role.map(|r| r.as_str().to_owned())),
        note: Set(
            crate::crypto::seal::seal_opt(tx, crate::crypto::seal::Field::JobNote, note.as_deref())
                .await
                .map_err(|e| DbErr::Custom(format!("{e:#}")))?,
        ),
        at: Set(at),
        idempotency_key: Set(key.map(|k| k.as_str().to_owned())),
    })
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

/// Emails the customer what the step means (queued in the transaction).
pub async fn notify_owner<C: crate::db::Conn>(
    tx: &C,
    job: &Job,
    to: JobState,
    public_url: &url::Url,
) -> Result<(), JobError> {
    let Some(contact) = crate::auth::contact_of(tx, job.owner_id).await? else {
        return Ok(());
    };
    let body = UpdateMail {
        name: &contact.name,
        label: to.label(),
        explanation: explanation(to),
        link: crate::auth::signup::link(public_url, &format!("/orders/{}", job.order_id), None),
    }
    .render()
    .map_err(|e| JobError::Internal(e.into()))?;
    crate::mail::enqueue_to_stored(
        tx,
        &contact.email,
        format!("Your solar installation: {}", to.label()),
        body,
    )
    .await?;
    let notice = crate::push::Notice {
        title: "Your solar installation".to_owned(),
        body: to.label().to_owned(),
        url: format!("/orders/{}", job.order_id),
    };
    crate::push::enqueue(tx, &[job.owner_id], &notice).await?;
    Ok(())
}

/// A step asked for by `party`, checked against the lifecycle and recorded in `tx`. What the
/// step means for other domains (a cancelled job releases its bookings) is the marketplace
/// workflow's business (`marketplace::step`).
pub async fn step_in<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    job: &Job,
    party: Party,
    step: Step,
    public_url: &url::Url,
) -> Result<(), JobError> {
    lifecycle::check(job.state, step.to, party)?;
    let step = Step {
        note: checked_note(step.note)?,
        ..step
    };
    record_step(tx, actor, job, step, public_url).await
}

/// The job as stored now (after a step, in the step's transaction).
pub async fn reload<C: crate::db::Conn>(conn: &C, id: JobId) -> Result<Job, JobError> {
    load(conn, id).await?.ok_or(JobError::NotFound)
}

/// Opens the job of a new order, in the order's transaction: accepted, with no crew yet.
pub async fn open<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    order: OrderId,
    owner: UserId,
    site: SiteId,
    now: DateTime<Utc>,
) -> Result<JobId, JobError> {
    let job_id = JobId::new();
    job::Entity::insert(job::ActiveModel {
        id: Set(job_id.0),
        order_id: Set(order.0),
        owner_id: Set(owner.0),
        site_id: Set(site.0),
        state: Set(JobState::Accepted.as_str().to_owned()),
        crew_id: Set(None),
        survey_booking_id: Set(None),
        install_booking_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(tx)
    .await?;
    let first = Event {
        from: None,
        to: JobState::Accepted,
        note: None,
        key: None,
        at: now,
    };
    append_event(tx, actor, job_id, first).await?;
    Ok(job_id)
}
