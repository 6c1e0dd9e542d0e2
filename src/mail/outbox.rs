use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{OutgoingMail, Transport};
use crate::crypto::seal::{Field, open, seal};

/// After this many failed attempts a message is given up (and logged) rather than retried.
const MAX_ATTEMPTS: i32 = 8;
/// A worker that claimed a message and died releases it after this long.
const CLAIM: TimeDelta = TimeDelta::seconds(60);
const BATCH: u64 = 20;

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub to_address: String,
        pub subject: String,
        pub body_text: String,
        pub created_at: ChronoDateTimeUtc,
        pub next_attempt_at: ChronoDateTimeUtc,
        pub attempts: i32,
        pub claimed_until: Option<ChronoDateTimeUtc>,
        pub sent_at: Option<ChronoDateTimeUtc>,
        pub failed_at: Option<ChronoDateTimeUtc>,
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity};

/// Queues `mail`. The body is sealed like other personal data: the links it carries (email
/// verification, password reset, staff invitation) hold raw tokens, and whoever reads the
/// database or a backup must not be able to use them. It is erased once delivered.
pub(super) async fn insert<C: crate::db::Conn>(conn: &C, mail: OutgoingMail) -> Result<(), DbErr> {
    let now = Utc::now();
    let body = seal(conn, Field::MailBody, &mail.body)
        .await
        .map_err(|e| DbErr::Custom(format!("sealing a mail body: {e:#}")))?;
    let row = ActiveModel {
        to_address: Set(mail.to.as_str().to_owned()),
        subject: Set(mail.subject),
        body_text: Set(body),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        claimed_until: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    };
    Entity::insert(row).exec_without_returning(conn).await?;
    Ok(())
}

/// Delivers due messages, then sleeps until woken or for a few seconds (retries, and mail
/// queued by other replicas).
/// One pass of the delivery worker: the due messages of one batch; `Again` when the batch was
/// full and more may be waiting.
pub(super) async fn deliver_pass(
    db: DatabaseConnection,
    transport: Arc<Transport>,
    retry_base: Duration,
) -> anyhow::Result<crate::supervisor::Next> {
    let sent = deliver_due(&db, &transport, retry_base).await?;
    Ok(if sent as u64 == BATCH {
        crate::supervisor::Next::Again
    } else {
        crate::supervisor::Next::Wait
    })
}

async fn deliver_due(
    db: &DatabaseConnection,
    transport: &Transport,
    retry_base: Duration,
) -> anyhow::Result<usize> {
    let now = Utc::now();
    let due = Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::FailedAt.is_null())
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Column::ClaimedUntil.is_null().or(Column::ClaimedUntil.lt(now)))
        .order_by_asc(Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let count = due.len();
    for mail in due {
        if !claim(db, &mail, now).await? {
            continue; // another replica has it
        }
        let outcome = match open(db, Field::MailBody, &mail.body_text).await {
            Ok(body) => transport.send(&mail.to_address, &mail.subject, &body).await,
            Err(e) => Err(e.context("opening a sealed mail body")),
        };
        finish(db, mail, outcome, retry_base).await?;
    }
    Ok(count)
}

/// Claims a message with a conditional update, so that of several replicas only one sends it.
async fn claim(db: &DatabaseConnection, mail: &entity::Model, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(now + CLAIM))
        .filter(Column::Id.eq(mail.id))
        .filter(Column::SentAt.is_null())
        .filter(Column::ClaimedUntil.is_null().or(Column::ClaimedUntil.lt(now)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

async fn finish(
    db: &DatabaseConnection,
    mail: entity::Model,
    outcome: anyhow::Result<()>,
    retry_base: Duration,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let id = mail.id;
    let attempts = mail.attempts + 1;
    let mut row: ActiveModel = mail.into();
    row.attempts = Set(attempts);
    row.claimed_until = Set(None);
    match outcome {
        Ok(()) => {
            row.sent_at = Set(Some(now));
            row.last_error = Set(None);
            // Delivered: the text (and any token in it) has no reason to stay.
            row.body_text = Set(String::new());
            tracing::info!(mail_id = id, attempts, "mail sent");
        }
        Err(err) => {
            // The error text comes from the transport; it names no recipient or credential.
            let text: String = format!("{err:#}").chars().take(500).collect();
            if attempts >= MAX_ATTEMPTS {
                row.failed_at = Set(Some(now));
                tracing::error!(mail_id = id, attempts, error = %text, "mail given up");
            } else {
                // 30 s, 1 min, 2 min, … up to about an hour between attempts (by default).
                let base = TimeDelta::from_std(retry_base).unwrap_or(TimeDelta::seconds(30));
                let backoff = base * 2i32.pow((attempts - 1).clamp(0, 7) as u32);
                row.next_attempt_at = Set(now + backoff);
                tracing::warn!(mail_id = id, attempts, error = %text, "mail delivery failed; will retry");
            }
            row.last_error = Set(Some(text));
        }
    }
    Entity::update(row).exec(db).await?;
    Ok(())
}
