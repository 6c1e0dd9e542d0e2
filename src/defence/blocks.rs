//! Address blocks: the rules, the judgement after each request's alarms, the cached list the
//! gate reads, and what admins see and lift. Knows nothing of requests beyond what the audit
//! journal hands it, so the application state can hold it without a cycle.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::journal::Recorded;
use crate::audit::{self, Action, Actor, Details, Target};
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

/// Throttled sign-ins count too: an address that keeps going after its 429s escalates to a
/// block of everything.
pub(super) const AUTH_ALARMS: [Action; 4] = [
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

/// Blocks `ip`'s group once the alarms of `action`'s family from it pass the threshold; runs
/// after the request that recorded the alarm, on the committed trail.
async fn judge(db: &DatabaseConnection, r: Rules, ip: IpAddr, action: Action) -> Result<bool, DbErr> {
    let ip = crate::http::client_ip::group(ip);
    let (alarms, threshold, reason): (&[Action], u64, &'static str) = if AUTH_ALARMS.contains(&action) {
        (&AUTH_ALARMS, r.auth_failures, "authentication_failures")
    } else if AUTHZ_ALARMS.contains(&action) {
        (&AUTHZ_ALARMS, r.authz_failures, "authorization_failures")
    } else {
        return Ok(false);
    };
    let now = Utc::now();
    let ip_text = ip.to_string();
    // Failures before an admin lifted the last block of this address are forgiven with it.
    let last_lift = store::Entity::find()
        .filter(store::Column::Ip.eq(ip_text.as_str()))
        .filter(store::Column::LiftedAt.is_not_null())
        .order_by_desc(store::Column::LiftedAt)
        .one(db)
        .await?
        .and_then(|b| b.lifted_at);
    let since = last_lift.map_or(now - r.window, |lifted| lifted.max(now - r.window));
    let seen = alarms_from(db, ip, alarms, since).await?;
    if seen < threshold {
        return Ok(false);
    }
    // The block and its audit row together; the check for a block already in force is in the
    // same transaction, so two requests crossing the threshold at once (SQLite serialises
    // them) make one block.
    let tx = crate::db::begin(db).await?;
    let already = store::Entity::find()
        .filter(store::Column::Ip.eq(ip_text.as_str()))
        .filter(store::Column::LiftedAt.is_null())
        .filter(store::Column::ExpiresAt.gt(now))
        .count(&tx)
        .await?;
    if already > 0 {
        return Ok(false);
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
    .exec_without_returning(&tx)
    .await?;
    let system = Actor {
        client_ip: Some(ip),
        ..Actor::system()
    };
    let details = Details::new()
        .with("reason", reason)
        .with("failures", seen as i64)
        .with("minutes", r.block_for.num_minutes());
    audit::record(&tx, &system, Action::IpBlocked, Some(block_target(id)), details).await?;
    tx.commit().await?;
    tracing::warn!(reason, failures = seen, "client address blocked");
    Ok(true)
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
    blocks.changed();
    Ok(true)
}

/// The active blocks, read from the database at most once a second (blocks made on another
/// replica act here within that second).
#[derive(Clone)]
pub struct BlockList {
    db: DatabaseConnection,
    rules: Rules,
    /// Other replicas, told when this one makes or lifts a block.
    shared: Option<Arc<crate::replica_sync::Shared>>,
    /// Bumped whenever this list's process makes or lifts a block, so the cache reloads at
    /// once (other replicas see it within a second, at once with Redis).
    generation: Arc<AtomicU64>,
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
    pub fn new(
        db: DatabaseConnection,
        rules: Rules,
        shared: Option<Arc<crate::replica_sync::Shared>>,
    ) -> Self {
        Self {
            db,
            rules,
            shared,
            generation: Arc::default(),
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

    /// A block was made or lifted here: reload now, and tell the other replicas.
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.invalidate();
        if let Some(shared) = self.shared.clone() {
            tokio::spawn(async move { shared.publish(crate::replica_sync::Topic::Blocks).await });
        }
    }

    /// How far back alarms count.
    pub fn window(&self) -> TimeDelta {
        self.rules.window
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Reacts to the alarms one request recorded (`audit::journal`): blocks an address whose
    /// alarms passed the threshold. After the request, so on the committed trail.
    pub async fn react(&self, recorded: &[Recorded]) {
        let mut judged: Vec<(IpAddr, bool)> = Vec::new();
        for event in recorded {
            let family = AUTH_ALARMS.contains(&event.action);
            if !family && !AUTHZ_ALARMS.contains(&event.action) {
                continue;
            }
            // One judgement per address and family, however many alarms the request raised.
            if judged.contains(&(event.client_ip, family)) {
                continue;
            }
            judged.push((event.client_ip, family));
            match judge(&self.db, self.rules, event.client_ip, event.action).await {
                Ok(true) => self.changed(),
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "judging an address's alarms failed"),
            }
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
        let current = self.generation();
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
                generation: self.generation(),
                map: map.clone(),
            };
        }
        Ok(map)
    }
}

/// Did `user` raise an authentication or authorization alarm since `since`?
pub(super) async fn raised_alarms(
    db: &DatabaseConnection,
    user: UserId,
    since: DateTime<Utc>,
) -> Result<bool, DbErr> {
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
