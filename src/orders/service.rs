//! Orders: accepting a quote makes an order with exactly the quote's figures and the job that
//! carries it to the utility's permission to operate. Only the owner, with a confirmed email
//! address (S-AU-9), accepts; a quote makes at most one order, and a home has at most one live
//! order at a time.

pub use super::model::{CURRENCY, Order};
use super::store::order;
use crate::access::{Permission, object};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::{OrderId, QuoteId, SiteId, UserId};
use crate::jobs::service::{self as jobs, Job};
use crate::jobs::{JobError, JobState};
use crate::quotes::service::{self as quotes, QuoteError};
use crate::values::{Kw, Money};
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("not found")]
    NotFound,
    #[error("confirm your email address before ordering")]
    EmailUnverified,
    #[error("this home has an order in progress")]
    AlreadyOrdered,
    #[error("this quote's price has expired; ask for a new quote")]
    QuoteExpired,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for OrderError {
    fn from(e: DbErr) -> Self {
        OrderError::Internal(e.into())
    }
}

impl From<JobError> for OrderError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::NotFound => OrderError::NotFound,
            other => OrderError::Internal(other.into()),
        }
    }
}

impl Order {
    fn from_parts(o: order::Model, job: &Job) -> Self {
        Self {
            id: OrderId(o.id),
            quote_id: QuoteId(o.quote_id),
            site_id: SiteId(o.site_id),
            job_id: job.id,
            state: job.state,
            price_cents: Money::from_cents(o.price_cents),
            deposit_cents: Money::from_cents(o.deposit_cents),
            currency: o.currency,
            system_kw: Kw(o.system_kw),
            panels: o.panels,
            needs_battery: o.needs_battery,
            created_at: o.created_at,
            owner_id: UserId(o.owner_id),
        }
    }
}

pub fn order_target(id: OrderId) -> Target {
    Target {
        kind: "order",
        id: id.to_string(),
    }
}

async fn with_job(db: &DatabaseConnection, o: order::Model) -> Result<Order, OrderError> {
    let job = jobs::of_order(db, OrderId(o.id))
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {} has no job", o.id))?;
    Ok(Order::from_parts(o, &job))
}

/// Accepts the caller's quote: the order takes the quote's figures as they were shown. Accepting
/// the same quote again answers the order it made (`false`: nothing new was created).
pub async fn accept(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    email_verified: bool,
    quote_id: QuoteId,
    valid_days: u32,
    public_url: &url::Url,
) -> Result<(Order, bool), OrderError> {
    let quote = quotes::own(db, actor, owner, quote_id)
        .await
        .map_err(|e| match e {
            QuoteError::NotFound => OrderError::NotFound,
            other => OrderError::Internal(other.into()),
        })?;
    if !email_verified {
        return Err(OrderError::EmailUnverified);
    }
    if let Some(existing) = order::Entity::find()
        .filter(order::Column::QuoteId.eq(quote_id.0))
        .one(db)
        .await?
    {
        return Ok((with_job(db, existing).await?, false));
    }
    // Checked after the replay above, so accepting twice still answers the order made.
    if Utc::now() > quote.valid_until(valid_days) {
        return Err(OrderError::QuoteExpired);
    }
    let tx = crate::db::begin(db).await?;
    // One live order per home: another version of the same quote cannot start a second job.
    let live = order::Entity::find()
        .filter(order::Column::SiteId.eq(quote.site_id.0))
        .all(&tx)
        .await?;
    for o in live {
        if let Some(job) = jobs::of_order(&tx, OrderId(o.id)).await?
            && job.state != JobState::Cancelled
        {
            return Err(OrderError::AlreadyOrdered);
        }
    }
    let now = Utc::now();
    let order_id = OrderId::new();
    let figures = &quote.figures;
    let row = order::ActiveModel {
        id: Set(order_id.0),
        quote_id: Set(quote_id.0),
        site_id: Set(quote.site_id.0),
        owner_id: Set(owner.0),
        price_cents: Set(figures.price_cents.cents()),
        deposit_cents: Set(figures.deposit_cents.cents()),
        currency: Set(CURRENCY.to_owned()),
        system_kw: Set(figures.system_kw.value()),
        panels: Set(i32::try_from(figures.panels).unwrap_or(i32::MAX)),
        needs_battery: Set(figures.options.iter().any(|o| o.id.contains("battery"))),
        created_at: Set(now),
    };
    match order::Entity::insert(row).exec_without_returning(&tx).await {
        // The same quote accepted twice at once: the other request made the order.
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
            return Err(OrderError::AlreadyOrdered);
        }
        other => {
            other?;
        }
    }
    let job_id = jobs::open(&tx, actor, order_id, owner, quote.site_id, now).await?;
    let details = Details::new()
        .with("quote", quote_id.0)
        .with("job", job_id.0)
        .with("price_cents", figures.price_cents.cents())
        .with("deposit_cents", figures.deposit_cents.cents());
    audit::record(
        &tx,
        actor,
        Action::OrderCreated,
        Some(order_target(order_id)),
        details,
    )
    .await?;
    let job = jobs::of_order(&tx, order_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("job vanished"))?;
    jobs::notify_owner(&tx, &job, JobState::Accepted, public_url).await?;
    let stored = order::Entity::find_by_id(order_id.0)
        .one(&tx)
        .await?
        .ok_or(OrderError::NotFound)?;
    let order = Order::from_parts(stored, &job);
    tx.commit().await?;
    Ok((order, true))
}

/// The caller's orders, newest first: at most `limit`, older than the order `before` when
/// given (ids are UUID v7, so id order is creation order). Two queries whatever the count: the
/// orders, then their jobs.
pub async fn list_own(
    db: &DatabaseConnection,
    owner: UserId,
    before: Option<OrderId>,
    limit: u64,
) -> Result<Vec<Order>, OrderError> {
    let mut query = order::Entity::find().filter(order::Column::OwnerId.eq(owner.0));
    if let Some(before) = before {
        query = query.filter(order::Column::Id.lt(before.0));
    }
    let rows = query
        .order_by_desc(order::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<OrderId> = rows.iter().map(|o| OrderId(o.id)).collect();
    let jobs = jobs::of_orders(db, &ids).await?;
    rows.into_iter()
        .map(|o| {
            let job = jobs
                .get(&OrderId(o.id))
                .ok_or_else(|| anyhow::anyhow!("order {} has no job", o.id))?;
            Ok(Order::from_parts(o, job))
        })
        .collect()
}

/// The order `id` if `owner` owns it; otherwise 404 and an audited refusal.
pub async fn own(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    id: OrderId,
) -> Result<Order, OrderError> {
    match order::Entity::find_by_id(id.0).one(db).await? {
        Some(o) if o.owner_id == owner.0 => with_job(db, o).await,
        _ => {
            object::refused(db, actor, order_target(id), Permission::OwnOrders).await;
            Err(OrderError::NotFound)
        }
    }
}

/// Any order (staff who read jobs, and the services).
pub async fn get(db: &DatabaseConnection, id: OrderId) -> Result<Option<Order>, OrderError> {
    match order::Entity::find_by_id(id.0).one(db).await? {
        Some(o) => Ok(Some(with_job(db, o).await?)),
        None => Ok(None),
    }
}

/// The order made from a quote, if it was accepted.
pub async fn of_quote(db: &DatabaseConnection, quote: QuoteId) -> Result<Option<OrderId>, OrderError> {
    Ok(order::Entity::find()
        .filter(order::Column::QuoteId.eq(quote.0))
        .one(db)
        .await?
        .map(|o| OrderId(o.id)))
}
