//! Profile changes by the signed-in user. A new email address must be confirmed again, and
//! the old address is told of the change (the usual first step of an account takeover).

use askama::Template;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::UserId;
use crate::mail;

use super::model::{EmailAddress, PersonName, PhoneNumber};
use super::signup::{SignupContext, send_verification};
use super::store::user;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("invalid field")]
    Invalid(&'static str, String),
    #[error("that email address belongs to another account")]
    EmailTaken,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for ProfileError {
    fn from(e: sea_orm::DbErr) -> Self {
        ProfileError::Internal(e.into())
    }
}

pub struct ProfileChange {
    pub name: Option<String>,
    pub email: Option<String>,
    /// `Some("")` removes the number.
    pub phone: Option<String>,
}

/// Applies the change. The caller has checked re-authentication when `email` is set.
pub async fn update(
    cx: &SignupContext<'_>,
    user: UserId,
    change: ProfileChange,
    actor: &Actor,
) -> Result<(), ProfileError> {
    let name = match change.name {
        Some(n) => Some(PersonName::parse(&n).map_err(|e| ProfileError::Invalid("name", e.to_string()))?),
        None => None,
    };
    let email = match change.email {
        Some(e) => Some(EmailAddress::parse(&e).map_err(|e| ProfileError::Invalid("email", e.to_string()))?),
        None => None,
    };
    let phone = match change.phone.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(p) => Some(Some(
            PhoneNumber::parse(p).map_err(|e| ProfileError::Invalid("phone", e.to_string()))?,
        )),
        None => None,
    };
    let tx = crate::db::begin(cx.db).await?;
    let account = user::Entity::find_by_id(user.0)
        .one(&tx)
        .await?
        .ok_or(ProfileError::Invalid("user", String::new()))?;
    let now = Utc::now();
    if let Some(name) = &name {
        user::Entity::update_many()
            .col_expr(user::Column::Name, Expr::value(name.as_str()))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user.0))
            .exec(&tx)
            .await?;
        audit::record(
            &tx,
            actor,
            Action::ProfileUpdated,
            Some(Target::user(user)),
            Details::new(),
        )
        .await?;
    }
    if let Some(phone) = &phone {
        user::Entity::update_many()
            .col_expr(
                user::Column::Phone,
                Expr::value(
                    crate::crypto::seal::seal_opt(
                        &tx,
                        crate::crypto::seal::Field::UserPhone,
                        phone.as_ref().map(|p| p.as_str()),
                    )
                    .await?,
                ),
            )
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user.0))
            .exec(&tx)
            .await?;
        if name.is_none() {
            audit::record(
                &tx,
                actor,
                Action::ProfileUpdated,
                Some(Target::user(user)),
                Details::new(),
            )
            .await?;
        }
    }
    let new_email = email.as_ref().map(|e| e.as_str().to_owned());
    if let Some(email) = email.filter(|e| e.as_str() != account.email) {
        let changed = user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email.as_str()))
            .col_expr(
                user::Column::EmailVerifiedAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user.0))
            .exec(&tx)
            .await;
        match changed {
            Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
                return Err(ProfileError::EmailTaken);
            }
            other => {
                other?;
            }
        }
        let display_name = name
            .clone()
            .map(|n| n.as_str().to_owned())
            .unwrap_or(account.name.clone());
        let person = PersonName::parse(&display_name).map_err(|e| anyhow::anyhow!("stored name: {e}"))?;
        send_verification(cx, &tx, user, &email, &person).await?;
        #[derive(Template)]
        #[template(path = "mail/email_changed.txt")]
        struct Changed<'a> {
            name: &'a str,
            new_address: &'a str,
        }
        let body = Changed {
            name: &display_name,
            new_address: email.as_str(),
        }
        .render()
        .map_err(anyhow::Error::from)?;
        mail::enqueue_to_stored(&tx, &account.email, "Your email address was changed", body).await?;
        audit::record(
            &tx,
            actor,
            Action::EmailChanged,
            Some(Target::user(user)),
            Details::new(),
        )
        .await?;
    }
    if name.is_some() || new_email.is_some() {
        super::search::reindex(
            &tx,
            user,
            new_email.as_deref().unwrap_or(&account.email),
            name.as_ref().map_or(account.name.as_str(), |n| n.as_str()),
        )
        .await?;
    }
    tx.commit().await?;
    cx.mailer.wake();
    Ok(())
}
