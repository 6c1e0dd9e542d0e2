//! Webhooks to installer companies: a company registers an https URL, and offers to its crews
//! and the steps of its jobs are POSTed there, signed like the payment provider signs ours
//! (S-IT-2: `Sunbridge-Signature: t=…,v1=…`, HMAC-SHA256 over `t.body` with the company's
//! secret). Every call goes through the outbound guard (S-SF-1): an address that is not public,
//! plain http, a redirect, a slow or huge answer are all refused. Deliveries are queued in the
//! transaction of the event, retried with backoff, and listed with their outcome.
//!
//! Payloads carry ids, states, days and sizes — never the customer's name, address or phone.

pub mod api;
mod error;

pub use api::router;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use secrecy::SecretString;
use serde::Serialize;
use utoipa::ToSchema;

use crate::crypto::seal::{self, Field};
use crate::ids::{CompanyId, CrewId};
use crate::outbound::{OutboundClient, OutboundError, Request};

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;

pub(crate) mod store {
    pub(crate) mod endpoint {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "webhook_endpoints")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub company_id: Uuid,
            pub url: String,
            /// Sealed (S-CR-3).
            pub secret: String,
            pub created_at: ChronoDateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub(crate) mod delivery {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "webhook_deliveries")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub company_id: Uuid,
            pub event: String,
            pub payload: String,
            pub status: String,
            pub attempts: i32,
            pub next_attempt_at: ChronoDateTimeUtc,
            pub claimed_until: Option<ChronoDateTimeUtc>,
            pub last_status: Option<i32>,
            pub last_error: Option<String>,
            pub created_at: ChronoDateTimeUtc,
            pub delivered_at: Option<ChronoDateTimeUtc>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use store::{delivery, endpoint};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("not found")]
    NotFound,
    #[error("the URL must be an absolute https:// URL of at most 2,000 characters")]
    InvalidUrl,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for WebhookError {
    fn from(e: DbErr) -> Self {
        WebhookError::Internal(e.into())
    }
}

/// A company's endpoint as admins see it (the secret is shown once, when set).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Endpoint {
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// Sets (or replaces) a company's endpoint; answers the new signing secret, shown this once.
pub async fn register(
    db: &DatabaseConnection,
    actor: &crate::audit::Actor,
    company: CompanyId,
    url: &str,
    allow_local: bool,
) -> Result<SecretString, WebhookError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| WebhookError::InvalidUrl)?;
    let scheme_ok = parsed.scheme() == "https" || (allow_local && parsed.scheme() == "http");
    if !scheme_ok || parsed.host().is_none() || url.len() > 2000 || !parsed.username().is_empty() {
        return Err(WebhookError::InvalidUrl);
    }
    let tx = crate::db::begin(db).await?;
    if crate::crews::store::company::Entity::find_by_id(company.0)
        .one(&tx)
        .await?
        .is_none()
    {
        return Err(WebhookError::NotFound);
    }
    let secret = format!("whsec_{}", crate::crypto::random_token());
    endpoint::Entity::delete_by_id(company.0).exec(&tx).await?;
    endpoint::Entity::insert(endpoint::ActiveModel {
        company_id: Set(company.0),
        url: Set(parsed.to_string()),
        secret: Set(seal::seal(&tx, Field::WebhookSecret, &secret).await?),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(&tx)
    .await?;
    let target = crate::audit::Target {
        kind: "installer_company",
        id: company.to_string(),
    };
    crate::audit::record(
        &tx,
        actor,
        crate::audit::Action::CrewChanged,
        Some(target),
        crate::audit::Details::new().with("change", "webhook_set"),
    )
    .await?;
    tx.commit().await?;
    Ok(SecretString::from(secret))
}

pub async fn endpoint_of(db: &DatabaseConnection, company: CompanyId) -> Result<Option<Endpoint>, DbErr> {
    Ok(endpoint::Entity::find_by_id(company.0)
        .one(db)
        .await?
        .map(|e| Endpoint {
            url: e.url,
            created_at: e.created_at,
        }))
}

/// Queues `event` for the company of `crew`, if it has an endpoint (in the caller's transaction).
pub async fn enqueue_for_crew<C: crate::db::Conn>(
    conn: &C,
    crew: CrewId,
    event: &str,
    data: serde_json::Value,
) -> Result<(), DbErr> {
    let Some(c) = crate::crews::store::crew::Entity::find_by_id(crew.0)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    if endpoint::Entity::find_by_id(c.company_id)
        .one(conn)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let id = uuid::Uuid::now_v7();
    let now = Utc::now();
    let payload = serde_json::json!({
        "id": id.to_string(),
        "type": event,
        "created_at": now.to_rfc3339(),
        "data": data,
    });
    delivery::Entity::insert(delivery::ActiveModel {
        id: Set(id),
        company_id: Set(c.company_id),
        event: Set(event.to_owned()),
        payload: Set(payload.to_string()),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// One delivery as the log shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    /// `pending`, `delivered`, `failed` (gave up after retries) or `refused` (the outbound
    /// guard would not call the URL).
    pub status: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

pub async fn deliveries(db: &DatabaseConnection, company: CompanyId) -> Result<Vec<Delivery>, DbErr> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::CompanyId.eq(company.0))
        .order_by_desc(delivery::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(|d| Delivery {
            id: d.id.to_string(),
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            next_attempt_at: d.next_attempt_at,
        })
        .collect())
}

/// How deliveries are retried.
#[derive(Clone)]
pub struct Sender {
    pub client: OutboundClient,
    pub retry_base: Duration,
}

/// Sends what is due. Answers how many calls were made.
pub async fn send_due(db: &DatabaseConnection, sender: &Sender) -> Result<usize, DbErr> {
    let now = Utc::now();
    let due = delivery::Entity::find()
        .filter(delivery::Column::Status.eq("pending"))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .filter(
            sea_orm::Condition::any()
                .add(delivery::Column::ClaimedUntil.is_null())
                .add(delivery::Column::ClaimedUntil.lt(now)),
        )
        .order_by_asc(delivery::Column::NextAttemptAt)
        .limit(50)
        .all(db)
        .await?;
    let mut sent = 0;
    for d in due {
        // Claimed with a conditional update that also checks the delivery is still the one
        // read (pending, due, not attempted since): on several replicas, one sends it, once.
        let now = Utc::now();
        let claimed = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::ClaimedUntil,
                Expr::value(now + TimeDelta::seconds(60)),
            )
            .filter(delivery::Column::Id.eq(d.id))
            .filter(delivery::Column::Status.eq("pending"))
            .filter(delivery::Column::Attempts.eq(d.attempts))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                sea_orm::Condition::any()
                    .add(delivery::Column::ClaimedUntil.is_null())
                    .add(delivery::Column::ClaimedUntil.lt(now)),
            )
            .exec(db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        let outcome = attempt(db, sender, &d).await;
        let attempts = d.attempts + 1;
        let mut update = delivery::Entity::update_many()
            .col_expr(delivery::Column::Attempts, Expr::value(attempts))
            .col_expr(
                delivery::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(delivery::Column::Id.eq(d.id));
        match outcome {
            Attempt::Delivered(status) => {
                update = update
                    .col_expr(delivery::Column::Status, Expr::value("delivered"))
                    .col_expr(delivery::Column::LastStatus, Expr::value(i32::from(status)))
                    .col_expr(delivery::Column::LastError, Expr::value(Option::<String>::None))
                    .col_expr(delivery::Column::DeliveredAt, Expr::value(Utc::now()));
            }
            Attempt::Refused(reason) => {
                tracing::warn!(reason = %reason, "webhook refused by the outbound guard");
                update = update
                    .col_expr(delivery::Column::Status, Expr::value("refused"))
                    .col_expr(delivery::Column::LastError, Expr::value(reason));
            }
            Attempt::Failed(status, reason) => {
                let status_value = status.map(i32::from);
                let next = Utc::now() + backoff(sender.retry_base, attempts);
                let state = if attempts >= MAX_ATTEMPTS {
                    "failed"
                } else {
                    "pending"
                };
                update = update
                    .col_expr(delivery::Column::Status, Expr::value(state))
                    .col_expr(delivery::Column::LastStatus, Expr::value(status_value))
                    .col_expr(delivery::Column::LastError, Expr::value(reason))
                    .col_expr(delivery::Column::NextAttemptAt, Expr::value(next));
            }
        }
        update.exec(db).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Doubling from the base, at most 128 times it.
fn backoff(base: Duration, attempts: i32) -> TimeDelta {
    let factor = 1u32 << attempts.clamp(0, 7);
    TimeDelta::from_std(base * factor).unwrap_or(TimeDelta::hours(1))
}

enum Attempt {
    Delivered(u16),
    Refused(String),
    Failed(Option<u16>, String),
}

async fn attempt(db: &DatabaseConnection, sender: &Sender, d: &delivery::Model) -> Attempt {
    let endpoint = match endpoint::Entity::find_by_id(d.company_id).one(db).await {
        Ok(Some(e)) => e,
        Ok(None) => return Attempt::Refused("the company has no endpoint any more".into()),
        Err(e) => return Attempt::Failed(None, format!("database: {e}")),
    };
    let secret = match seal::open(db, Field::WebhookSecret, &endpoint.secret).await {
        Ok(s) => SecretString::from(s),
        Err(e) => return Attempt::Failed(None, format!("secret: {e}")),
    };
    let Ok(url) = url::Url::parse(&endpoint.url) else {
        return Attempt::Refused("the URL does not parse".into());
    };
    let signature = crate::payments::signature::sign(&secret, Utc::now(), d.payload.as_bytes());
    let result = sender
        .client
        .post(Request {
            url: &url,
            headers: vec![
                ("sunbridge-signature", signature),
                ("sunbridge-event", d.event.clone()),
                ("sunbridge-delivery", d.id.to_string()),
            ],
            body: Some(("application/json", d.payload.clone().into_bytes())),
        })
        .await;
    match result {
        Ok(answer) if (200..300).contains(&answer.status) => Attempt::Delivered(answer.status),
        Ok(answer) => Attempt::Failed(Some(answer.status), format!("HTTP {}", answer.status)),
        Err(e @ (OutboundError::NotHttps | OutboundError::ForbiddenAddress | OutboundError::NoHost)) => {
            Attempt::Refused(e.to_string())
        }
        Err(e) => Attempt::Failed(None, e.to_string()),
    }
}

/// Sends due deliveries every `every` under `supervisor`.
pub fn start(
    supervisor: &crate::supervisor::Supervisor,
    db: DatabaseConnection,
    sender: Sender,
    every: Duration,
) {
    let sender = std::sync::Arc::new(sender);
    supervisor.periodic("webhooks", crate::supervisor::Schedule::every(every), move || {
        let (db, sender) = (db.clone(), sender.clone());
        async move {
            send_due(&db, &sender).await?;
            Ok(crate::supervisor::Next::Wait)
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_up_to_a_ceiling() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), TimeDelta::seconds(60));
        assert_eq!(backoff(base, 3), TimeDelta::seconds(240));
        assert_eq!(backoff(base, 20), TimeDelta::seconds(30 * 128));
    }
}
