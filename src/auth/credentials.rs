//! Re-authentication (S-AU-7), password change (S-AU-6) and forgotten-password reset (S-AU-8).
//! Setting a new password ends other sessions and tells the owner by email.

use askama::Template;
use chrono::{TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, Action, Actor, Details, Target};
use crate::http::RequestContext;
use crate::ids::{SessionId, UserId};
use crate::mail::{self, OutgoingMail};

use super::email_token::{self, Purpose};
use super::extract::Authenticated;
use super::login::LoginContext;
use super::mfa::{self, MfaError};
use super::model::EmailAddress;
use super::password::{Password, PasswordProblem};
use super::session::{self, EndReason};
use super::signup::link;
use super::store::user;
use super::throttle::{self, Key};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("wrong password")]
    WrongPassword,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("weak password")]
    WeakPassword(PasswordProblem),
    #[error("invalid token")]
    InvalidToken,
    #[error("the second factor is required")]
    MfaRequired,
    #[error("wrong second-factor code")]
    InvalidCode,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<throttle::ThrottleError> for CredentialError {
    fn from(e: throttle::ThrottleError) -> Self {
        match e {
            // Fails closed: no password is checked while the counters cannot be read.
            throttle::ThrottleError::Unavailable(_) => CredentialError::RateLimited {
                retry_after_secs: throttle::UNAVAILABLE_RETRY_SECS,
            },
            throttle::ThrottleError::Database(e) => CredentialError::Internal(e.into()),
        }
    }
}

impl From<sea_orm::DbErr> for CredentialError {
    fn from(e: sea_orm::DbErr) -> Self {
        CredentialError::Internal(e.into())
    }
}

async fn load(db: &impl ConnectionTrait, id: UserId) -> Result<user::Model, CredentialError> {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(CredentialError::WrongPassword)
}

/// Checks the signed-in user's password under the same throttling as sign-in, so that a
/// stolen session cannot be used to guess the password.
async fn check_password(
    cx: &LoginContext<'_>,
    account: &user::Model,
    password: SecretString,
    ctx: &RequestContext,
) -> Result<(), CredentialError> {
    let now = Utc::now();
    let account_key = Key::account(&account.email);
    let ip_key = Key::ip(ctx.client_ip);
    let permit = cx.hasher.permit().await?;
    if let Some(retry_after_secs) = throttle::blocked_for(cx.counters, &[&ip_key, &account_key], now).await? {
        return Err(CredentialError::RateLimited { retry_after_secs });
    }
    if cx.hasher.verify(password, account.password_hash.clone()).await? && account.password_hash.is_some() {
        return Ok(());
    }
    throttle::record_failure(cx.counters, &account_key, cx.rules, now).await?;
    throttle::record_failure(cx.counters, &ip_key, cx.rules, now).await?;
    drop(permit);
    let actor = Actor::anonymous(ctx);
    audit::record(
        cx.db,
        &actor,
        Action::ReauthFailed,
        Some(Target::user(UserId(account.id))),
        Details::new(),
    )
    .await?;
    Err(CredentialError::WrongPassword)
}

/// What a re-authentication presents: the password, and the second factor when enrolled.
pub struct Proof {
    pub password: SecretString,
    pub code: Option<SecretString>,
}

/// Opens the re-authentication window of the caller's session.
pub async fn reauthenticate(
    cx: &LoginContext<'_>,
    caller: &Authenticated,
    proof: Proof,
    ctx: &RequestContext,
) -> Result<(), CredentialError> {
    let account = load(cx.db, caller.user).await?;
    check_password(cx, &account, proof.password, ctx).await?;
    if caller.mfa_enabled {
        let code = proof.code.ok_or(CredentialError::MfaRequired)?;
        match mfa::verify_second_factor(cx, caller.user, code.expose_secret()).await {
            Ok(()) => {}
            Err(MfaError::RateLimited { retry_after_secs }) => {
                return Err(CredentialError::RateLimited { retry_after_secs });
            }
            Err(MfaError::Internal(e)) => return Err(CredentialError::Internal(e)),
            Err(_) => return Err(CredentialError::InvalidCode),
        }
    }
    let tx = crate::db::begin(cx.db).await?;
    session::mark_authenticated(&tx, caller.session, Utc::now()).await?;
    let actor = Actor {
        user_id: Some(caller.user),
        role: Some(caller.role),
        ..Actor::anonymous(ctx)
    };
    audit::record(
        &tx,
        &actor,
        Action::Reauthenticated,
        Some(Target::user(caller.user)),
        Details::new(),
    )
    .await?;
    tx.commit().await?;
    cx.auth_cache.clear();
    Ok(())
}

/// Changes the password of a signed-in user (inside the re-authentication window, checked
/// by the caller), ends every other session and emails the owner.
pub async fn change_password(
    cx: &LoginContext<'_>,
    user: UserId,
    session: SessionId,
    current: SecretString,
    new: SecretString,
    ctx: &RequestContext,
) -> Result<(), CredentialError> {
    let account = load(cx.db, user).await?;
    let password =
        Password::parse(new, &[&account.email, &account.name]).map_err(CredentialError::WeakPassword)?;
    check_password(cx, &account, current, ctx).await?;
    let hash = cx.hasher.hash(password).await?;
    let tx = crate::db::begin(cx.db).await?;
    set_password(&tx, &account, hash, Some(session)).await?;
    let actor = Actor {
        user_id: Some(user),
        ..Actor::anonymous(ctx)
    };
    audit::record(
        &tx,
        &actor,
        Action::PasswordChanged,
        Some(Target::user(user)),
        Details::new(),
    )
    .await?;
    enqueue_changed_notice(&tx, &account, cx.public_url, "changed").await?;
    tx.commit().await?;
    cx.auth_cache.clear();
    cx.mailer.wake();
    Ok(())
}

async fn set_password<C: crate::db::Conn>(
    tx: &C,
    account: &user::Model,
    hash: String,
    keep: Option<SessionId>,
) -> Result<(), CredentialError> {
    let now = Utc::now();
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .exec(tx)
        .await?;
    session::end_all_except(tx, UserId(account.id), keep, EndReason::PasswordChanged, now).await?;
    // Older reset links must not outlive the password they were meant to replace.
    email_token::revoke_all(tx, UserId(account.id), Purpose::ResetPassword).await?;
    Ok(())
}

async fn enqueue_changed_notice<C: crate::db::Conn>(
    tx: &C,
    account: &user::Model,
    public_url: &url::Url,
    how: &str,
) -> anyhow::Result<()> {
    #[derive(Template)]
    #[template(path = "mail/password_changed.txt")]
    struct Changed<'a> {
        name: &'a str,
        how: &'a str,
        forgot_link: String,
    }
    let body = Changed {
        name: &account.name,
        how,
        forgot_link: link(public_url, "/forgot-password", None),
    }
    .render()?;
    mail::enqueue_to_stored(tx, &account.email, "Your password was changed", body).await?;
    Ok(())
}

/// Sends a reset link if the address has an active account and fewer than 3 links were sent
/// in the last hour. Silent either way (S-AU-2).
pub async fn request_reset(
    cx: &LoginContext<'_>,
    email: &str,
    token_ttl: TimeDelta,
    ctx: &RequestContext,
) -> anyhow::Result<()> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Ok(());
    };
    let tx = crate::db::begin(cx.db).await?;
    let account = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&tx)
        .await?
        .filter(|a| a.disabled_at.is_none());
    if let Some(account) = account {
        let id = UserId(account.id);
        let sent =
            email_token::issued_since(&tx, id, Purpose::ResetPassword, Utc::now() - TimeDelta::hours(1))
                .await?;
        let capped = sent >= super::signup::MAX_MAILS_PER_HOUR;
        let details = Details::new().with("capped", capped);
        audit::record(
            &tx,
            &Actor::anonymous(ctx),
            Action::PasswordResetRequested,
            Some(Target::user(id)),
            details,
        )
        .await?;
        if !capped {
            #[derive(Template)]
            #[template(path = "mail/password_reset.txt")]
            struct Reset<'a> {
                name: &'a str,
                link: String,
                valid_minutes: i64,
            }
            let token = email_token::issue(&tx, id, Purpose::ResetPassword, token_ttl).await?;
            let body = Reset {
                name: &account.name,
                link: link(cx.public_url, "/reset-password", Some(("token", &token))),
                valid_minutes: token_ttl.num_minutes(),
            }
            .render()?;
            mail::enqueue(
                &tx,
                OutgoingMail {
                    to: email,
                    subject: "Choose a new password".into(),
                    body,
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    cx.mailer.wake();
    Ok(())
}

/// Sets a new password with a reset token. The token is spent only once the new password
/// passes the policy. No session is started (S-AU-8): the user signs in, with MFA if enrolled.
pub async fn reset_password(
    cx: &LoginContext<'_>,
    token: &str,
    new: SecretString,
    ctx: &RequestContext,
) -> Result<(), CredentialError> {
    let (tx, account, user) = password_from_link(cx, token, Purpose::ResetPassword, new).await?;
    let actor = Actor {
        user_id: Some(user),
        ..Actor::anonymous(ctx)
    };
    audit::record(
        &tx,
        &actor,
        Action::PasswordReset,
        Some(Target::user(user)),
        Details::new(),
    )
    .await?;
    enqueue_changed_notice(&tx, &account, cx.public_url, "reset").await?;
    tx.commit().await?;
    // A successful reset also clears the throttle on the account: its owner proved control.
    throttle::clear(cx.counters, &Key::account(&account.email)).await?;
    cx.auth_cache.clear();
    cx.mailer.wake();
    Ok(())
}

/// A new staff member sets their first password with the link from their invitation. The
/// link proves the address, so it is marked confirmed. No session starts: they sign in, and
/// being staff, they must enrol a second factor before anything else (S-AU-4).
pub async fn accept_invite(
    cx: &LoginContext<'_>,
    token: &str,
    new: SecretString,
    ctx: &RequestContext,
) -> Result<(), CredentialError> {
    let (tx, account, user) = password_from_link(cx, token, Purpose::StaffInvite, new).await?;
    let now = Utc::now();
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(&tx)
        .await?;
    let actor = Actor {
        user_id: Some(user),
        ..Actor::anonymous(ctx)
    };
    audit::record(
        &tx,
        &actor,
        Action::StaffInviteAccepted,
        Some(Target::user(user)),
        Details::new(),
    )
    .await?;
    tx.commit().await?;
    cx.auth_cache.clear();
    Ok(())
}

/// A password set through an emailed link: the token must be valid for `purpose` and the
/// account enabled; the new password must pass the policy before the token is spent. Returns
/// the open transaction (token spent, password set, other sessions ended) for the caller's
/// own steps and audit row.
async fn password_from_link(
    cx: &LoginContext<'_>,
    token: &str,
    purpose: Purpose,
    new: SecretString,
) -> Result<(sea_orm::DatabaseTransaction, user::Model, UserId), CredentialError> {
    let user = email_token::peek(cx.db, token, purpose)
        .await?
        .ok_or(CredentialError::InvalidToken)?;
    // A disabled account's links are dead (`load` skips disabled accounts).
    let account = load(cx.db, user)
        .await
        .map_err(|_| CredentialError::InvalidToken)?;
    let password =
        Password::parse(new, &[&account.email, &account.name]).map_err(CredentialError::WeakPassword)?;
    let hash = cx.hasher.hash(password).await?;
    let tx = crate::db::begin(cx.db).await?;
    if email_token::consume(&tx, token, purpose).await? != Some(user) {
        return Err(CredentialError::InvalidToken);
    }
    set_password(&tx, &account, hash, None).await?;
    Ok((tx, account, user))
}

/// Is `authenticated_at` recent enough for a sensitive change?
pub fn within_reauth_window(authenticated_at: chrono::DateTime<Utc>, window: TimeDelta) -> bool {
    Utc::now() - authenticated_at <= window
}
