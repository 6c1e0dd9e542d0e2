//! Staff administration (S-AC-7): invite staff (they set their own password and enrol a second
//! factor through the emailed link), change their roles, disable and re-enable them. Every
//! change is audited in its transaction, and clears the token cache after commit so that it
//! acts on the user's very next request; disabling also ends every session at once.

use askama::Template;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{Permission, Role, grants, object, policy};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::auth::cache::AuthCache;
use crate::auth::email_token::{self, Purpose};
use crate::auth::service::{AccountError, NewAccount, insert_account};
use crate::auth::session::{self, EndReason};
use crate::auth::signup::link;
use crate::auth::store::user;
use crate::auth::{EmailAddress, PersonName};
use crate::ids::UserId;
use crate::mail::{self, Mailer, OutgoingMail};

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("not found")]
    NotFound,
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error("staff roles are installer, support, sales, engineer and admin")]
    NotAStaffRole,
    #[error("administrators cannot change their own role or disable themselves")]
    OwnAccount,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for StaffError {
    fn from(e: DbErr) -> Self {
        StaffError::Internal(e.into())
    }
}

/// A staff account as admins see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub mfa_enabled: bool,
    pub disabled: bool,
    /// Has not yet set a password from the invitation.
    pub invited: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl TryFrom<user::Model> for StaffMember {
    type Error = anyhow::Error;
    fn try_from(u: user::Model) -> anyhow::Result<Self> {
        Ok(Self {
            id: u.id.to_string(),
            role: u.role.parse().map_err(|e| anyhow::anyhow!("stored role: {e}"))?,
            mfa_enabled: u.mfa_enabled_at.is_some(),
            disabled: u.disabled_at.is_some(),
            invited: u.password_hash.is_none(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            name: u.name,
            email: u.email,
        })
    }
}

/// Every staff account (every role but customer), by name.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<StaffMember>, StaffError> {
    user::Entity::find()
        // The staff roles by name, not "not customer": an index on the role finds a dozen staff
        // among a hundred thousand customers without reading them.
        .filter(user::Column::Role.is_in(Role::ALL.iter().filter(|r| r.is_staff()).map(|r| r.as_str())))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|u| StaffMember::try_from(u).map_err(StaffError::Internal))
        .collect()
}

pub struct Invitation {
    pub email: EmailAddress,
    pub name: PersonName,
    pub role: Role,
}

pub struct InviteContext<'a> {
    pub db: &'a DatabaseConnection,
    pub mailer: &'a Mailer,
    pub public_url: &'a url::Url,
    pub ttl: TimeDelta,
}

#[derive(Template)]
#[template(path = "mail/staff_invite.txt")]
struct InviteMail<'a> {
    name: &'a str,
    role: &'a str,
    link: &'a str,
    hours: i64,
}

/// Creates a staff account without a password and emails its owner a link to set one.
pub async fn invite(
    cx: &InviteContext<'_>,
    actor: &Actor,
    new: Invitation,
) -> Result<StaffMember, StaffError> {
    if !new.role.is_staff() {
        return Err(StaffError::NotAStaffRole);
    }
    let id = UserId::new();
    let tx = crate::db::begin(cx.db).await?;
    let account = NewAccount {
        email: new.email.clone(),
        name: new.name.clone(),
        role: new.role,
        password_hash: None,
        email_verified: false,
    };
    insert_account(&tx, id, account, actor)
        .await
        .map_err(|e| match e {
            AccountError::EmailTaken => StaffError::EmailTaken,
            AccountError::Database(e) => StaffError::Internal(e.into()),
        })?;
    let token = email_token::issue(&tx, id, Purpose::StaffInvite, cx.ttl).await?;
    let url = link(cx.public_url, "/welcome", Some(("token", &token)));
    let body = InviteMail {
        name: new.name.as_str(),
        role: new.role.as_str(),
        link: &url,
        hours: cx.ttl.num_hours(),
    }
    .render()
    .map_err(anyhow::Error::from)?;
    mail::enqueue(
        &tx,
        OutgoingMail {
            to: new.email.clone(),
            subject: "You have a Sunbridge staff account".into(),
            body,
        },
    )
    .await?;
    let details = Details::new().with("role", new.role);
    audit::record(&tx, actor, Action::StaffInvited, Some(Target::user(id)), details).await?;
    let stored = user::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or(StaffError::NotFound)?;
    tx.commit().await?;
    cx.mailer.wake();
    Ok(StaffMember::try_from(stored)?)
}

/// What an admin may change about a staff account; nothing else can be set this way.
#[derive(Clone, Copy, Debug, Default)]
pub struct StaffChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Applies `change` to the staff account `target`. Customers are not reachable here (404):
/// nobody becomes staff except by invitation.
pub async fn change(
    db: &DatabaseConnection,
    cache: &AuthCache,
    actor: &Actor,
    admin: UserId,
    target: UserId,
    change: StaffChange,
) -> Result<StaffMember, StaffError> {
    let tx = crate::db::begin(db).await?;
    let account = user::Entity::find_by_id(target.0).one(&tx).await?;
    let Some(account) = account.filter(|a| a.role != Role::Customer.as_str()) else {
        drop(tx);
        object::refused(db, actor, Target::user(target), Permission::ManageStaff).await;
        return Err(StaffError::NotFound);
    };
    // An admin cannot lock themselves out, or be the last admin to drop their own rights.
    if target == admin {
        return Err(StaffError::OwnAccount);
    }
    let current: Role = account
        .role
        .parse()
        .map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    let now = Utc::now();
    if let Some(role) = change.role.filter(|r| *r != current) {
        if !role.is_staff() {
            return Err(StaffError::NotAStaffRole);
        }
        user::Entity::update_many()
            .col_expr(user::Column::Role, Expr::value(role.as_str()))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(target.0))
            .exec(&tx)
            .await?;
        // A role that does not read personal data keeps no open grant.
        let grants = if policy::allows(role, Permission::ReadCustomerPii) {
            0
        } else {
            grants::end_all_for_staff(&tx, target, admin, now).await?
        };
        let details = Details::new()
            .with("from", current)
            .with("to", role)
            .with("grants", grants as i64);
        audit::record(
            &tx,
            actor,
            Action::StaffRoleChanged,
            Some(Target::user(target)),
            details,
        )
        .await?;
    }
    match change.disabled {
        Some(true) if account.disabled_at.is_none() => {
            user::Entity::update_many()
                .col_expr(user::Column::DisabledAt, Expr::value(now))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(target.0))
                .exec(&tx)
                .await?;
            let ended = session::end_all_except(&tx, target, None, EndReason::EndedByStaff, now).await?;
            let grants = grants::end_all_for_staff(&tx, target, admin, now).await?;
            let details = Details::new()
                .with("sessions", ended as i64)
                .with("grants", grants as i64);
            audit::record(
                &tx,
                actor,
                Action::StaffDisabled,
                Some(Target::user(target)),
                details,
            )
            .await?;
        }
        Some(false) if account.disabled_at.is_some() => {
            user::Entity::update_many()
                .col_expr(
                    user::Column::DisabledAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(target.0))
                .exec(&tx)
                .await?;
            audit::record(
                &tx,
                actor,
                Action::StaffEnabled,
                Some(Target::user(target)),
                Details::new(),
            )
            .await?;
        }
        _ => {}
    }
    let stored = user::Entity::find_by_id(target.0)
        .one(&tx)
        .await?
        .ok_or(StaffError::NotFound)?;
    tx.commit().await?;
    // S-AC-7: the user's next request on this replica reloads the account.
    cache.clear();
    Ok(StaffMember::try_from(stored)?)
}
