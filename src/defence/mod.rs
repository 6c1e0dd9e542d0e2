//! Automatic defence: an address whose requests keep tripping the authentication alarms (failed
//! sign-ins, second factors, re-authentications) or the authorization alarms (refused routes,
//! other people's objects) beyond a threshold within a window is blocked for a while. Blocks are
//! audited, listed to admins, and lifted by them.
//!
//! A block spares the innocent (S-DE-4): it refuses anonymous requests and new sign-ins from
//! the address with a bare 403, but a request with a valid session or token goes on, and so
//! does a sign-in from a device the account already knows (its owner is then throttled per
//! account). One attacker behind a company network, campus or carrier address must not lock
//! out everyone else there. An IPv6 client is blocked by its /64, which it owns whole. Lifting
//! a block forgets the failures before it.
//!
//! The counts come from the audit trail itself (its rows carry the client address), so what
//! triggers a block is exactly what an investigator later reads.

pub mod api;
pub mod rate;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Action, Actor, Details, Target};
use crate::http::{ApiError, PageError, RequestContext};
use crate::ids::UserId;
use crate::startup::AppState;

/// When an address is blocked, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// Authentication failures from one address within the window that block it.
    pub auth_failures: u64,
    /// Authorization failures from one address within the window that block it.
    pub authz_failures: u64,
    pub window: TimeDelta,
    pub block_for: TimeDelta,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            auth_failures: 50,
            authz_failures: 30,
            window: TimeDelta::minutes(10),
            block_for: TimeDelta::hours(1),
        }
    }
}

fn rules() -> Rules {
    RULES
        .get()
        .and_then(|r| r.read().ok().map(|r| *r))
        .unwrap_or_default()
}

static RULES: OnceLock<RwLock<Rules>> = OnceLock::new();

/// Bumped whenever this process makes or lifts a block, so its block lists reload at once
/// (other replicas see it within a second).
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn changed() {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    crate::shared::publish_soon(crate::shared::Topic::Blocks);
}

fn generation() -> u64 {
    GENERATION.load(std::sync::atomic::Ordering::SeqCst)
}

/// Sets the rules of this process (at start-up, from the settings).
pub fn configure(new: Rules) {
    let lock = RULES.get_or_init(|| RwLock::new(new));
    if let Ok(mut r) = lock.write() {
        *r = new;
    }
}

/// Throttled sign-ins count too: an address that keeps going after its 429s escalates to a
/// block of everything.
const AUTH_ALARMS: [Action; 4] = [
    Action::LoginFailed,
    Action::LoginThrottled,
    Action::MfaFailed,
    Action::ReauthFailed,
];
const AUTHZ_ALARMS: [Action; 2] = [Action::AccessDenied, Action::ObjectAccessDenied];

pub(crate) mod store {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ip_blocks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub ip: String,
        pub reason: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub lifted_at: Option<ChronoDateTimeUtc>,
        pub lifted_by: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn block_target(id: uuid::Uuid) -> Target {
    Target {
        kind: "ip_block",
        id: id.to_string(),
    }
}

/// Called for each audited alarm with a client address: blocks the address once it passes the
/// threshold. Runs in the transaction of the alarm's audit row.
pub(crate) async fn after_alarm<C: crate::db::Conn>(
    conn: &C,
    actor: &Actor,
    action: Action,
) -> Result<(), DbErr> {
    let Some(ip) = actor.client_ip.map(crate::http::client_ip::group) else {
        return Ok(());
    };
    let (alarms, threshold, reason): (&[Action], u64, &'static str) = if AUTH_ALARMS.contains(&action) {
        (&AUTH_ALARMS, rules().auth_failures, "authentication_failures")
    } else if AUTHZ_ALARMS.contains(&action) {
        (&AUTHZ_ALARMS, rules().authz_failures, "authorization_failures")
    } else {
        return Ok(());
    };
    let r = rules();
    let now = Utc::now();
    let ip_text = ip.to_string();
    // Failures before an admin lifted the last block of this address are forgiven with it.
    let last_lift = store::Entity::find()
        .filter(store::Column::Ip.eq(ip_text.as_str()))
        .filter(store::Column::LiftedAt.is_not_null())
        .order_by_desc(store::Column::LiftedAt)
        .one(conn)
        .await?
        .and_then(|b| b.lifted_at);
    let since = last_lift.map_or(now - r.window, |lifted| lifted.max(now - r.window));
    let seen = alarms_from(conn, ip, alarms, since).await?;
    if seen < threshold {
        return Ok(());
    }
    let already = store::Entity::find()
        .filter(store::Column::Ip.eq(ip_text.as_str()))
        .filter(store::Column::LiftedAt.is_null())
        .filter(store::Column::ExpiresAt.gt(now))
        .count(conn)
        .await?;
    if already > 0 {
        return Ok(());
    }
    let id = uuid::Uuid::now_v7();
    store::Entity::insert(store::ActiveModel {
        id: Set(id),
        ip: Set(ip_text),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + r.block_for),
        lifted_at: Set(None),
        lifted_by: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    tracing::warn!(reason, failures = seen, "client address blocked");
    changed();
    let system = Actor {
        client_ip: Some(ip),
        ..Actor::system()
    };
    let details = Details::new()
        .with("reason", reason)
        .with("failures", seen as i64)
        .with("minutes", r.block_for.num_minutes());
    Box::pin(audit::record(
        conn,
        &system,
        Action::IpBlocked,
        Some(block_target(id)),
        details,
    ))
    .await
}

/// Alarms recorded since `since` from the address group `group` (see `client_ip::group`).
async fn alarms_from<C: crate::db::Conn>(
    conn: &C,
    group: IpAddr,
    alarms: &[Action],
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use crate::audit::store_entity::{Column, Entity};
    let recent = Entity::find()
        .filter(Column::Action.is_in(alarms.iter().map(|a| a.as_str())))
        .filter(Column::OccurredAt.gte(since));
    match group {
        IpAddr::V4(_) => {
            recent
                .filter(Column::ClientIp.eq(group.to_string()))
                .count(conn)
                .await
        }
        IpAddr::V6(v6) => {
            // The trail keeps each exact address as text, and the text of two addresses of
            // one /64 need not share a prefix (zero runs are shortened), so the candidates
            // are narrowed by the first group of digits and grouped here. Bounded: past
            // `V6_SCAN` rows the threshold has long been passed.
            const V6_SCAN: u64 = 5_000;
            let first = format!("{:x}:%", v6.segments()[0]);
            let addresses: Vec<Option<String>> = recent
                .filter(Column::ClientIp.like(first))
                .select_only()
                .column(Column::ClientIp)
                .limit(V6_SCAN)
                .into_tuple()
                .all(conn)
                .await?;
            Ok(addresses
                .into_iter()
                .flatten()
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .filter(|a| crate::http::client_ip::group(*a) == group)
                .count() as u64)
        }
    }
}

/// A block as admins see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Block {
    pub id: String,
    pub ip: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub active: bool,
}

/// The newest blocks, active or not.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<Block>, DbErr> {
    let now = Utc::now();
    Ok(store::Entity::find()
        .order_by_desc(store::Column::CreatedAt)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .map(|b| Block {
            id: b.id.to_string(),
            active: b.lifted_at.is_none() && b.expires_at > now,
            ip: b.ip,
            reason: b.reason,
            created_at: b.created_at,
            expires_at: b.expires_at,
            lifted_at: b.lifted_at,
        })
        .collect())
}

/// Lifts a block early (an admin). `false` when there was no such active block.
pub async fn lift(
    db: &DatabaseConnection,
    actor: &Actor,
    admin: UserId,
    id: uuid::Uuid,
    blocks: &BlockList,
) -> Result<bool, DbErr> {
    let tx = crate::db::begin(db).await?;
    let lifted = store::Entity::update_many()
        .col_expr(store::Column::LiftedAt, Expr::value(Utc::now()))
        .col_expr(store::Column::LiftedBy, Expr::value(admin.0))
        .filter(store::Column::Id.eq(id))
        .filter(store::Column::LiftedAt.is_null())
        .exec(&tx)
        .await?;
    if lifted.rows_affected == 0 {
        return Ok(false);
    }
    audit::record(
        &tx,
        actor,
        Action::IpUnblocked,
        Some(block_target(id)),
        Details::new(),
    )
    .await?;
    tx.commit().await?;
    blocks.invalidate();
    changed();
    Ok(true)
}

/// The active blocks, read from the database at most once a second (blocks made on another
/// replica act here within that second).
#[derive(Clone)]
pub struct BlockList {
    db: DatabaseConnection,
    cached: Arc<RwLock<Cached>>,
}

struct Cached {
    loaded: Option<Instant>,
    generation: u64,
    /// Blocked address group → (blocked at, until).
    map: HashMap<IpAddr, Span>,
}

type Span = (DateTime<Utc>, DateTime<Utc>);

const REFRESH: Duration = Duration::from_secs(1);

impl BlockList {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cached: Arc::new(RwLock::new(Cached {
                loaded: None,
                generation: 0,
                map: HashMap::new(),
            })),
        }
    }

    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cached.write() {
            c.loaded = None;
        }
    }

    /// Is the address (its /64, for IPv6) blocked?
    pub async fn is_blocked(&self, ip: IpAddr) -> bool {
        self.blocked_since(ip).await.is_some()
    }

    /// When the block on the address (its /64, for IPv6) began, if one is in force.
    pub async fn blocked_since(&self, ip: IpAddr) -> Option<DateTime<Utc>> {
        let ip = crate::http::client_ip::group(ip);
        let now = Utc::now();
        let current = generation();
        let fresh = self.cached.read().ok().and_then(|c| {
            c.loaded
                .filter(|at| at.elapsed() < REFRESH && c.generation == current)
                .map(|_| c.map.get(&ip).copied())
        });
        let until = match fresh {
            Some(until) => until,
            None => match self.reload(now).await {
                Ok(map) => map.get(&ip).copied(),
                Err(e) => {
                    // Failing open here keeps the site up when the database hiccups; sign-in
                    // throttling still fails closed on its own.
                    tracing::error!(error = %e, "reading address blocks failed");
                    None
                }
            },
        };
        until.filter(|(_, u)| *u > now).map(|(since, _)| since)
    }

    async fn reload(&self, now: DateTime<Utc>) -> Result<HashMap<IpAddr, Span>, DbErr> {
        let rows = store::Entity::find()
            .filter(store::Column::LiftedAt.is_null())
            .filter(store::Column::ExpiresAt.gt(now))
            .all(&self.db)
            .await?;
        let map: HashMap<IpAddr, Span> = rows
            .into_iter()
            .filter_map(|b| {
                b.ip.parse()
                    .ok()
                    .map(|ip| (crate::http::client_ip::group(ip), (b.created_at, b.expires_at)))
            })
            .collect();
        if let Ok(mut c) = self.cached.write() {
            *c = Cached {
                loaded: Some(Instant::now()),
                generation: generation(),
                map: map.clone(),
            };
        }
        Ok(map)
    }
}

/// Routes that carry their own credential in the body (a password with a known-device token,
/// a pending second factor, a refresh token): let through from a blocked address, marked, so
/// the sign-in itself refuses anyone but a known device (S-DE-4).
const SIGN_IN: [&str; 5] = [
    "/api/v1/auth/login",
    "/api/v1/auth/login/mfa",
    "/api/v1/auth/refresh",
    "/login",
    "/login/second-factor",
];

/// Refuses anonymous requests from blocked addresses, with no detail. Probes are exempt, so an
/// orchestrator behind the same address is never blinded; a signed-in caller is judged per
/// account instead (S-DE-4).
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let Some(ip) = req.extensions().get::<RequestContext>().map(|c| c.client_ip) else {
        return next.run(req).await;
    };
    let Some(blocked_at) = state.blocks.blocked_since(ip).await else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    if let Some(user) = signed_in(&parts, &state).await {
        // The account that raised the alarms is not a neighbour: it stays shut out with its
        // address.
        let since = blocked_at - rules().window;
        match raised_alarms(&state.db, user, since).await {
            Ok(false) => return next.run(Request::from_parts(parts, body)).await,
            Ok(true) => {}
            Err(e) => tracing::error!(error = %e, "reading a blocked caller's alarms failed"),
        }
    }
    let has_device =
        crate::auth::browser::cookie(&parts.headers, crate::auth::browser::DEVICE_COOKIE).is_some();
    let sign_in = parts.method == Method::POST && SIGN_IN.contains(&parts.uri.path());
    // A browser that signed in here before may still reach the sign-in form and its styles;
    // the sign-in itself then checks that the device is known to the account.
    let form = parts.method == Method::GET
        && has_device
        && (parts.uri.path() == "/login" || parts.uri.path().starts_with("/static/"));
    if sign_in || form {
        if let Some(ctx) = parts.extensions.get_mut::<RequestContext>() {
            ctx.address_blocked = true;
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    if parts.uri.path().starts_with("/api/") {
        ApiError::Forbidden.into_response()
    } else {
        PageError::Forbidden.into_response()
    }
}

/// The account of the live session (cookie) or access token (bearer) the request carries.
/// Only asked for requests from blocked addresses, so the lookups cost nothing in the common
/// case.
async fn signed_in(parts: &Parts, state: &AppState) -> Option<UserId> {
    if parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
        return crate::auth::extract::authenticate(parts, state)
            .await
            .ok()
            .map(|caller| caller.user);
    }
    match crate::auth::browser::page_caller(parts, state).await {
        Ok(Some(caller)) => Some(caller.user),
        _ => None,
    }
}

/// Did `user` raise an authentication or authorization alarm since `since`?
async fn raised_alarms(db: &DatabaseConnection, user: UserId, since: DateTime<Utc>) -> Result<bool, DbErr> {
    use crate::audit::store_entity::{Column, Entity};
    let alarms = AUTH_ALARMS.iter().chain(AUTHZ_ALARMS.iter()).map(|a| a.as_str());
    Ok(Entity::find()
        .filter(Column::ActorId.eq(user.0))
        .filter(Column::Action.is_in(alarms))
        .filter(Column::OccurredAt.gte(since))
        .count(db)
        .await?
        > 0)
}
