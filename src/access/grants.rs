//! Reasoned access to personal data (S-AC-5, S-AC-6). A support agent or admin who needs a
//! customer's address, phone or email states why; that opens a grant for that one customer,
//! for a limited time. Opening, every unmasked view and ending are audited, and the customer
//! sees each grant (who, role, when, why, how often) on their account.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::Role;
use crate::audit::{self, Action, Actor, Details, Target};
use crate::auth::store::user;
use crate::ids::{GrantId, UserId};

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub staff_id: Uuid,
        pub staff_role: String,
        pub customer_id: Uuid,
        pub reason: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub ended_at: Option<ChronoDateTimeUtc>,
        pub ended_by: Option<Uuid>,
        pub views: i32,
        pub last_viewed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

/// Why staff need the data: a ticket reference and what the customer asked for. Shown to the
/// customer word for word, so it is free text, bounded, and free of control characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Reason(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReasonProblem {
    #[error("give a reason of at least 8 characters, such as the ticket number and the request")]
    TooShort,
    #[error("keep the reason under 500 characters")]
    TooLong,
    #[error("the reason contains characters that are not allowed")]
    ForbiddenCharacters,
}

impl Reason {
    pub fn parse(raw: &str) -> Result<Self, ReasonProblem> {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() < 8 {
            return Err(ReasonProblem::TooShort);
        }
        if text.chars().count() > 500 {
            return Err(ReasonProblem::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(ReasonProblem::ForbiddenCharacters);
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reason(…)")
    }
}

/// A grant as the staff member holding it sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Grant {
    #[schema(value_type = String)]
    pub id: GrantId,
    #[schema(value_type = String)]
    pub customer_id: UserId,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub views: i32,
}

impl Grant {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }
}

impl From<entity::Model> for Grant {
    fn from(m: entity::Model) -> Self {
        Self {
            id: GrantId(m.id),
            customer_id: UserId(m.customer_id),
            reason: m.reason,
            created_at: m.created_at,
            expires_at: m.expires_at,
            ended_at: m.ended_at,
            views: m.views,
        }
    }
}

/// One line of "who looked at my data", as the customer sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DataAccess {
    pub staff_name: String,
    pub role: Role,
    pub reason: String,
    /// When the access was opened.
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// How many times the data was shown under this grant, and the last time.
    pub views: i32,
    pub last_viewed_at: Option<DateTime<Utc>>,
}

/// Live grants one staff member may hold at once. Support works ticket by ticket; a burst
/// of openings is what an insider harvesting data looks like, so it is refused, not queued.
pub const MAX_LIVE_GRANTS: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("not found")]
    NotFound,
    #[error("too many customers open at once; close some first")]
    TooMany,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for GrantError {
    fn from(e: DbErr) -> Self {
        GrantError::Internal(e.into())
    }
}

/// Is `id` a customer account (the only accounts grants open)?
pub(crate) async fn customer_exists<C: crate::db::Conn>(conn: &C, id: UserId) -> Result<bool, DbErr> {
    Ok(user::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .is_some_and(|u| u.role == Role::Customer.as_str()))
}

/// Opens a grant for `staff` on `customer`'s personal data, audited in the same transaction.
pub async fn open(
    db: &DatabaseConnection,
    actor: &Actor,
    staff: (UserId, Role),
    customer: UserId,
    reason: Reason,
    ttl: TimeDelta,
) -> Result<Grant, GrantError> {
    let tx = crate::db::begin(db).await?;
    if !customer_exists(&tx, customer).await? {
        drop(tx);
        super::object::refused(
            db,
            actor,
            Target::user(customer),
            super::Permission::ReadCustomerPii,
        )
        .await;
        return Err(GrantError::NotFound);
    }
    let now = Utc::now();
    let open_now = Entity::find()
        .filter(Column::StaffId.eq(staff.0.0))
        .filter(Column::EndedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .count(&tx)
        .await?;
    if open_now >= MAX_LIVE_GRANTS {
        return Err(GrantError::TooMany);
    }
    let id = GrantId::new().0;
    let row = entity::ActiveModel {
        id: Set(id),
        staff_id: Set(staff.0.0),
        staff_role: Set(staff.1.as_str().to_owned()),
        customer_id: Set(customer.0),
        reason: Set(reason.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        ended_at: Set(None),
        ended_by: Set(None),
        views: Set(0),
        last_viewed_at: Set(None),
    };
    Entity::insert(row).exec_without_returning(&tx).await?;
    // The reason is free text and may name the customer: it stays in the grant row, which
    // the customer sees, and out of the audit trail, which engineers read.
    let details = Details::new()
        .with("grant", id)
        .with("minutes", ttl.num_minutes());
    audit::record(
        &tx,
        actor,
        Action::GrantOpened,
        Some(Target::user(customer)),
        details,
    )
    .await?;
    let grant = Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(GrantError::NotFound)?;
    tx.commit().await?;
    tracing::info!(grant = %id, customer = %customer, "personal data opened with a reason");
    Ok(grant.into())
}

/// The newest live grant `staff` holds on `customer`, if any.
pub async fn live<C: crate::db::Conn>(
    conn: &C,
    staff: UserId,
    customer: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Grant>, DbErr> {
    Ok(Entity::find()
        .filter(Column::StaffId.eq(staff.0))
        .filter(Column::CustomerId.eq(customer.0))
        .filter(Column::EndedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .order_by_desc(Column::ExpiresAt)
        .one(conn)
        .await?
        .map(Grant::from))
}

/// Counts one unmasked view under `grant`, with its audit row.
pub async fn record_view(db: &DatabaseConnection, actor: &Actor, grant: &Grant) -> Result<(), DbErr> {
    let tx = crate::db::begin(db).await?;
    Entity::update_many()
        .col_expr(Column::Views, Expr::col(Column::Views).add(1))
        .col_expr(Column::LastViewedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(grant.id.0))
        .exec(&tx)
        .await?;
    let details = Details::new().with("grant", grant.id.0);
    audit::record(
        &tx,
        actor,
        Action::CustomerPiiViewed,
        Some(Target::user(grant.customer_id)),
        details,
    )
    .await?;
    tx.commit().await
}

/// Ends a grant early and returns whose data it opened. Its holder may end it; so may anyone
/// who manages staff.
pub async fn end(
    db: &DatabaseConnection,
    actor: &Actor,
    by: UserId,
    may_end_any: bool,
    id: GrantId,
) -> Result<UserId, GrantError> {
    let tx = crate::db::begin(db).await?;
    let Some(grant) = Entity::find_by_id(id.0).one(&tx).await? else {
        return Err(GrantError::NotFound);
    };
    if grant.staff_id != by.0 && !may_end_any {
        drop(tx);
        super::object::refused(db, actor, grant_target(id), super::Permission::ReadCustomerPii).await;
        return Err(GrantError::NotFound);
    }
    let now = Utc::now();
    if grant.ended_at.is_some() || grant.expires_at <= now {
        // Already over: nothing to change, and ending it again is not an error.
        return Ok(UserId(grant.customer_id));
    }
    Entity::update_many()
        .col_expr(Column::EndedAt, Expr::value(now))
        .col_expr(Column::EndedBy, Expr::value(by.0))
        .filter(Column::Id.eq(id.0))
        .filter(Column::EndedAt.is_null())
        .exec(&tx)
        .await?;
    let details = Details::new().with("grant", id.0);
    audit::record(
        &tx,
        actor,
        Action::GrantEnded,
        Some(Target::user(UserId(grant.customer_id))),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(UserId(grant.customer_id))
}

/// Ends every live grant `staff` holds (their account was disabled, or their new role does not
/// read personal data). Returns how many ended.
pub async fn end_all_for_staff<C: crate::db::Conn>(
    conn: &C,
    staff: UserId,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ended = Entity::update_many()
        .col_expr(Column::EndedAt, Expr::value(now))
        .col_expr(Column::EndedBy, Expr::value(by.0))
        .filter(Column::StaffId.eq(staff.0))
        .filter(Column::EndedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(ended.rows_affected)
}

pub fn grant_target(id: GrantId) -> Target {
    Target {
        kind: "grant",
        id: id.to_string(),
    }
}

/// Every grant ever opened on `customer`'s data, newest first, with the staff member's name.
pub async fn for_customer<C: crate::db::Conn>(conn: &C, customer: UserId) -> Result<Vec<DataAccess>, DbErr> {
    let grants = Entity::find()
        .filter(Column::CustomerId.eq(customer.0))
        .order_by_desc(Column::CreatedAt)
        .limit(500)
        .all(conn)
        .await?;
    let staff_ids: Vec<uuid::Uuid> = grants.iter().map(|g| g.staff_id).collect();
    let names: std::collections::HashMap<uuid::Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(staff_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(grants
        .into_iter()
        .map(|g| DataAccess {
            staff_name: names
                .get(&g.staff_id)
                .cloned()
                .unwrap_or_else(|| "Former staff member".into()),
            role: g.staff_role.parse().unwrap_or(Role::Support),
            reason: g.reason,
            at: g.created_at,
            expires_at: g.expires_at,
            ended_at: g.ended_at,
            views: g.views,
            last_viewed_at: g.last_viewed_at,
        })
        .collect())
}

/// Live grants held by `staff`, newest first (their "open customers" list).
pub async fn live_for_staff<C: crate::db::Conn>(
    conn: &C,
    staff: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<Grant>, DbErr> {
    Ok(Entity::find()
        .filter(Column::StaffId.eq(staff.0))
        .filter(Column::EndedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .order_by_desc(Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Grant::from)
        .collect())
}

/// How many live grants each staff member holds (for the access review).
pub async fn live_counts<C: crate::db::Conn>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<uuid::Uuid, u64>, DbErr> {
    let mut counts = std::collections::HashMap::new();
    for g in Entity::find()
        .filter(Column::EndedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .all(conn)
        .await?
    {
        *counts.entry(g.staff_id).or_insert(0) += 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_required_and_bounded() {
        assert_eq!(Reason::parse("  "), Err(ReasonProblem::TooShort));
        assert_eq!(Reason::parse("because"), Err(ReasonProblem::TooShort));
        assert_eq!(
            Reason::parse(" T-1042:  caller asks to move the survey ")
                .unwrap()
                .as_str(),
            "T-1042: caller asks to move the survey"
        );
        assert_eq!(Reason::parse(&"x".repeat(501)), Err(ReasonProblem::TooLong));
    }
}
