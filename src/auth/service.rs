//! Account rules, independent of HTTP.

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};

use crate::access::Role;
use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::UserId;

use super::model::{EmailAddress, PersonName};
use super::store::{self, UserRow};

pub struct NewAccount {
    pub email: EmailAddress,
    pub name: PersonName,
    pub role: Role,
    /// The argon2id PHC string, or `None` for an account that sets its password by link.
    pub password_hash: Option<String>,
    /// Accounts created by an operator have a known address.
    pub email_verified: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Creates an account and its audit row in one transaction.
pub async fn create_account(
    db: &DatabaseConnection,
    account: NewAccount,
    actor: &Actor,
) -> Result<UserId, AccountError> {
    let id = UserId::new();
    let tx = crate::db::begin(db).await?;
    insert_account(&tx, id, account, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts an account and its audit row in the caller's transaction.
pub async fn insert_account<C: crate::db::Conn>(
    tx: &C,
    id: UserId,
    account: NewAccount,
    actor: &Actor,
) -> Result<(), AccountError> {
    let now = Utc::now();
    if store::email_exists(tx, &account.email).await? {
        return Err(AccountError::EmailTaken);
    }
    let inserted = store::insert_user(
        tx,
        UserRow {
            id,
            email: &account.email,
            name: &account.name,
            role: account.role,
            password_hash: account.password_hash,
            email_verified_at: account.email_verified.then_some(now),
            now,
        },
    )
    .await;
    match inserted {
        // Two creations racing past the check above meet the unique index.
        Err(err) if crate::db::constraint(&err) == Some(crate::db::Constraint::Unique) => {
            return Err(AccountError::EmailTaken);
        }
        other => other?,
    }
    audit::record(
        tx,
        actor,
        Action::UserCreated,
        Some(Target::user(id)),
        Details::new().with("role", account.role),
    )
    .await?;
    Ok(())
}
