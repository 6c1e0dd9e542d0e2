//! Sessions and tokens (S-AU-5, S-AU-6). Tokens are 256 random bits; the database keeps only
//! their SHA-256, so a copy of the database yields no usable token, and revocation is a row
//! update that the next request sees.
//!
//! An API session holds one short-lived access token and a chain of single-use refresh
//! tokens (its family). Presenting a refresh token that was already spent means two parties
//! hold it: the whole family is revoked and the owner is told.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::net::IpAddr;

use crate::crypto::{random_token, token_hash};
use crate::ids::{SessionId, UserId};

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub kind: String,
        pub token_hash: String,
        pub token_expires_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
        pub last_seen_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub authenticated_at: ChronoDateTimeUtc,
        pub revoked_at: Option<ChronoDateTimeUtc>,
        pub revoked_reason: Option<String>,
        pub device_name: Option<String>,
        pub ip: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod refresh_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub session_id: Uuid,
        pub token_hash: String,
        pub created_at: ChronoDateTimeUtc,
        pub used_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

/// Lifetimes of API sessions; production may only shorten them.
#[derive(Clone, Copy, Debug)]
pub struct TokenLifetimes {
    /// S-AU-5: at most 10 minutes.
    pub access: TimeDelta,
    /// S-AU-5: refresh tokens expire 30 days after sign-in, however often they are used.
    pub refresh: TimeDelta,
}

/// What the client receives; shown once, never stored.
pub struct IssuedTokens {
    pub session_id: SessionId,
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
}

/// Why a session is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    EndedByUser,
    RefreshReuse,
    PasswordChanged,
    /// Support or an admin ended them (a stolen device, a disabled account).
    EndedByStaff,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::EndedByUser => "ended_by_user",
            EndReason::RefreshReuse => "refresh_reuse",
            EndReason::PasswordChanged => "password_changed",
            EndReason::EndedByStaff => "ended_by_staff",
        }
    }
}

pub struct NewSession<'a> {
    pub user: UserId,
    pub device_name: Option<&'a str>,
    pub ip: IpAddr,
}

/// Starts an API session: an access token and the first refresh token of its family.
pub async fn start_api_session<C: crate::db::Conn>(
    conn: &C,
    new: NewSession<'_>,
    lifetimes: TokenLifetimes,
    now: DateTime<Utc>,
) -> Result<IssuedTokens, DbErr> {
    let access_token = random_token();
    let id = insert_session(
        conn,
        &new,
        "api",
        &access_token,
        now + lifetimes.access,
        now + lifetimes.refresh,
        now,
    )
    .await?;
    let refresh_token = add_refresh_token(conn, id, now).await?;
    Ok(IssuedTokens {
        session_id: id,
        access_token,
        expires_in: lifetimes.access.num_seconds(),
        refresh_token,
    })
}

/// One row per sign-in, holding the hash of its current token.
async fn insert_session<C: crate::db::Conn>(
    conn: &C,
    new: &NewSession<'_>,
    kind: &'static str,
    token: &str,
    token_expires_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SessionId, DbErr> {
    let id = SessionId::new();
    let row = entity::ActiveModel {
        id: Set(id.0),
        user_id: Set(new.user.0),
        kind: Set(kind.into()),
        token_hash: Set(token_hash(token)),
        token_expires_at: Set(token_expires_at),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        authenticated_at: Set(now),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        device_name: Set(new.device_name.map(|d| d.chars().take(100).collect())),
        ip: Set(Some(new.ip.to_string())),
    };
    Entity::insert(row).exec_without_returning(conn).await?;
    Ok(id)
}

async fn add_refresh_token<C: crate::db::Conn>(
    conn: &C,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let token = random_token();
    let row = refresh_entity::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        session_id: Set(session.0),
        token_hash: Set(token_hash(&token)),
        created_at: Set(now),
        used_at: Set(None),
    };
    refresh_entity::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(token)
}

/// Lifetimes of browser sessions (S-AU-5); production may only shorten them.
#[derive(Clone, Copy, Debug)]
pub struct BrowserLifetimes {
    /// Absolute timeout (12 hours). Idle timeouts depend on the role and are applied when
    /// the session is used (`auth::browser`).
    pub absolute: TimeDelta,
}

/// Starts a browser session; the token goes into the session cookie only.
pub async fn start_browser_session<C: crate::db::Conn>(
    conn: &C,
    new: NewSession<'_>,
    lifetimes: BrowserLifetimes,
    now: DateTime<Utc>,
) -> Result<(SessionId, String), DbErr> {
    let token = random_token();
    let end = now + lifetimes.absolute;
    let id = insert_session(conn, &new, "browser", &token, end, end, now).await?;
    Ok((id, token))
}

/// The browser session a cookie token belongs to, if it is not revoked and within its
/// absolute lifetime, with the time it was last used. The caller applies the idle timeout
/// of the user's role and then calls `touch`.
pub async fn find_by_cookie_token<C: crate::db::Conn>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(LiveSession, DateTime<Utc>)>, DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = Entity::find()
        .filter(Column::TokenHash.eq(token_hash(token)))
        .filter(Column::Kind.eq("browser"))
        .one(conn)
        .await?;
    Ok(row
        .filter(|r| r.revoked_at.is_none() && r.expires_at > now)
        .map(|r| {
            let live = LiveSession {
                id: SessionId(r.id),
                user: UserId(r.user_id),
                authenticated_at: r.authenticated_at,
                token_expires_at: r.token_expires_at,
                expires_at: r.expires_at,
            };
            (live, r.last_seen_at)
        }))
}

/// Gives a browser session a new cookie token (after re-authentication, S-AU-5), so a token
/// seen before the re-authentication is worthless after it.
pub async fn rotate_cookie_token<C: crate::db::Conn>(conn: &C, session: SessionId) -> Result<String, DbErr> {
    let token = random_token();
    Entity::update_many()
        .col_expr(Column::TokenHash, Expr::value(token_hash(&token)))
        .filter(Column::Id.eq(session.0))
        .filter(Column::Kind.eq("browser"))
        .exec(conn)
        .await?;
    Ok(token)
}

/// Records use of a session, at most once per `resolution`: coarse enough to spare writes,
/// fine enough for idle timeouts to hold. Answers the last-seen time the idle clock now runs
/// from.
pub async fn touch<C: crate::db::Conn>(
    conn: &C,
    session: SessionId,
    last_seen_at: DateTime<Utc>,
    resolution: TimeDelta,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DbErr> {
    if now - last_seen_at > LAST_SEEN_RESOLUTION.min(resolution) {
        Entity::update_many()
            .col_expr(Column::LastSeenAt, Expr::value(now))
            .filter(Column::Id.eq(session.0))
            .exec(conn)
            .await?;
        return Ok(now);
    }
    // The stored time stands: the idle clock runs from it.
    Ok(last_seen_at)
}

/// A live session found from its access token.
#[derive(Clone, Debug)]
pub struct LiveSession {
    pub id: SessionId,
    pub user: UserId,
    pub authenticated_at: DateTime<Utc>,
    pub token_expires_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Seen-at updates are coalesced: one write a minute per session is plenty for "last seen".
const LAST_SEEN_RESOLUTION: TimeDelta = TimeDelta::seconds(60);

/// The session an access token belongs to, if it is live.
pub async fn find_by_access_token<C: crate::db::Conn>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveSession>, DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(row) = Entity::find()
        .filter(Column::TokenHash.eq(token_hash(token)))
        .filter(Column::Kind.eq("api"))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if row.revoked_at.is_some() || row.token_expires_at <= now || row.expires_at <= now {
        return Ok(None);
    }
    if now - row.last_seen_at > LAST_SEEN_RESOLUTION {
        Entity::update_many()
            .col_expr(Column::LastSeenAt, Expr::value(now))
            .filter(Column::Id.eq(row.id))
            .exec(conn)
            .await?;
    }
    Ok(Some(LiveSession {
        id: SessionId(row.id),
        user: UserId(row.user_id),
        authenticated_at: row.authenticated_at,
        token_expires_at: row.token_expires_at,
        expires_at: row.expires_at,
    }))
}

pub enum RefreshOutcome {
    Rotated(IssuedTokens, UserId),
    /// The token was unknown, expired, or its session is over.
    Invalid,
    /// The token was spent before: its session (family) is now revoked.
    Reused {
        user: UserId,
        session: SessionId,
    },
}

/// Spends a refresh token for a new access token and a new refresh token.
pub async fn refresh<C: crate::db::Conn>(
    conn: &C,
    token: &str,
    lifetimes: TokenLifetimes,
    now: DateTime<Utc>,
) -> Result<RefreshOutcome, DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(RefreshOutcome::Invalid);
    }
    let Some(refresh) = refresh_entity::Entity::find()
        .filter(refresh_entity::Column::TokenHash.eq(token_hash(token)))
        .one(conn)
        .await?
    else {
        return Ok(RefreshOutcome::Invalid);
    };
    let Some(session) = Entity::find_by_id(refresh.session_id).one(conn).await? else {
        return Ok(RefreshOutcome::Invalid);
    };
    let (session_id, user) = (SessionId(session.id), UserId(session.user_id));
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Ok(RefreshOutcome::Invalid);
    }
    // Spend it with a conditional update: of two concurrent uses, exactly one wins and the
    // other is a reuse.
    let spent = if refresh.used_at.is_some() {
        0
    } else {
        refresh_entity::Entity::update_many()
            .col_expr(refresh_entity::Column::UsedAt, Expr::value(now))
            .filter(refresh_entity::Column::Id.eq(refresh.id))
            .filter(refresh_entity::Column::UsedAt.is_null())
            .exec(conn)
            .await?
            .rows_affected
    };
    if spent != 1 {
        end(conn, session_id, EndReason::RefreshReuse, now).await?;
        return Ok(RefreshOutcome::Reused {
            user,
            session: session_id,
        });
    }
    let access_token = random_token();
    Entity::update_many()
        .col_expr(Column::TokenHash, Expr::value(token_hash(&access_token)))
        .col_expr(Column::TokenExpiresAt, Expr::value(now + lifetimes.access))
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(session.id))
        .exec(conn)
        .await?;
    let refresh_token = add_refresh_token(conn, session_id, now).await?;
    Ok(RefreshOutcome::Rotated(
        IssuedTokens {
            session_id,
            access_token,
            expires_in: lifetimes.access.num_seconds(),
            refresh_token,
        },
        user,
    ))
}

/// Records a fresh authentication (sign-in or re-authentication) on the session.
pub async fn mark_authenticated<C: crate::db::Conn>(
    conn: &C,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::AuthenticatedAt, Expr::value(now))
        .filter(Column::Id.eq(session.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Is the session still live (not revoked, not past its absolute end)? For long-lived
/// responses (event streams) that must stop when the session does.
pub async fn is_live<C: crate::db::Conn>(
    conn: &C,
    session: SessionId,
    now: DateTime<Utc>,
    idle: IdleRule,
) -> Result<bool, DbErr> {
    let Some(row) = Entity::find_by_id(session.0)
        .one(conn)
        .await?
        .filter(|r| r.revoked_at.is_none() && r.expires_at > now)
    else {
        return Ok(false);
    };
    if row.kind != "browser" {
        return Ok(true);
    }
    // A browser session also ends after its role's idle time without a request.
    let staff = super::entity::user::Entity::find_by_id(row.user_id)
        .one(conn)
        .await?
        .and_then(|u| u.role.parse::<crate::values::Role>().ok())
        .is_none_or(crate::values::Role::is_staff);
    let limit = if staff { idle.staff } else { idle.customer };
    Ok(now - row.last_seen_at <= limit)
}

/// How long a browser session may go without a request, by kind of account.
#[derive(Clone, Copy, Debug)]
pub struct IdleRule {
    pub customer: TimeDelta,
    pub staff: TimeDelta,
}

impl IdleRule {
    pub fn of(settings: &crate::config::Settings) -> IdleRule {
        let periods = settings.sessions();
        IdleRule {
            customer: periods.idle,
            staff: periods.staff_idle,
        }
    }
}

/// Ends one session at once; its access and refresh tokens stop working.
pub async fn end<C: crate::db::Conn>(
    conn: &C,
    session: SessionId,
    reason: EndReason,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::RevokedReason, Expr::value(reason.as_str()))
        .filter(Column::Id.eq(session.0))
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    // The session's devices stop receiving notifications with it.
    crate::push::forget_sessions(conn, &[session]).await?;
    Ok(result.rows_affected == 1)
}

/// Ends every live session of `user` except `keep`; returns how many ended.
pub async fn end_all_except<C: crate::db::Conn>(
    conn: &C,
    user: UserId,
    keep: Option<SessionId>,
    reason: EndReason,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::RevokedReason, Expr::value(reason.as_str()))
        .filter(Column::UserId.eq(user.0))
        .filter(Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(Column::Id.ne(keep.0));
    }
    let ended = update.exec(conn).await?.rows_affected;
    crate::push::forget_user_sessions_except(conn, user, keep).await?;
    Ok(ended)
}

/// A session as its owner sees it in their list.
#[derive(Clone, Debug)]
pub struct SessionSummary {
    pub id: SessionId,
    pub device_name: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Live sessions of `user`, newest first, `limit` at most, starting after `before`.
pub async fn list_live<C: crate::db::Conn>(
    conn: &C,
    user: UserId,
    before: Option<SessionId>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<SessionSummary>, DbErr> {
    let mut query = Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now));
    if let Some(before) = before {
        // Ids are UUIDv7: ordered by creation time.
        query = query.filter(Column::Id.lt(before.0));
    }
    let rows = query.order_by_desc(Column::Id).limit(limit).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionSummary {
            id: SessionId(r.id),
            device_name: r.device_name,
            ip: r.ip,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
        })
        .collect())
}

/// Ends `session` if it belongs to `user`; false when it does not exist for them.
pub async fn end_own(
    conn: &impl ConnectionTrait,
    user: UserId,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(
            Column::RevokedReason,
            Expr::value(EndReason::EndedByUser.as_str()),
        )
        .filter(Column::Id.eq(session.0))
        .filter(Column::UserId.eq(user.0))
        .filter(Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    if result.rows_affected == 1 {
        crate::push::forget_sessions(conn, &[session]).await?;
    }
    Ok(result.rows_affected == 1)
}
