//! The second factor (S-AU-4): TOTP (RFC 6238, 30-second steps, ±1 step) through `totp-rs`,
//! with replay protection (a step is accepted once), ten single-use recovery codes stored
//! as SHA-256 (80 random bits each, so a hash cannot be reversed by brute force), and factor
//! throttling (5 wrong codes, then the same doubling delay as passwords).

use crate::crypto::seal::{self, Field};
use askama::Template;
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use totp_rs::{Builder, Secret, Totp};

use crate::audit::{self, Action, Actor, Details, Target};
use crate::crypto::{random_token, token_hash};
use crate::http::RequestContext;
use crate::ids::UserId;
use crate::mail;

use super::login_context::LoginContext;
use super::signup::link;
use super::store::user;
use super::throttle::{self, Key};

pub const RECOVERY_CODES: usize = 10;
/// How long a password-verified sign-in waits for its second factor.
pub const CHALLENGE_TTL: TimeDelta = TimeDelta::minutes(5);
const ISSUER: &str = "Sunbridge";

pub(crate) mod totp_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mfa_totp")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub secret_base32: String,
        pub created_at: ChronoDateTimeUtc,
        pub confirmed_at: Option<ChronoDateTimeUtc>,
        pub last_used_step: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod recovery_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "recovery_codes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub code_hash: String,
        pub created_at: ChronoDateTimeUtc,
        pub used_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod challenge_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_challenges")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub token_hash: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub used_at: Option<ChronoDateTimeUtc>,
        pub device_name: Option<String>,
        pub known_device: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("a second factor is already enabled")]
    AlreadyEnabled,
    #[error("no enrolment in progress")]
    NotStarted,
    #[error("wrong code")]
    InvalidCode,
    #[error("too many wrong codes")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<throttle::ThrottleError> for MfaError {
    fn from(e: throttle::ThrottleError) -> Self {
        match e {
            // Fails closed: no code is checked while the counters cannot be read.
            throttle::ThrottleError::Unavailable(_) => MfaError::RateLimited {
                retry_after_secs: throttle::UNAVAILABLE_RETRY_SECS,
            },
            throttle::ThrottleError::Database(e) => MfaError::Internal(e.into()),
        }
    }
}

impl From<sea_orm::DbErr> for MfaError {
    fn from(e: sea_orm::DbErr) -> Self {
        MfaError::Internal(e.into())
    }
}

fn totp_for(secret_base32: &str, account: &str) -> anyhow::Result<Totp> {
    let secret =
        Secret::try_from_base32(secret_base32).map_err(|e| anyhow::anyhow!("stored TOTP secret: {e:?}"))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP parameters: {e:?}"))
}

/// What the user needs to add the account to an authenticator app.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// Starts (or restarts) enrolment with a fresh 160-bit secret, unconfirmed until a code from
/// the app proves the user has it.
pub async fn start_enrolment(db: &impl ConnectionTrait, user: UserId) -> Result<Enrolment, MfaError> {
    let account = user::Entity::find_by_id(user.0)
        .one(db)
        .await?
        .ok_or(MfaError::NotStarted)?;
    if account.mfa_enabled_at.is_some() {
        return Err(MfaError::AlreadyEnabled);
    }
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    let secret_base32 = Secret::from(bytes.to_vec()).to_base32();
    totp_entity::Entity::delete_by_id(user.0).exec(db).await?;
    let row = totp_entity::ActiveModel {
        user_id: Set(user.0),
        // The shared secret is what an attacker with the database would need (S-CR-3).
        secret_base32: Set(seal::seal(db, Field::TotpSecret, &secret_base32).await?),
        created_at: Set(Utc::now()),
        confirmed_at: Set(None),
        last_used_step: Set(None),
    };
    totp_entity::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    enrolment_for(secret_base32, &account.email)
}

/// The enrolment still waiting for confirmation, to show again after a wrong code.
pub async fn pending_enrolment(
    db: &impl ConnectionTrait,
    user: UserId,
) -> Result<Option<Enrolment>, MfaError> {
    let Some(pending) = totp_entity::Entity::find_by_id(user.0)
        .one(db)
        .await?
        .filter(|t| t.confirmed_at.is_none())
    else {
        return Ok(None);
    };
    let account = user::Entity::find_by_id(user.0)
        .one(db)
        .await?
        .ok_or(MfaError::NotStarted)?;
    let secret = seal::open(db, Field::TotpSecret, &pending.secret_base32).await?;
    enrolment_for(secret, &account.email).map(Some)
}

fn enrolment_for(secret_base32: String, account: &str) -> Result<Enrolment, MfaError> {
    let totp = totp_for(&secret_base32, account)?;
    let otpauth_uri = totp.to_url().map_err(|e| anyhow::anyhow!("otpauth URL: {e:?}"))?;
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| anyhow::anyhow!("QR code: {e}"))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment {
        secret_base32,
        otpauth_uri,
        qr_svg,
    })
}

/// Confirms enrolment with a code from the app; returns the recovery codes, shown once.
pub async fn confirm_enrolment(
    cx: &LoginContext<'_>,
    user: UserId,
    code: &str,
    ctx: &RequestContext,
) -> Result<Vec<String>, MfaError> {
    let now = Utc::now();
    let pending = totp_entity::Entity::find_by_id(user.0)
        .one(cx.db)
        .await?
        .filter(|t| t.confirmed_at.is_none())
        .ok_or(MfaError::NotStarted)?;
    let key = Key::mfa(user);
    if let Some(retry_after_secs) = throttle::blocked_for(cx.counters, &[&key], now).await? {
        return Err(MfaError::RateLimited { retry_after_secs });
    }
    let account = user::Entity::find_by_id(user.0)
        .one(cx.db)
        .await?
        .ok_or(MfaError::NotStarted)?;
    let secret = seal::open(cx.db, Field::TotpSecret, &pending.secret_base32).await?;
    let totp = totp_for(&secret, &account.email)?;
    let Some(step) = totp.check(code.trim(), unix_seconds(now)) else {
        throttle::record_failure(cx.counters, &key, cx.rules, now).await?;
        return Err(MfaError::InvalidCode);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let tx = crate::db::begin(cx.db).await?;
    totp_entity::Entity::update_many()
        .col_expr(totp_entity::Column::ConfirmedAt, Expr::value(now))
        .col_expr(totp_entity::Column::LastUsedStep, Expr::value(step as i64))
        .filter(totp_entity::Column::UserId.eq(user.0))
        .exec(&tx)
        .await?;
    set_enabled(&tx, user, Some(now)).await?;
    recovery_entity::Entity::delete_many()
        .filter(recovery_entity::Column::UserId.eq(user.0))
        .exec(&tx)
        .await?;
    for code in &codes {
        let row = recovery_entity::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            user_id: Set(user.0),
            code_hash: Set(token_hash(&normalise_recovery_code(code))),
            created_at: Set(now),
            used_at: Set(None),
        };
        recovery_entity::Entity::insert(row)
            .exec_without_returning(&tx)
            .await?;
    }
    let actor = Actor {
        user_id: Some(user),
        ..Actor::anonymous(ctx)
    };
    audit::record(
        &tx,
        &actor,
        Action::MfaEnabled,
        Some(Target::user(user)),
        Details::new(),
    )
    .await?;
    enqueue_notice(&tx, &account, cx.public_url, "turned on").await?;
    tx.commit().await?;
    throttle::clear(cx.counters, &key).await?;
    cx.auth_cache.clear();
    cx.mailer.wake();
    Ok(codes)
}

/// Removes the second factor and its recovery codes (the caller checked re-authentication).
pub async fn remove(cx: &LoginContext<'_>, user: UserId, ctx: &RequestContext) -> Result<(), MfaError> {
    let account = user::Entity::find_by_id(user.0)
        .one(cx.db)
        .await?
        .ok_or(MfaError::NotStarted)?;
    if account.mfa_enabled_at.is_none() {
        return Err(MfaError::NotStarted);
    }
    let tx = crate::db::begin(cx.db).await?;
    totp_entity::Entity::delete_by_id(user.0).exec(&tx).await?;
    recovery_entity::Entity::delete_many()
        .filter(recovery_entity::Column::UserId.eq(user.0))
        .exec(&tx)
        .await?;
    set_enabled(&tx, user, None).await?;
    let actor = Actor {
        user_id: Some(user),
        ..Actor::anonymous(ctx)
    };
    audit::record(
        &tx,
        &actor,
        Action::MfaDisabled,
        Some(Target::user(user)),
        Details::new(),
    )
    .await?;
    enqueue_notice(&tx, &account, cx.public_url, "turned off").await?;
    tx.commit().await?;
    cx.auth_cache.clear();
    cx.mailer.wake();
    Ok(())
}

async fn set_enabled<C: crate::db::Conn>(
    tx: &C,
    user: UserId,
    at: Option<DateTime<Utc>>,
) -> Result<(), MfaError> {
    user::Entity::update_many()
        .col_expr(user::Column::MfaEnabledAt, Expr::value(at))
        .filter(user::Column::Id.eq(user.0))
        .exec(tx)
        .await?;
    Ok(())
}

/// Checks a TOTP code or a recovery code for an enrolled user, under factor throttling.
/// A TOTP step and a recovery code are each accepted once, also under concurrency.
pub async fn verify_second_factor(cx: &LoginContext<'_>, user: UserId, code: &str) -> Result<(), MfaError> {
    let now = Utc::now();
    let key = Key::mfa(user);
    if let Some(retry_after_secs) = throttle::blocked_for(cx.counters, &[&key], now).await? {
        return Err(MfaError::RateLimited { retry_after_secs });
    }
    let accepted = match totp_entity::Entity::find_by_id(user.0).one(cx.db).await? {
        Some(totp) if totp.confirmed_at.is_some() => {
            let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
                accept_totp(cx, user, &totp, &compact, now).await?
            } else {
                accept_recovery_code(cx, user, code, now).await?
            }
        }
        _ => false,
    };
    if accepted {
        throttle::clear(cx.counters, &key).await?;
        Ok(())
    } else {
        throttle::record_failure(cx.counters, &key, cx.rules, now).await?;
        Err(MfaError::InvalidCode)
    }
}

async fn accept_totp(
    cx: &LoginContext<'_>,
    user: UserId,
    totp: &totp_entity::Model,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, MfaError> {
    let account = user::Entity::find_by_id(user.0)
        .one(cx.db)
        .await?
        .ok_or(MfaError::InvalidCode)?;
    let secret = seal::open(cx.db, Field::TotpSecret, &totp.secret_base32).await?;
    let Some(step) = totp_for(&secret, &account.email)?.check(code, unix_seconds(now)) else {
        return Ok(false);
    };
    // Replay protection: only a step later than the last accepted one moves the marker.
    let moved = totp_entity::Entity::update_many()
        .col_expr(totp_entity::Column::LastUsedStep, Expr::value(step as i64))
        .filter(totp_entity::Column::UserId.eq(user.0))
        .filter(
            Expr::col(totp_entity::Column::LastUsedStep)
                .is_null()
                .or(Expr::col(totp_entity::Column::LastUsedStep).lt(step as i64)),
        )
        .exec(cx.db)
        .await?;
    Ok(moved.rows_affected == 1)
}

async fn accept_recovery_code(
    cx: &LoginContext<'_>,
    user: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, MfaError> {
    let normalised = normalise_recovery_code(code);
    if normalised.len() != 20 {
        return Ok(false);
    }
    let spent = recovery_entity::Entity::update_many()
        .col_expr(recovery_entity::Column::UsedAt, Expr::value(now))
        .filter(recovery_entity::Column::UserId.eq(user.0))
        .filter(recovery_entity::Column::CodeHash.eq(token_hash(&normalised)))
        .filter(recovery_entity::Column::UsedAt.is_null())
        .exec(cx.db)
        .await?;
    Ok(spent.rows_affected == 1)
}

fn unix_seconds(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// 80 random bits as 20 hex digits in groups of five: `3f9a1-c0b2d-4e7f8-a9b0c`.
fn new_recovery_code() -> String {
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}", &hex[0..5], &hex[5..10], &hex[10..15], &hex[15..20])
}

/// Case, spaces and dashes do not matter when a code is typed back.
fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

async fn enqueue_notice<C: crate::db::Conn>(
    tx: &C,
    account: &user::Model,
    public_url: &url::Url,
    what: &str,
) -> anyhow::Result<()> {
    #[derive(Template)]
    #[template(path = "mail/mfa_changed.txt")]
    struct Notice<'a> {
        name: &'a str,
        what: &'a str,
        forgot_link: String,
    }
    let body = Notice {
        name: &account.name,
        what,
        forgot_link: link(public_url, "/forgot-password", None),
    }
    .render()?;
    mail::enqueue_to_stored(tx, &account.email, format!("Two-step sign-in {what}"), body).await?;
    Ok(())
}

/// A password-verified sign-in waiting for its second factor.
pub struct PendingLogin {
    pub user: UserId,
    pub device_name: Option<String>,
    pub known_device: Option<uuid::Uuid>,
}

/// Records a pending sign-in and returns its token (given to the client as `mfa_token`).
pub async fn create_challenge<C: crate::db::Conn>(
    conn: &C,
    pending: &PendingLogin,
) -> Result<String, sea_orm::DbErr> {
    let token = random_token();
    let now = Utc::now();
    let row = challenge_entity::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        user_id: Set(pending.user.0),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + CHALLENGE_TTL),
        used_at: Set(None),
        device_name: Set(pending.device_name.clone()),
        known_device: Set(pending.known_device),
    };
    challenge_entity::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(token)
}

/// The pending sign-in behind `token`, if it is live (not spent, not expired).
pub async fn find_challenge<C: crate::db::Conn>(
    conn: &C,
    token: &str,
) -> Result<Option<(uuid::Uuid, PendingLogin)>, sea_orm::DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = challenge_entity::Entity::find()
        .filter(challenge_entity::Column::TokenHash.eq(token_hash(token)))
        .one(conn)
        .await?;
    Ok(row
        .filter(|c| c.used_at.is_none() && c.expires_at > Utc::now())
        .map(|c| {
            (
                c.id,
                PendingLogin {
                    user: UserId(c.user_id),
                    device_name: c.device_name,
                    known_device: c.known_device,
                },
            )
        }))
}

/// Spends a challenge; false if another request spent it first.
pub async fn spend_challenge<C: crate::db::Conn>(conn: &C, id: uuid::Uuid) -> Result<bool, sea_orm::DbErr> {
    let spent = challenge_entity::Entity::update_many()
        .col_expr(challenge_entity::Column::UsedAt, Expr::value(Utc::now()))
        .filter(challenge_entity::Column::Id.eq(id))
        .filter(challenge_entity::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(spent.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_80_bits_and_typed_back_leniently() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 23);
        assert_eq!(normalise_recovery_code(&code).len(), 20);
        assert_eq!(
            normalise_recovery_code(&code.to_uppercase().replace('-', " ")),
            normalise_recovery_code(&code)
        );
        assert_ne!(new_recovery_code(), code);
    }
}
