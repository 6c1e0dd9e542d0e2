//! Single-use tokens sent by email (S-AU-8, S-AU-9): 256 random bits, only their SHA-256 kept,
//! valid for a limited time, spent atomically so that two uses of one link cannot both win.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::crypto::{random_token, token_hash};
use crate::ids::UserId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// A new staff member sets their first password (then enrols a second factor).
    StaffInvite,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::StaffInvite => "staff_invite",
        }
    }
}

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub purpose: String,
        pub token_hash: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub used_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

/// Creates a token and returns it; the caller puts it in the email and nowhere else.
pub async fn issue<C: crate::db::Conn>(
    conn: &C,
    user: UserId,
    purpose: Purpose,
    ttl: TimeDelta,
) -> Result<String, DbErr> {
    let token = random_token();
    let now = Utc::now();
    let row = entity::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        user_id: Set(user.0),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
    };
    Entity::insert(row).exec_without_returning(conn).await?;
    Ok(token)
}

/// How many tokens of this purpose the account was sent since `since` (the hourly cap).
pub async fn issued_since<C: crate::db::Conn>(
    conn: &C,
    user: UserId,
    purpose: Purpose,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::CreatedAt.gte(since))
        .count(conn)
        .await
}

/// The account a token belongs to if it is valid, unexpired and unused, without spending it
/// (a reset form checks the new password before the token is spent).
pub async fn peek<C: crate::db::Conn>(
    conn: &C,
    token: &str,
    purpose: Purpose,
) -> Result<Option<UserId>, DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = Entity::find()
        .filter(Column::TokenHash.eq(token_hash(token)))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .one(conn)
        .await?;
    Ok(row
        .filter(|r| r.used_at.is_none() && r.expires_at > Utc::now())
        .map(|r| UserId(r.user_id)))
}

/// Spends a token: the account it belongs to if it was valid, unexpired and unused.
pub async fn consume<C: crate::db::Conn>(
    conn: &C,
    token: &str,
    purpose: Purpose,
) -> Result<Option<UserId>, DbErr> {
    // A token is 64 hex characters; anything else cannot match and is not looked up.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let now = Utc::now();
    let hash = token_hash(token);
    let Some(row) = Entity::find()
        .filter(Column::TokenHash.eq(hash.as_str()))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if row.used_at.is_some() || row.expires_at <= now {
        return Ok(None);
    }
    // The conditional update is the real check: of two concurrent uses, one updates the row.
    let spent = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok((spent.rows_affected == 1).then_some(UserId(row.user_id)))
}

/// Spends every open token of this purpose for the account (a reset also voids older links).
pub async fn revoke_all<C: crate::db::Conn>(conn: &C, user: UserId, purpose: Purpose) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(Utc::now()))
        .filter(Column::UserId.eq(user.0))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
