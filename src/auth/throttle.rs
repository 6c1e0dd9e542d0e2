//! Login throttling, not lockout (S-AU-3).
//!
//! - Per account identifier (whether or not the account exists): from the 5th failure within
//!   a quiet period of 15 minutes, the identifier is blocked for 1 s, then 2 s, 4 s … up to
//!   15 minutes after each further failure. A success clears it.
//! - Per client IP: more than 20 failures within 10 minutes block the IP for 10 minutes.
//! - A device that signed in to the account before presents its signed device token and is
//!   counted under its own key, so an attacker elsewhere cannot lock the owner out.
//!
//! The state is in the database, so every replica sees the same counters; with Redis
//! configured it is in Redis instead (atomic, and off the database's hot path). If Redis does
//! not answer, the check fails closed: the caller refuses the sign-in with 503 and
//! Retry-After rather than letting it through uncounted. Callers check and record while
//! holding a password-hashing permit, so at most as many attempts as there are permits can
//! slip past a block that is being recorded.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use crate::crypto::token_hash;

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_throttle")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub failures: i32,
        pub last_failure_at: ChronoDateTimeUtc,
        pub penalty_secs: i32,
        pub blocked_until: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::Entity;

/// The numbers of S-AU-3; configurable so that production can only make them stricter.
#[derive(Clone, Debug)]
pub struct Rules {
    pub account_failures: i32,
    pub account_quiet: TimeDelta,
    pub account_max_penalty_secs: i32,
    pub ip_failures: i32,
    pub ip_window: TimeDelta,
    pub ip_block: TimeDelta,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            account_failures: 5,
            account_quiet: TimeDelta::minutes(15),
            account_max_penalty_secs: 15 * 60,
            ip_failures: 20,
            ip_window: TimeDelta::minutes(10),
            ip_block: TimeDelta::minutes(10),
        }
    }
}

/// What a counter is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Account(String),
    Device(String),
    Ip(String),
}

impl Key {
    /// The identifier as typed, normalised like an email; hashed so no address is stored.
    pub fn account(identifier: &str) -> Self {
        Key::Account(format!("acct:{}", token_hash(&identifier.trim().to_lowercase())))
    }

    pub fn device(identifier: &str, device: uuid::Uuid) -> Self {
        Key::Device(format!(
            "dev:{device}:{}",
            token_hash(&identifier.trim().to_lowercase())
        ))
    }

    /// Wrong second-factor codes of one account (S-AU-4: 5, then the same doubling delay).
    pub fn mfa(user: crate::ids::UserId) -> Self {
        Key::Device(format!("mfa:{user}"))
    }

    /// Failures from one client address (an IPv6 client's whole /64).
    pub fn ip(ip: IpAddr) -> Self {
        Key::Ip(format!("ip:{}", crate::http::client_ip::group(ip)))
    }

    fn as_str(&self) -> &str {
        match self {
            Key::Account(k) | Key::Device(k) | Key::Ip(k) => k,
        }
    }
}

/// Where the counters are.
#[derive(Clone, Copy)]
pub enum Counters<'a> {
    Database(&'a DatabaseConnection),
    Shared(&'a crate::replica_sync::Shared),
}

#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error(transparent)]
    Database(#[from] DbErr),
    /// Redis did not answer: the caller must refuse, not proceed uncounted.
    #[error(transparent)]
    Unavailable(#[from] crate::replica_sync::Unavailable),
}

/// How long a caller tells a client to wait when the counters cannot be read.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// Seconds until the first of `keys` unblocks, if any is blocked.
pub async fn blocked_for(
    counters: Counters<'_>,
    keys: &[&Key],
    now: DateTime<Utc>,
) -> Result<Option<u64>, ThrottleError> {
    let mut longest: Option<u64> = None;
    for key in keys {
        let until = match counters {
            Counters::Database(db) => Entity::find_by_id(key.as_str().to_owned())
                .one(db)
                .await?
                .and_then(|row| row.blocked_until),
            Counters::Shared(shared) => shared.throttle_blocked_until(key.as_str()).await?,
        };
        if let Some(until) = until.filter(|u| *u > now) {
            // Round up: a client that waits Retry-After seconds must find the block lifted.
            let secs = ((until - now).num_milliseconds() as u64).div_ceil(1000).max(1);
            longest = Some(longest.map_or(secs, |l| l.max(secs)));
        }
    }
    Ok(longest)
}

/// Counts a failure against `key` and blocks it when the rule says so.
pub async fn record_failure(
    counters: Counters<'_>,
    key: &Key,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<(), ThrottleError> {
    match counters {
        Counters::Database(db) => Ok(record_failure_in_db(db, key, rules, now).await?),
        Counters::Shared(shared) => {
            let rule = match key {
                Key::Ip(_) => crate::replica_sync::FailureRule {
                    quiet: rules.ip_window,
                    threshold: rules.ip_failures,
                    per_address: true,
                    address_block: rules.ip_block,
                    max_penalty_secs: rules.account_max_penalty_secs,
                },
                _ => crate::replica_sync::FailureRule {
                    quiet: rules.account_quiet,
                    threshold: rules.account_failures,
                    per_address: false,
                    address_block: rules.ip_block,
                    max_penalty_secs: rules.account_max_penalty_secs,
                },
            };
            Ok(shared.throttle_record_failure(key.as_str(), now, rule).await?)
        }
    }
}

async fn record_failure_in_db(
    conn: &DatabaseConnection,
    key: &Key,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let existing = Entity::find_by_id(key.as_str().to_owned()).one(conn).await?;
    let (quiet, threshold) = match key {
        Key::Ip(_) => (rules.ip_window, rules.ip_failures),
        _ => (rules.account_quiet, rules.account_failures),
    };
    let (mut failures, mut penalty) = match &existing {
        // A quiet period since the last failure starts the count again.
        Some(row) if now - row.last_failure_at <= quiet => (row.failures, row.penalty_secs),
        _ => (0, 0),
    };
    failures += 1;
    let blocked_until = match key {
        Key::Ip(_) if failures > threshold => Some(now + rules.ip_block),
        Key::Ip(_) => None,
        _ if failures >= threshold => {
            penalty = if penalty == 0 {
                1
            } else {
                (penalty * 2).min(rules.account_max_penalty_secs)
            };
            Some(now + TimeDelta::seconds(penalty.into()))
        }
        _ => None,
    };
    let row = entity::ActiveModel {
        key: Set(key.as_str().to_owned()),
        failures: Set(failures),
        last_failure_at: Set(now),
        penalty_secs: Set(penalty),
        blocked_until: Set(blocked_until),
    };
    if existing.is_some() {
        Entity::update(row).exec(conn).await?;
    } else if let Err(err) = Entity::insert(row).exec_without_returning(conn).await {
        // Another request inserted the row first; its failure was counted, ours is one more.
        if crate::db::constraint(&err) != Some(crate::db::Constraint::Unique) {
            return Err(err);
        }
        return Box::pin(record_failure_in_db(conn, key, rules, now)).await;
    }
    Ok(())
}

/// Forgets the failures of `key` (after a successful sign-in: call it after the commit).
pub async fn clear(counters: Counters<'_>, key: &Key) -> Result<(), ThrottleError> {
    match counters {
        Counters::Database(db) => {
            Entity::delete_by_id(key.as_str().to_owned()).exec(db).await?;
        }
        Counters::Shared(shared) => shared.throttle_clear(key.as_str()).await?,
    }
    Ok(())
}
