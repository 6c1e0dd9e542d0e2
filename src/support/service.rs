//! What support does for a customer: find them (masked), open their personal data with a
//! reason, end their sessions, send a new confirmation link. The object rules live here, not
//! in the HTTP layer: a grant unmasks one customer for its holder only; support may end the
//! sessions of customers and installers, not of other staff.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::grants::{self, Grant};
use crate::access::{Permission, Role, mask, object, policy};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::auth::cache::AuthCache;
use crate::auth::email_token::{self, Purpose};
use crate::auth::search::Needle;
use crate::auth::session::{self, EndReason};
use crate::auth::signup::{MAX_MAILS_PER_HOUR, SignupContext, send_verification};
use crate::auth::store::user;
use crate::auth::{EmailAddress, PersonName};
use crate::ids::UserId;

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error("not found")]
    NotFound,
    #[error("the search needs at least 3 characters")]
    QueryTooShort,
    #[error("the address is already confirmed")]
    AlreadyVerified,
    #[error("too many confirmation emails this hour")]
    RateLimited,
    #[error("too many customers open at once")]
    TooManyGrants,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for SupportError {
    fn from(e: DbErr) -> Self {
        SupportError::Internal(e.into())
    }
}

/// A customer in a search result: masked, always.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CustomerSummary {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

fn summary(u: &user::Model) -> CustomerSummary {
    CustomerSummary {
        id: u.id.to_string(),
        name: mask::name(&u.name),
        email: mask::email(&u.email),
        email_verified: u.email_verified_at.is_some(),
        created_at: u.created_at,
    }
}

/// Customers whose address or name has words starting with each word of `query` (case and
/// accents aside), oldest account first, `limit` at most, after the cursor. Staff type what
/// the customer told them ("jane.doe@ex", "Doe Jane", "doe"); they see masked rows. The
/// words are matched through an index (`crate::auth::search`), so the cost follows the
/// matches, not the number of customers.
pub async fn search(
    db: &DatabaseConnection,
    query: &str,
    after: Option<UserId>,
    limit: u64,
) -> Result<(Vec<CustomerSummary>, Option<String>), SupportError> {
    if query.trim().chars().count() < 3 {
        return Err(SupportError::QueryTooShort);
    }
    // Punctuation and single letters narrow nothing: "%%%" or "j e" names nobody.
    let Some(needle) = Needle::parse(query) else {
        return Ok((Vec::new(), None));
    };
    let mut q = user::Entity::find().filter(user::Column::Role.eq(Role::Customer.as_str()));
    for words in needle.subqueries() {
        q = q.filter(user::Column::Id.in_subquery(words));
    }
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after.0));
    }
    let rows = q.order_by_asc(user::Column::Id).limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    // The cursor is the last row read, even when the full-word check below drops it.
    let next = more.then(|| rows.last().map(|u| u.id.to_string())).flatten();
    let found = rows
        .iter()
        .filter(|u| needle.matches(&u.email, &u.name))
        .map(summary)
        .collect();
    Ok((found, next))
}

/// A customer's account as staff see it: masked unless the viewer holds a live grant.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// True when the personal fields above are masked (no live grant).
    pub masked: bool,
    pub email_verified: bool,
    pub mfa_enabled: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub live_sessions: u64,
    /// The viewer's live grant on this customer, if any.
    pub grant: Option<Grant>,
}

/// Loads `customer` for `staff`. With a live grant the personal fields are shown and the
/// view is counted and audited; without one they are masked.
pub async fn view(
    db: &DatabaseConnection,
    actor: &Actor,
    staff: (UserId, Role),
    customer: UserId,
) -> Result<CustomerView, SupportError> {
    let account = load_customer(db, actor, customer, Permission::ViewCustomers).await?;
    let now = Utc::now();
    let grant = if policy::allows(staff.1, Permission::ReadCustomerPii) {
        grants::live(db, staff.0, customer, now).await?
    } else {
        None
    };
    let sessions = session::list_live(db, customer, None, 100, now).await?.len() as u64;
    let masked = grant.is_none();
    if let Some(grant) = &grant {
        grants::record_view(db, actor, grant).await?;
    }
    Ok(CustomerView {
        id: account.id.to_string(),
        name: if masked {
            mask::name(&account.name)
        } else {
            account.name.clone()
        },
        email: if masked {
            mask::email(&account.email)
        } else {
            account.email.clone()
        },
        phone: crate::crypto::seal::open_opt(
            db,
            crate::crypto::seal::Field::UserPhone,
            account.phone.as_deref(),
        )
        .await?
        .map(|p| if masked { mask::phone(&p) } else { p }),
        masked,
        email_verified: account.email_verified_at.is_some(),
        mfa_enabled: account.mfa_enabled_at.is_some(),
        disabled: account.disabled_at.is_some(),
        created_at: account.created_at,
        last_login_at: account.last_login_at,
        live_sessions: sessions,
        grant,
    })
}

/// The customer account `id`, or 404 with an audited refusal when it is not a customer.
async fn load_customer(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
    permission: Permission,
) -> Result<user::Model, SupportError> {
    match user::Entity::find_by_id(id.0).one(db).await? {
        Some(u) if u.role == Role::Customer.as_str() => Ok(u),
        _ => {
            object::refused(db, actor, Target::user(id), permission).await;
            Err(SupportError::NotFound)
        }
    }
}

/// Opens `staff`'s grant on `customer` (see `access::grants`).
pub async fn open_grant(
    db: &DatabaseConnection,
    actor: &Actor,
    staff: (UserId, Role),
    customer: UserId,
    reason: grants::Reason,
    ttl: TimeDelta,
) -> Result<Grant, SupportError> {
    grants::open(db, actor, staff, customer, reason, ttl)
        .await
        .map_err(|e| match e {
            grants::GrantError::NotFound => SupportError::NotFound,
            grants::GrantError::TooMany => SupportError::TooManyGrants,
            grants::GrantError::Internal(e) => SupportError::Internal(e),
        })
}

/// Ends every session of `target`. Support may do this for customers and installers; ending
/// another staff member's sessions takes the staff-management permission.
pub async fn end_sessions(
    db: &DatabaseConnection,
    cache: &AuthCache,
    actor: &Actor,
    caller_role: Role,
    target: UserId,
) -> Result<u64, SupportError> {
    let account = user::Entity::find_by_id(target.0).one(db).await?;
    let target_role: Option<Role> = account.as_ref().and_then(|a| a.role.parse().ok());
    let reachable = match target_role {
        Some(Role::Customer | Role::Installer) => true,
        Some(_) => policy::allows(caller_role, Permission::ManageStaff),
        None => false,
    };
    if !reachable {
        object::refused(db, actor, Target::user(target), Permission::AssistCustomers).await;
        return Err(SupportError::NotFound);
    }
    let tx = crate::db::begin(db).await?;
    let ended = session::end_all_except(&tx, target, None, EndReason::EndedByStaff, Utc::now()).await?;
    let details = Details::new().with("sessions", ended as i64);
    audit::record(
        &tx,
        actor,
        Action::SessionsRevoked,
        Some(Target::user(target)),
        details,
    )
    .await?;
    tx.commit().await?;
    // This replica forgets the ended sessions at once; others within the cache lifetime.
    cache.clear();
    Ok(ended)
}

/// Sends `customer` a new confirmation link (within the hourly cap the customer has too).
pub async fn resend_verification(
    cx: &SignupContext<'_>,
    actor: &Actor,
    customer: UserId,
) -> Result<(), SupportError> {
    let account = load_customer(cx.db, actor, customer, Permission::AssistCustomers).await?;
    if account.email_verified_at.is_some() {
        return Err(SupportError::AlreadyVerified);
    }
    let tx = crate::db::begin(cx.db).await?;
    let sent = email_token::issued_since(
        &tx,
        customer,
        Purpose::VerifyEmail,
        Utc::now() - TimeDelta::hours(1),
    )
    .await?;
    if sent >= MAX_MAILS_PER_HOUR {
        return Err(SupportError::RateLimited);
    }
    let email = EmailAddress::parse(&account.email).map_err(|e| anyhow::anyhow!("stored email: {e}"))?;
    let name = PersonName::parse(&account.name).map_err(|e| anyhow::anyhow!("stored name: {e}"))?;
    send_verification(cx, &tx, customer, &email, &name).await?;
    audit::record(
        &tx,
        actor,
        Action::VerificationResent,
        Some(Target::user(customer)),
        Details::new(),
    )
    .await?;
    tx.commit().await?;
    cx.mailer.wake();
    Ok(())
}

/// A customer's home as support sees it: its name, and its street only with a live grant.
#[derive(Clone, Debug)]
pub struct HomeLine {
    pub label: String,
    pub address: String,
}

/// A customer's order as support sees it.
#[derive(Clone, Debug)]
pub struct OrderLine {
    /// `O-3F9A-12C4`.
    pub reference: String,
    pub home: String,
    pub state: &'static str,
    pub price: String,
    pub ordered: DateTime<Utc>,
    /// The job page, for staff who read jobs.
    pub job_id: String,
}

/// The customer's homes and orders, newest orders first. Streets are masked unless
/// `unmasked` (the viewer holds a live grant, already counted by `view`).
pub async fn homes_and_orders(
    db: &DatabaseConnection,
    customer: UserId,
    unmasked: bool,
) -> Result<(Vec<HomeLine>, Vec<OrderLine>), SupportError> {
    let homes = crate::sites::service::list_own(db, customer, None, crate::http::PAGE_MAX)
        .await
        .map_err(|e| SupportError::Internal(anyhow::Error::from(e)))?;
    let orders = crate::orders::service::list_own(db, customer, None, crate::http::PAGE_MAX)
        .await
        .map_err(|e| SupportError::Internal(anyhow::Error::from(e)))?;
    let label_of = |site| {
        homes
            .iter()
            .find(|h| h.id == site)
            .map_or_else(|| "A home".to_owned(), |h| h.label.clone())
    };
    let order_lines = orders
        .into_iter()
        .map(|o| OrderLine {
            reference: o.id.reference("O"),
            home: label_of(o.site_id),
            state: o.state.label(),
            price: o.price_cents.whole(),
            ordered: o.created_at,
            job_id: o.job_id.to_string(),
        })
        .collect();
    let home_lines = homes
        .into_iter()
        .map(|h| HomeLine {
            address: if unmasked {
                h.address
            } else {
                mask::street(&h.address)
            },
            label: h.label,
        })
        .collect();
    Ok((home_lines, order_lines))
}
