//! Looking accounts up for other modules: names for lists, roles for membership checks, and
//! the address a notice goes to. Read-only; identity's own rules stay in its services.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::store::user;
use crate::access::Role;
use crate::ids::UserId;

/// Display names of the given accounts (missing ids are left out).
pub async fn names_of<C: crate::db::Conn>(
    conn: &C,
    ids: &[uuid::Uuid],
) -> Result<HashMap<uuid::Uuid, String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// The role of an active account (`None` when it does not exist or is disabled).
pub async fn role_of<C: crate::db::Conn>(conn: &C, id: UserId) -> Result<Option<Role>, DbErr> {
    Ok(user::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .and_then(|u| u.role.parse().ok()))
}

/// Where to send a notice: the account's address and name, if it is active.
pub struct Contact {
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub phone: Option<String>,
}

pub async fn contact_of<C: crate::db::Conn>(conn: &C, id: UserId) -> Result<Option<Contact>, DbErr> {
    let Some(u) = user::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .filter(|u| u.disabled_at.is_none())
    else {
        return Ok(None);
    };
    let phone =
        crate::crypto::seal::open_opt(conn, crate::crypto::seal::Field::UserPhone, u.phone.as_deref())
            .await
            .map_err(|e| DbErr::Custom(format!("{e:#}")))?;
    Ok(Some(Contact {
        email: u.email,
        name: u.name,
        email_verified: u.email_verified_at.is_some(),
        phone,
    }))
}

/// The active account with this address, if any (admin tools that take an email).
pub async fn id_by_email<C: crate::db::Conn>(conn: &C, email: &str) -> Result<Option<UserId>, DbErr> {
    let Ok(email) = super::EmailAddress::parse(email) else {
        return Ok(None);
    };
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .map(|u| UserId(u.id)))
}
