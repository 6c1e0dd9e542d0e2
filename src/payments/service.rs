//! Deposits: a checkout for the amount the order says, and the provider's signed confirmation.
//! The webhook is the only way a deposit becomes paid. It must carry a valid, fresh signature
//! (S-IT-2); each event is processed once (its id is recorded in the same transaction as its
//! effect); and the amount and currency must equal what the server asked for, so no one can
//! pay less than the deposit by any means.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::provider::{CheckoutRequest, PaymentProvider, ProviderError};
use super::signature::{self, SignatureError};
use super::store::{event, payment};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::{OrderId, PaymentId};
use crate::jobs::{JobState, service as jobs};
use crate::orders::service::Order;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("the deposit is paid already, or the order no longer takes one")]
    NotPayable,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for PaymentError {
    fn from(e: DbErr) -> Self {
        PaymentError::Internal(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Expired,
}

impl PaymentStatus {
    fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Expired => "expired",
        }
    }
}

/// A checkout as the customer's order shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Checkout {
    #[schema(value_type = String)]
    pub payment_id: PaymentId,
    /// Where to send the customer to pay.
    pub checkout_url: String,
    pub amount_cents: i64,
    pub currency: String,
    pub status: PaymentStatus,
    /// When the checkout was opened (provider links expire, Stripe's after 24 hours).
    pub created_at: DateTime<Utc>,
}

fn status_of(raw: &str) -> PaymentStatus {
    match raw {
        "paid" => PaymentStatus::Paid,
        "expired" => PaymentStatus::Expired,
        _ => PaymentStatus::Pending,
    }
}

impl From<payment::Model> for Checkout {
    fn from(p: payment::Model) -> Self {
        Self {
            payment_id: PaymentId(p.id),
            checkout_url: p.checkout_url,
            amount_cents: p.amount_cents,
            currency: p.currency,
            status: status_of(&p.status),
            created_at: p.created_at,
        }
    }
}

fn payment_target(id: PaymentId) -> Target {
    Target {
        kind: "payment",
        id: id.to_string(),
    }
}

/// The order's latest checkout, if any.
pub async fn latest(db: &DatabaseConnection, order: OrderId) -> Result<Option<Checkout>, DbErr> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order.0))
        .order_by_desc(payment::Column::CreatedAt)
        .one(db)
        .await?
        .map(Checkout::from))
}

/// Starts (or returns the pending) checkout of the order's deposit. The amount is the one the
/// order recorded from the accepted quote.
pub async fn start_deposit(
    db: &DatabaseConnection,
    provider: &dyn PaymentProvider,
    actor: &Actor,
    order: &Order,
    public_url: &url::Url,
) -> Result<Checkout, PaymentError> {
    if order.state != JobState::Accepted {
        return Err(PaymentError::NotPayable);
    }
    if let Some(pending) = latest(db, order.id).await?
        && pending.status == PaymentStatus::Pending
    {
        return Ok(pending);
    }
    let payment_id = PaymentId::new();
    let order_page = format!("/orders/{}", order.id);
    let request = CheckoutRequest {
        payment_id,
        order_id: order.id,
        amount_cents: order.deposit_cents.cents(),
        currency: order.currency.clone(),
        description: format!("Deposit for a {} solar installation", order.system_kw),
        success_url: crate::auth::signup::link(public_url, &order_page, Some(("paid", "1"))),
        cancel_url: crate::auth::signup::link(public_url, &order_page, None),
    };
    // The provider is called before the row exists: a failure leaves nothing half-made.
    let checkout = provider.create_checkout(&request).await?;
    let tx = crate::db::begin(db).await?;
    let row = payment::ActiveModel {
        id: Set(payment_id.0),
        order_id: Set(order.id.0),
        provider: Set(provider.name().to_owned()),
        checkout_id: Set(checkout.id),
        checkout_url: Set(checkout.url),
        amount_cents: Set(order.deposit_cents.cents()),
        currency: Set(order.currency.clone()),
        status: Set(PaymentStatus::Pending.as_str().to_owned()),
        created_at: Set(Utc::now()),
        paid_at: Set(None),
    };
    payment::Entity::insert(row).exec_without_returning(&tx).await?;
    let details = Details::new()
        .with("order", order.id.0)
        .with("amount_cents", order.deposit_cents.cents());
    audit::record(
        &tx,
        actor,
        Action::CheckoutStarted,
        Some(payment_target(payment_id)),
        details,
    )
    .await?;
    let stored = payment::Entity::find_by_id(payment_id.0)
        .one(&tx)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment row vanished"))?;
    tx.commit().await?;
    Ok(stored.into())
}

/// A provider event, in Stripe's shape (the dev provider sends the same).
#[derive(Debug, Deserialize, Serialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct EventData {
    pub object: SessionObject,
}

/// The checkout session inside `checkout.session.*` events (the fields we read).
#[derive(Debug, Deserialize, Serialize)]
pub struct SessionObject {
    pub id: String,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
}

/// Why an incoming webhook was refused (the provider sees a 400 and retries later).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the event could not be read")]
    Malformed,
    #[error("the event names an unknown checkout")]
    UnknownCheckout,
    #[error("the paid amount or currency differs from the deposit asked for")]
    AmountMismatch,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for WebhookError {
    fn from(e: DbErr) -> Self {
        WebhookError::Internal(e.into())
    }
}

/// What a valid event did.
#[derive(Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The deposit is paid and the job moved on.
    DepositPaid,
    /// The checkout expired unpaid.
    Expired,
    /// An event seen before: nothing changed.
    Duplicate,
    /// An event type we do not act on.
    Ignored,
}

impl Outcome {
    fn as_str(&self) -> &'static str {
        match self {
            Outcome::DepositPaid => "deposit_paid",
            Outcome::Expired => "expired",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
        }
    }
}

/// Verifies and applies a provider event.
pub async fn receive(
    db: &DatabaseConnection,
    actor: &Actor,
    secret: &SecretString,
    signature_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
    public_url: &url::Url,
) -> Result<Outcome, WebhookError> {
    let result = apply(db, actor, secret, signature_header, body, now, public_url).await;
    if let Err(e) = &result {
        refused(db, actor, e).await;
    }
    result
}

async fn refused(db: &DatabaseConnection, actor: &Actor, e: &WebhookError) {
    let reason = match e {
        WebhookError::Signature(SignatureError::Missing) => "signature_missing",
        WebhookError::Signature(SignatureError::Malformed) => "signature_malformed",
        WebhookError::Signature(SignatureError::Stale) => "signature_stale",
        WebhookError::Signature(SignatureError::Mismatch) => "signature_mismatch",
        WebhookError::Malformed => "malformed",
        WebhookError::UnknownCheckout => "unknown_checkout",
        WebhookError::AmountMismatch => "amount_mismatch",
        WebhookError::Internal(_) => return,
    };
    tracing::warn!(reason, "payment webhook refused");
    let details = Details::new().with("reason", reason);
    if let Err(e) = audit::record(db, actor, Action::WebhookRefused, None, details).await {
        tracing::error!(error = %e, "could not record a refused webhook");
    }
}

async fn apply(
    db: &DatabaseConnection,
    actor: &Actor,
    secret: &SecretString,
    signature_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
    public_url: &url::Url,
) -> Result<Outcome, WebhookError> {
    // Nothing in the body is read before the signature checks out.
    signature::verify(secret, signature_header, body, now)?;
    let event: Event = serde_json::from_slice(body).map_err(|_| WebhookError::Malformed)?;
    if event.id.is_empty() || event.id.len() > 255 {
        return Err(WebhookError::Malformed);
    }
    let tx = crate::db::begin(db).await?;
    // The event id first: a replay meets the primary key and changes nothing.
    if event::Entity::find_by_id(event.id.clone())
        .one(&tx)
        .await?
        .is_some()
    {
        return Ok(Outcome::Duplicate);
    }
    let outcome = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded"
            if event.data.object.payment_status.as_deref() == Some("paid") =>
        {
            mark_paid(&tx, actor, &event.data.object, public_url).await?
        }
        "checkout.session.expired" => {
            payment::Entity::update_many()
                .col_expr(
                    payment::Column::Status,
                    Expr::value(PaymentStatus::Expired.as_str()),
                )
                .filter(payment::Column::CheckoutId.eq(event.data.object.id.as_str()))
                .filter(payment::Column::Status.eq(PaymentStatus::Pending.as_str()))
                .exec(&tx)
                .await?;
            Outcome::Expired
        }
        _ => Outcome::Ignored,
    };
    let recorded = event::Entity::insert(event::ActiveModel {
        event_id: Set(event.id),
        provider: Set("stripe".to_owned()),
        outcome: Set(outcome.as_str().to_owned()),
        received_at: Set(now),
    })
    .exec_without_returning(&tx)
    .await;
    match recorded {
        // The same event delivered twice at once: the other delivery did the work.
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
            return Ok(Outcome::Duplicate);
        }
        other => {
            other?;
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

async fn mark_paid<C: crate::db::Conn>(
    tx: &C,
    actor: &Actor,
    session: &SessionObject,
    public_url: &url::Url,
) -> Result<Outcome, WebhookError> {
    let Some(row) = payment::Entity::find()
        .filter(payment::Column::CheckoutId.eq(session.id.as_str()))
        .one(tx)
        .await?
    else {
        return Err(WebhookError::UnknownCheckout);
    };
    // Amounts are the server's: the paid amount must be exactly the deposit asked for.
    let same_reference = session.client_reference_id.as_deref() == Some(row.id.to_string().as_str());
    let same_amount = session.amount_total == Some(row.amount_cents);
    let same_currency = session
        .currency
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(&row.currency));
    if !(same_reference && same_amount && same_currency) {
        return Err(WebhookError::AmountMismatch);
    }
    let now = Utc::now();
    let changed = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(PaymentStatus::Paid.as_str()))
        .col_expr(payment::Column::PaidAt, Expr::value(now))
        .filter(payment::Column::Id.eq(row.id))
        .filter(payment::Column::Status.ne(PaymentStatus::Paid.as_str()))
        .exec(tx)
        .await?;
    if changed.rows_affected == 0 {
        return Ok(Outcome::Duplicate);
    }
    let details = Details::new()
        .with("order", row.order_id)
        .with("amount_cents", row.amount_cents);
    audit::record(
        tx,
        actor,
        Action::PaymentReceived,
        Some(payment_target(PaymentId(row.id))),
        details,
    )
    .await?;
    let job = jobs::of_order(tx, OrderId(row.order_id))
        .await
        .map_err(|e| WebhookError::Internal(e.into()))?
        .ok_or_else(|| anyhow::anyhow!("order without a job"))?;
    if job.state == JobState::Accepted {
        jobs::record_step(tx, actor, &job, jobs::Step::to(JobState::DepositPaid), public_url)
            .await
            .map_err(|e| WebhookError::Internal(e.into()))?;
    } else {
        // Paid after a cancellation: the money is there, the job is not; staff refund it.
        tracing::warn!(job = %job.id, state = %job.state, "deposit paid for a job that no longer takes one");
    }
    Ok(Outcome::DepositPaid)
}

/// Builds the event the provider would send for a paid checkout (the dev provider's "Pay").
pub fn paid_event(checkout_id: &str, payment_id: PaymentId, amount_cents: i64, currency: &str) -> Event {
    Event {
        id: format!("evt_dev_{}", crate::crypto::random_token()),
        kind: "checkout.session.completed".into(),
        data: EventData {
            object: SessionObject {
                id: checkout_id.to_owned(),
                amount_total: Some(amount_cents),
                currency: Some(currency.to_ascii_lowercase()),
                payment_status: Some("paid".into()),
                client_reference_id: Some(payment_id.to_string()),
            },
        },
    }
}

/// The checkout behind a provider's checkout id (the dev checkout page).
pub async fn by_checkout_id(
    db: &DatabaseConnection,
    checkout_id: &str,
) -> Result<Option<(OrderId, Checkout)>, DbErr> {
    Ok(payment::Entity::find()
        .filter(payment::Column::CheckoutId.eq(checkout_id))
        .one(db)
        .await?
        .map(|p| (OrderId(p.order_id), Checkout::from(p))))
}
