//! Sign-in with email and password for the API (S-AU-2, S-AU-3, S-AU-5, S-CR-1).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};

use crate::access::Role;
use crate::audit::{self, Action, Actor, Details, Target};
use crate::http::RequestContext;
use crate::ids::UserId;
use crate::mail;

use super::device;
use super::mfa::{self, MfaError, PendingLogin};
use super::model::EmailAddress;
use super::password::MAX_CHARS;
use super::session::{self, IssuedTokens, NewSession, RefreshOutcome};
use super::store::user;
use super::throttle::{self, Key};

pub use super::login_context::LoginContext;

pub struct LoginForm {
    pub email: String,
    pub password: SecretString,
    pub device_name: Option<String>,
    pub device_token: Option<String>,
}

pub struct LoginSuccess {
    pub user: UserId,
    pub session: SessionGrant,
    pub device_token: String,
}

/// Who is signing in: an API client gets tokens, a browser a session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Client {
    Api,
    Browser,
}

/// The credentials of the new session.
pub enum SessionGrant {
    Api(IssuedTokens),
    Browser {
        session: crate::ids::SessionId,
        cookie_token: String,
    },
}

pub enum LoginOutcome {
    SignedIn(LoginSuccess),
    /// The password was right; the account has a second factor. `mfa_token` names this
    /// pending sign-in for five minutes.
    MfaRequired {
        mfa_token: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong password, unknown account or disabled account: one answer for all (S-AU-2).
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed sign-ins")]
    RateLimited { retry_after_secs: u64 },
    /// The throttle counters cannot be read: sign-in is refused, never let through uncounted.
    #[error("sign-in is unavailable for a moment")]
    Unavailable { retry_after_secs: u64 },
    #[error("wrong second-factor code")]
    InvalidCode,
    /// The client's address is blocked and this is not a device the account knows: the same
    /// bare refusal the block gives every other anonymous request (S-DE-4).
    #[error("the client address is blocked")]
    AddressBlocked,
    #[error("the pending sign-in is unknown, expired or finished")]
    InvalidToken,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<throttle::ThrottleError> for LoginError {
    fn from(e: throttle::ThrottleError) -> Self {
        match e {
            throttle::ThrottleError::Unavailable(_) => LoginError::Unavailable {
                retry_after_secs: throttle::UNAVAILABLE_RETRY_SECS,
            },
            throttle::ThrottleError::Database(e) => LoginError::Internal(e.into()),
        }
    }
}

impl From<sea_orm::DbErr> for LoginError {
    fn from(e: sea_orm::DbErr) -> Self {
        LoginError::Internal(e.into())
    }
}

pub async fn login(
    cx: &LoginContext<'_>,
    form: LoginForm,
    client: Client,
    ctx: &RequestContext,
) -> Result<LoginOutcome, LoginError> {
    let now = Utc::now();
    let identifier: String = form.email.trim().to_lowercase().chars().take(254).collect();
    let account = match EmailAddress::parse(&identifier) {
        Ok(email) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(email.as_str()))
                .one(cx.db)
                .await?
        }
        Err(_) => None,
    };
    let known_device = match (&account, &form.device_token) {
        (Some(a), Some(token)) => device::verify(cx.secret_key, token, UserId(a.id)),
        _ => None,
    };
    if ctx.address_blocked && known_device.is_none() {
        return Err(LoginError::AddressBlocked);
    }
    let account_key = match known_device {
        Some(d) => Key::device(&identifier, d),
        None => Key::account(&identifier),
    };
    let ip_key = Key::ip(ctx.client_ip);
    let target = account.as_ref().map(|a| Target::user(UserId(a.id)));
    // A device the account knows is judged by its own count alone: failures of strangers on
    // the same address (a company network, a carrier's NAT) must not lock its owner out
    // (S-AU-3, S-DE-4). Its failures still count against the address.
    let checked: &[&Key] = if known_device.is_some() {
        &[&account_key]
    } else {
        &[&ip_key, &account_key]
    };

    // Hold a hashing slot from the throttle check to the recorded outcome (see throttle.rs).
    let permit = cx.hasher.permit().await?;
    if let Some(retry_after_secs) = throttle::blocked_for(cx.counters, checked, now).await? {
        audit::record(
            cx.db,
            &Actor::anonymous(ctx),
            Action::LoginThrottled,
            target,
            Details::new(),
        )
        .await?;
        tracing::warn!(retry_after_secs, "sign-in throttled");
        return Err(LoginError::RateLimited { retry_after_secs });
    }
    // A password longer than any we accept cannot match: no hash is spent on it (S-AU-1).
    let too_long = form.password.expose_secret().chars().count() > MAX_CHARS;
    let usable = account.as_ref().filter(|a| a.disabled_at.is_none());
    let matched = !too_long
        && cx
            .hasher
            .verify(
                form.password.clone(),
                usable.and_then(|a| a.password_hash.clone()),
            )
            .await?
        && usable.is_some_and(|a| a.password_hash.is_some());
    let Some(account) = usable.filter(|_| matched) else {
        throttle::record_failure(cx.counters, &account_key, cx.rules, now).await?;
        throttle::record_failure(cx.counters, &ip_key, cx.rules, now).await?;
        drop(permit);
        audit::record(
            cx.db,
            &Actor::anonymous(ctx),
            Action::LoginFailed,
            target,
            Details::new(),
        )
        .await?;
        tracing::info!(known_account = account.is_some(), "sign-in failed");
        return Err(LoginError::InvalidCredentials);
    };
    drop(permit);

    if let Some(stored) = &account.password_hash
        && cx.hasher.needs_rehash(stored)
    {
        let hash = cx.hasher.rehash(form.password).await?;
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .filter(user::Column::Id.eq(account.id))
            .exec(cx.db)
            .await?;
    }
    let pending = PendingLogin {
        user: UserId(account.id),
        device_name: form.device_name,
        known_device,
    };
    if account.mfa_enabled_at.is_some() {
        let mfa_token = mfa::create_challenge(cx.db, &pending).await?;
        tracing::info!("password accepted; waiting for the second factor");
        return Ok(LoginOutcome::MfaRequired { mfa_token });
    }
    Ok(LoginOutcome::SignedIn(
        finish(cx, account, pending, account_key, false, client, ctx).await?,
    ))
}

/// Completes a sign-in that is waiting for its second factor.
pub async fn login_with_second_factor(
    cx: &LoginContext<'_>,
    mfa_token: &str,
    code: &str,
    client: Client,
    ctx: &RequestContext,
) -> Result<LoginSuccess, LoginError> {
    let (challenge, pending) = mfa::find_challenge(cx.db, mfa_token)
        .await?
        .ok_or(LoginError::InvalidToken)?;
    if ctx.address_blocked && pending.known_device.is_none() {
        return Err(LoginError::AddressBlocked);
    }
    let account = user::Entity::find_by_id(pending.user.0)
        .one(cx.db)
        .await?
        .filter(|a| a.disabled_at.is_none())
        .ok_or(LoginError::InvalidToken)?;
    match mfa::verify_second_factor(cx, pending.user, code).await {
        Ok(()) => {}
        Err(MfaError::RateLimited { retry_after_secs }) => {
            return Err(LoginError::RateLimited { retry_after_secs });
        }
        Err(MfaError::Internal(e)) => return Err(LoginError::Internal(e)),
        Err(_) => {
            let actor = Actor {
                user_id: Some(pending.user),
                ..Actor::anonymous(ctx)
            };
            audit::record(
                cx.db,
                &actor,
                Action::MfaFailed,
                Some(Target::user(pending.user)),
                Details::new(),
            )
            .await?;
            return Err(LoginError::InvalidCode);
        }
    }
    if !mfa::spend_challenge(cx.db, challenge).await? {
        return Err(LoginError::InvalidToken);
    }
    let account_key = match pending.known_device {
        Some(d) => Key::device(&account.email, d),
        None => Key::account(&account.email),
    };
    finish(cx, &account, pending, account_key, true, client, ctx).await
}

/// Starts the session of a fully authenticated sign-in.
async fn finish(
    cx: &LoginContext<'_>,
    account: &user::Model,
    pending: PendingLogin,
    account_key: Key,
    with_mfa: bool,
    client: Client,
    ctx: &RequestContext,
) -> Result<LoginSuccess, LoginError> {
    let now = Utc::now();
    let user_id = pending.user;
    let role: Role = account
        .role
        .parse()
        .map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    let tx = crate::db::begin(cx.db).await?;
    let new = NewSession {
        user: user_id,
        device_name: pending.device_name.as_deref(),
        ip: ctx.client_ip,
    };
    let grant = match client {
        Client::Api => SessionGrant::Api(session::start_api_session(&tx, new, cx.lifetimes, now).await?),
        Client::Browser => {
            let (session, cookie_token) = session::start_browser_session(&tx, new, cx.browser, now).await?;
            SessionGrant::Browser {
                session,
                cookie_token,
            }
        }
    };
    let session_id = match &grant {
        SessionGrant::Api(tokens) => tokens.session_id,
        SessionGrant::Browser { session, .. } => *session,
    };
    let actor = Actor::user(ctx, user_id, role);
    let details = Details::new()
        .with("session", session_id.0)
        .with("known_device", pending.known_device.is_some())
        .with("mfa", with_mfa);
    audit::record(
        &tx,
        &actor,
        Action::LoginSucceeded,
        Some(Target::user(user_id)),
        details,
    )
    .await?;
    // A sign-in from a device this account never used, after an earlier sign-in: tell the owner
    // (at most a few times an hour, so an attacker cannot flood the inbox).
    if pending.known_device.is_none() && account.last_login_at.is_some() {
        let hour_ago = now - chrono::TimeDelta::hours(1);
        let sent =
            audit::count_since(&tx, Action::NewDeviceNotified, &Target::user(user_id), hour_ago).await?;
        if sent < super::signup::MAX_MAILS_PER_HOUR {
            enqueue_new_device_notice(
                &tx,
                account,
                pending.device_name.as_deref(),
                ctx,
                now,
                cx.public_url,
            )
            .await?;
            audit::record(
                &tx,
                &actor,
                Action::NewDeviceNotified,
                Some(Target::user(user_id)),
                Details::new(),
            )
            .await?;
        }
    }
    // The access review (S-AC-2) flags staff accounts nobody has used for 90 days.
    user::Entity::update_many()
        .col_expr(user::Column::LastLoginAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(&tx)
        .await?;
    tx.commit().await?;
    throttle::clear(cx.counters, &account_key).await?;
    cx.mailer.wake();
    tracing::Span::current().record("user_id", tracing::field::display(user_id));
    tracing::info!(
        known_device = pending.known_device.is_some(),
        mfa = with_mfa,
        "signed in"
    );

    let device_id = pending.known_device.unwrap_or_else(uuid::Uuid::new_v4);
    let device_token = device::issue(cx.secret_key, device_id, user_id)
        .ok_or_else(|| anyhow::anyhow!("device token signing failed"))?;
    Ok(LoginSuccess {
        user: user_id,
        session: grant,
        device_token,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("invalid refresh token")]
    Invalid,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for RefreshError {
    fn from(e: sea_orm::DbErr) -> Self {
        RefreshError::Internal(e.into())
    }
}

/// Rotates a refresh token. A reused one revokes its session, is audited, and the owner is
/// emailed (S-AU-5).
pub async fn refresh(
    cx: &LoginContext<'_>,
    token: &str,
    ctx: &RequestContext,
) -> Result<IssuedTokens, RefreshError> {
    let now = Utc::now();
    let tx = crate::db::begin(cx.db).await?;
    let outcome = session::refresh(&tx, token, cx.lifetimes, now).await?;
    match outcome {
        RefreshOutcome::Rotated(tokens, _user) => {
            tx.commit().await?;
            cx.auth_cache.clear();
            Ok(tokens)
        }
        RefreshOutcome::Invalid => Err(RefreshError::Invalid),
        RefreshOutcome::Reused { user, session } => {
            let owner = user::Entity::find_by_id(user.0).one(&tx).await?;
            let details = Details::new().with("session", session.0);
            audit::record(
                &tx,
                &Actor::anonymous(ctx),
                Action::RefreshTokenReused,
                Some(Target::user(user)),
                details,
            )
            .await?;
            if let Some(owner) = owner {
                enqueue_reuse_notice(&tx, &owner).await?;
            }
            tx.commit().await?;
            cx.auth_cache.clear();
            cx.mailer.wake();
            tracing::warn!(session_id = %session, "refresh token reused; session revoked");
            Err(RefreshError::Invalid)
        }
    }
}

async fn enqueue_new_device_notice<C: crate::db::Conn>(
    tx: &C,
    owner: &user::Model,
    device: Option<&str>,
    ctx: &RequestContext,
    at: chrono::DateTime<Utc>,
    public_url: &url::Url,
) -> anyhow::Result<()> {
    use askama::Template;
    #[derive(Template)]
    #[template(path = "mail/new_device.txt")]
    struct Notice<'a> {
        name: &'a str,
        device: &'a str,
        ip: String,
        at: String,
        account_link: String,
    }
    let body = Notice {
        name: &owner.name,
        device: device
            .filter(|d| !d.is_empty())
            .unwrap_or("a browser or app without a name"),
        ip: ctx.client_ip.to_string(),
        at: at.format("%Y-%m-%d %H:%M UTC").to_string(),
        account_link: super::signup::link(public_url, "/account", None),
    }
    .render()?;
    mail::enqueue_to_stored(tx, &owner.email, "New sign-in to your Sunbridge account", body).await?;
    Ok(())
}

async fn enqueue_reuse_notice<C: crate::db::Conn>(tx: &C, owner: &user::Model) -> anyhow::Result<()> {
    use askama::Template;
    #[derive(Template)]
    #[template(path = "mail/refresh_reuse.txt")]
    struct Notice<'a> {
        name: &'a str,
        device: &'a str,
    }
    let body = Notice {
        name: &owner.name,
        device: "a signed-in app",
    }
    .render()?;
    mail::enqueue_to_stored(tx, &owner.email, "We signed out one of your devices", body).await?;
    Ok(())
}
