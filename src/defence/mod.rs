//! Automatic defence: an address whose requests keep tripping the authentication alarms (failed
//! sign-ins, second factors, re-authentications) or the authorization alarms (refused routes,
//! other people's objects) beyond a threshold within a window is blocked for a while. A blocked
//! address gets 403 with no detail on every route but the probes. Blocks are audited, listed to
//! admins, and lifted by them.
//!
//! The counts come from the audit trail itself (its rows carry the client address), so what
//! triggers a block is exactly what an investigator later reads.

pub mod api;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
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
    let Some(ip) = actor.client_ip else {
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
    let seen = crate::audit::store_entity::Entity::find()
        .filter(crate::audit::store_entity::Column::ClientIp.eq(ip_text.as_str()))
        .filter(crate::audit::store_entity::Column::Action.is_in(alarms.iter().map(|a| a.as_str())))
        .filter(crate::audit::store_entity::Column::OccurredAt.gte(now - r.window))
        .count(conn)
        .await?;
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
    map: HashMap<IpAddr, DateTime<Utc>>,
}

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

    pub async fn is_blocked(&self, ip: IpAddr) -> bool {
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
        until.is_some_and(|u| u > now)
    }

    async fn reload(&self, now: DateTime<Utc>) -> Result<HashMap<IpAddr, DateTime<Utc>>, DbErr> {
        let rows = store::Entity::find()
            .filter(store::Column::LiftedAt.is_null())
            .filter(store::Column::ExpiresAt.gt(now))
            .all(&self.db)
            .await?;
        let map: HashMap<IpAddr, DateTime<Utc>> = rows
            .into_iter()
            .filter_map(|b| b.ip.parse().ok().map(|ip| (ip, b.expires_at)))
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

/// Refuses requests from blocked addresses, with no detail (probes excepted, so an
/// orchestrator behind the same address is never blinded).
pub async fn gate(State(blocks): State<BlockList>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let Some(ip) = req.extensions().get::<RequestContext>().map(|c| c.client_ip) else {
        return next.run(req).await;
    };
    if blocks.is_blocked(ip).await {
        return if path.starts_with("/api/") {
            ApiError::Forbidden.into_response()
        } else {
            PageError::Forbidden.into_response()
        };
    }
    next.run(req).await
}
