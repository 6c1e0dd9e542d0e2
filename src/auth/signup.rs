//! Sign-up and email verification (S-AU-2, S-AU-9). The answer is the same whether or not the
//! address already has an account: a new address gets a verification link, a taken one a
//! notice to its owner. Both paths hash the password, so they also take about as long.

use askama::Template;
use chrono::{TimeDelta, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use secrecy::SecretString;

use crate::access::Role;
use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::UserId;
use crate::mail::{self, Mailer, OutgoingMail};

use super::email_token::{self, Purpose};
use super::model::{EmailAddress, PersonName};
use super::password::{Password, PasswordHasher, PasswordProblem};
use super::service::{AccountError, NewAccount, insert_account};
use super::store::user;

/// At most this many verification (or notice) emails per account per hour (S-AU-8 rule).
pub const MAX_MAILS_PER_HOUR: u64 = 3;

pub struct SignupForm {
    pub email: String,
    pub name: String,
    pub password: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// Fields that are malformed, as (field, code, message).
    #[error("invalid sign-up form")]
    Invalid(Vec<(&'static str, &'static str, String)>),
    #[error("weak password: {0}")]
    WeakPassword(PasswordProblem),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What sign-up needs from the application.
pub struct SignupContext<'a> {
    pub db: &'a DatabaseConnection,
    pub hasher: &'a PasswordHasher,
    pub mailer: &'a Mailer,
    pub public_url: &'a url::Url,
    pub token_ttl: TimeDelta,
}

pub async fn sign_up(cx: &SignupContext<'_>, form: SignupForm, actor: &Actor) -> Result<(), SignupError> {
    let mut invalid = Vec::new();
    let email = EmailAddress::parse(&form.email)
        .map_err(|e| invalid.push(("email", "invalid", e.to_string())))
        .ok();
    let name = PersonName::parse(&form.name)
        .map_err(|e| invalid.push(("name", "invalid", e.to_string())))
        .ok();
    let (Some(email), Some(name)) = (email, name) else {
        return Err(SignupError::Invalid(invalid));
    };
    // The policy depends on the input only, never on whether the account exists.
    let password = Password::parse(form.password, &[email.as_str(), name.as_str()])
        .map_err(SignupError::WeakPassword)?;
    let hash = cx.hasher.hash(password).await?;

    let tx = crate::db::begin(cx.db).await.map_err(anyhow::Error::from)?;
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&tx)
        .await
        .map_err(anyhow::Error::from)?;
    match existing {
        Some(owner) => notify_existing_owner(cx, &tx, owner, actor).await?,
        None => {
            let account = NewAccount {
                email,
                name,
                role: Role::Customer,
                password_hash: Some(hash),
                email_verified: false,
            };
            let (id, email, name) = (UserId::new(), account.email.clone(), account.name.clone());
            match insert_account(&tx, id, account, actor).await {
                Ok(()) => send_verification(cx, &tx, id, &email, &name).await?,
                // Lost a race with another sign-up for the same address: answer as for a taken one.
                Err(AccountError::EmailTaken) => {}
                Err(AccountError::Database(e)) => return Err(anyhow::Error::from(e).into()),
            }
        }
    }
    tx.commit().await.map_err(anyhow::Error::from)?;
    cx.mailer.wake();
    Ok(())
}

async fn notify_existing_owner<C: crate::db::Conn>(
    cx: &SignupContext<'_>,
    tx: &C,
    owner: user::Model,
    actor: &Actor,
) -> anyhow::Result<()> {
    let id = UserId(owner.id);
    // Repeated attempts must not turn us into a mail cannon against the owner.
    let hour_ago = Utc::now() - TimeDelta::hours(1);
    let recent = audit::count_since(tx, Action::SignupWithExistingEmail, &Target::user(id), hour_ago).await?;
    audit::record(
        tx,
        actor,
        Action::SignupWithExistingEmail,
        Some(Target::user(id)),
        Details::new(),
    )
    .await?;
    if recent >= MAX_MAILS_PER_HOUR {
        return Ok(());
    }
    #[derive(Template)]
    #[template(path = "mail/signup_existing.txt")]
    struct Notice<'a> {
        name: &'a str,
        forgot_link: String,
    }
    let body = Notice {
        name: &owner.name,
        forgot_link: link(cx.public_url, "/forgot-password", None),
    }
    .render()?;
    mail::enqueue_to_stored(
        tx,
        &owner.email,
        "Someone tried to sign up with your address",
        body,
    )
    .await?;
    Ok(())
}

pub(crate) async fn send_verification<C: crate::db::Conn>(
    cx: &SignupContext<'_>,
    tx: &C,
    id: UserId,
    email: &EmailAddress,
    name: &PersonName,
) -> anyhow::Result<()> {
    #[derive(Template)]
    #[template(path = "mail/verify_email.txt")]
    struct Verify<'a> {
        name: &'a str,
        link: String,
        valid_minutes: i64,
    }
    let token = email_token::issue(tx, id, Purpose::VerifyEmail, cx.token_ttl).await?;
    let body = Verify {
        name: name.as_str(),
        link: link(cx.public_url, "/verify-email", Some(("token", &token))),
        valid_minutes: cx.token_ttl.num_minutes(),
    }
    .render()?;
    mail::enqueue(
        tx,
        OutgoingMail {
            to: email.clone(),
            subject: "Confirm your email address".into(),
            body,
        },
    )
    .await?;
    Ok(())
}

/// Sends a new verification link if the address has an unverified account and the hourly cap
/// allows it. Silent either way (no enumeration).
pub async fn resend_verification(cx: &SignupContext<'_>, email: &str) -> anyhow::Result<()> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Ok(());
    };
    let tx = crate::db::begin(cx.db).await?;
    let account = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&tx)
        .await?;
    if let Some(account) = account.filter(|a| a.email_verified_at.is_none() && a.disabled_at.is_none()) {
        let id = UserId(account.id);
        let sent = email_token::issued_since(&tx, id, Purpose::VerifyEmail, Utc::now() - TimeDelta::hours(1))
            .await?;
        if sent < MAX_MAILS_PER_HOUR {
            let name =
                PersonName::parse(&account.name).map_err(|e| anyhow::anyhow!("stored name invalid: {e}"))?;
            send_verification(cx, &tx, id, &email, &name).await?;
        }
    }
    tx.commit().await?;
    cx.mailer.wake();
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the link is invalid, expired or already used")]
    InvalidToken,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Spends a verification token and marks the address verified.
pub async fn verify_email(
    db: &DatabaseConnection,
    token: &str,
    actor: &Actor,
) -> Result<UserId, VerifyError> {
    let tx = crate::db::begin(db).await.map_err(anyhow::Error::from)?;
    let id = email_token::consume(&tx, token, Purpose::VerifyEmail)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(VerifyError::InvalidToken)?;
    let now = Utc::now();
    user::Entity::update_many()
        .col_expr(
            user::Column::EmailVerifiedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(user::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(user::Column::Id.eq(id.0))
        .filter(user::Column::EmailVerifiedAt.is_null())
        .exec(&tx)
        .await
        .map_err(anyhow::Error::from)?;
    let actor = Actor {
        user_id: Some(id),
        role: None,
        ..actor.clone()
    };
    audit::record(
        &tx,
        &actor,
        Action::EmailVerified,
        Some(Target::user(id)),
        Details::new(),
    )
    .await
    .map_err(anyhow::Error::from)?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(id)
}

/// A link into the site, built from the configured public URL, never from the request's
/// `Host` header (S-AU-8: a forged Host cannot redirect links to an attacker).
pub fn link(public_url: &url::Url, path: &str, query: Option<(&str, &str)>) -> String {
    let mut url = public_url.clone();
    url.set_path(path);
    url.set_query(None);
    if let Some((k, v)) = query {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}
