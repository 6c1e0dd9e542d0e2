//! Deletes identity rows that have served their purpose, so that spent credentials and the
//! addresses in delivered mail are not kept for ever. Every replica may run it; the deletes
//! are idempotent. The audit trail is not touched: it is the record of what happened.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::email_token::entity as email_tokens;
use super::mfa::challenge_entity as challenges;
use super::session::entity as sessions;
use super::throttle::entity as throttle;
use crate::mail::outbox_entity as outbox;

/// Ended or expired sessions stay listed for this long (they show in no list, but support
/// may need them when a user reports a problem), then go with their refresh tokens.
const SESSIONS_KEPT: TimeDelta = TimeDelta::days(30);
/// Delivered mail is kept a week for troubleshooting; failed mail a month.
const SENT_MAIL_KEPT: TimeDelta = TimeDelta::days(7);
const FAILED_MAIL_KEPT: TimeDelta = TimeDelta::days(30);
const TOKENS_KEPT: TimeDelta = TimeDelta::days(7);

/// Rows deleted by one pass, by kind.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub email_tokens: u64,
    pub challenges: u64,
    pub mail: u64,
    pub throttle: u64,
}

pub async fn sweep(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Swept, DbErr> {
    let old = now - SESSIONS_KEPT;
    let sessions = sessions::Entity::delete_many()
        .filter(
            Condition::any()
                .add(sessions::Column::ExpiresAt.lt(old))
                .add(sessions::Column::RevokedAt.lt(old)),
        )
        .exec(db)
        .await?
        .rows_affected;
    let email_tokens = email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::ExpiresAt.lt(now - TOKENS_KEPT))
        .exec(db)
        .await?
        .rows_affected;
    let challenges = challenges::Entity::delete_many()
        .filter(challenges::Column::ExpiresAt.lt(now - TimeDelta::days(1)))
        .exec(db)
        .await?
        .rows_affected;
    let mail = outbox::Entity::delete_many()
        .filter(
            Condition::any()
                .add(outbox::Column::SentAt.lt(now - SENT_MAIL_KEPT))
                .add(outbox::Column::FailedAt.lt(now - FAILED_MAIL_KEPT)),
        )
        .exec(db)
        .await?
        .rows_affected;
    // Counters with no failure for a day and no block in force count for nothing any more.
    let throttle = throttle::Entity::delete_many()
        .filter(throttle::Column::LastFailureAt.lt(now - TimeDelta::days(1)))
        .filter(
            Expr::col(throttle::Column::BlockedUntil)
                .is_null()
                .or(Expr::col(throttle::Column::BlockedUntil).lt(now)),
        )
        .exec(db)
        .await?
        .rows_affected;
    Ok(Swept {
        sessions,
        email_tokens,
        challenges,
        mail,
        throttle,
    })
}

/// Sweeps every `interval` under `supervisor`.
pub fn start(supervisor: &crate::supervisor::Supervisor, db: DatabaseConnection, interval: Duration) {
    supervisor.periodic(
        "housekeeping",
        crate::supervisor::Schedule::every(interval),
        move || {
            let db = db.clone();
            async move {
                let swept = sweep(&db, Utc::now()).await?;
                tracing::info!(?swept, "housekeeping done");
                Ok(crate::supervisor::Next::Wait)
            }
        },
    );
}
