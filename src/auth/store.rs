//! Database access for accounts.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::access::Role;
use crate::ids::UserId;

use super::model::{EmailAddress, PersonName};

pub(crate) use super::entity::user;

pub(super) struct UserRow<'a> {
    pub id: UserId,
    pub email: &'a EmailAddress,
    pub name: &'a PersonName,
    pub role: Role,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub(super) async fn insert_user<C: crate::db::Conn>(conn: &C, row: UserRow<'_>) -> Result<(), DbErr> {
    let model = user::ActiveModel {
        id: Set(row.id.0),
        email: Set(row.email.as_str().to_owned()),
        name: Set(row.name.as_str().to_owned()),
        role: Set(row.role.as_str().to_owned()),
        password_hash: Set(row.password_hash),
        email_verified_at: Set(row.email_verified_at),
        disabled_at: Set(None),
        created_at: Set(row.now),
        updated_at: Set(row.now),
        mfa_enabled_at: Set(None),
        phone: Set(None),
        last_login_at: Set(None),
    };
    user::Entity::insert(model).exec_without_returning(conn).await?;
    super::search::reindex(conn, row.id, row.email.as_str(), row.name.as_str()).await?;
    Ok(())
}

pub(super) async fn email_exists<C: crate::db::Conn>(conn: &C, email: &EmailAddress) -> Result<bool, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?
        .is_some())
}
