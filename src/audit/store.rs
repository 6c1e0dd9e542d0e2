use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Action, Actor, Target};

pub(crate) use super::row as entity;

/// One row of the trail as read back.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub origin: String,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    /// Position in the hash chain, and this row's hash.
    pub seq: Option<i64>,
    pub hash: Option<String>,
}

/// What a page of the trail is narrowed to.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Events older than this event id.
    pub before: Option<i64>,
    pub action: Option<String>,
    pub actor_id: Option<uuid::Uuid>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
}

pub(super) async fn insert<C: crate::db::Conn>(
    conn: &C,
    at: DateTime<Utc>,
    actor: &Actor,
    action: Action,
    target: Option<Target>,
    details: String,
) -> Result<(), DbErr> {
    let at = super::chain::storable(at);
    let actor_id = actor.user_id.map(|id| id.0);
    let actor_role = actor.role.map(|r| r.as_str().to_owned());
    let client_ip = actor.client_ip.map(|ip| ip.to_string());
    let request_id = actor.request_id.map(|id| id.to_string());
    let target_kind = target.as_ref().map(|t| t.kind.to_owned());
    let target_id = target.map(|t| t.id);
    let fields = super::chain::Fields {
        seq: 0,
        occurred_at: at,
        actor_id,
        actor_role: actor_role.as_deref(),
        origin: actor.origin.as_str(),
        client_ip: client_ip.as_deref(),
        request_id: request_id.as_deref(),
        action: action.as_str(),
        target_kind: target_kind.as_deref(),
        target_id: target_id.as_deref(),
        details: &details,
    };
    let row = entity::ActiveModel {
        occurred_at: Set(at),
        actor_id: Set(actor_id),
        actor_role: Set(actor_role.clone()),
        origin: Set(actor.origin.as_str().to_owned()),
        client_ip: Set(client_ip.clone()),
        request_id: Set(request_id.clone()),
        action: Set(action.as_str().to_owned()),
        target_kind: Set(target_kind.clone()),
        target_id: Set(target_id.clone()),
        details: Set(details.clone()),
        ..Default::default()
    };
    super::chain::append(conn, row, fields).await
}

/// The newest events first, at most `limit`.
pub async fn recent<C: crate::db::Conn>(conn: &C, limit: u64) -> Result<Vec<AuditEvent>, DbErr> {
    page(conn, &Filter::default(), limit).await
}

/// A page of at most `limit` events as `role` may see them, and the cursor of the next page.
/// Only admins see client addresses: engineers see no personal data (S-AC-5).
pub async fn page_for<C: crate::db::Conn>(
    conn: &C,
    role: crate::access::Role,
    filter: &Filter,
    limit: u64,
) -> Result<(Vec<AuditEvent>, Option<String>), DbErr> {
    let mut items = page(conn, filter, limit + 1).await?;
    let next_cursor = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    if role != crate::access::Role::Admin {
        for item in &mut items {
            item.client_ip = None;
        }
    }
    Ok((items, next_cursor))
}

/// Events matching `filter`, newest first.
pub async fn page<C: crate::db::Conn>(
    conn: &C,
    filter: &Filter,
    limit: u64,
) -> Result<Vec<AuditEvent>, DbErr> {
    let mut query = entity::Entity::find();
    if let Some(before) = filter.before {
        query = query.filter(entity::Column::Id.lt(before));
    }
    if let Some(action) = &filter.action {
        query = query.filter(entity::Column::Action.eq(action.as_str()));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(entity::Column::ActorId.eq(actor));
    }
    if let Some(kind) = &filter.target_kind {
        query = query.filter(entity::Column::TargetKind.eq(kind.as_str()));
    }
    if let Some(id) = &filter.target_id {
        query = query.filter(entity::Column::TargetId.eq(id.as_str()));
    }
    let rows = query
        .order_by_desc(entity::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEvent {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id.map(|id| id.to_string()),
            actor_role: r.actor_role,
            origin: r.origin,
            client_ip: r.client_ip,
            request_id: r.request_id,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            seq: r.seq,
            hash: r.hash,
        })
        .collect())
}

pub(super) async fn count_since<C: crate::db::Conn>(
    conn: &C,
    action: Action,
    target: &Target,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::Action.eq(action.as_str()))
        .filter(entity::Column::TargetKind.eq(target.kind))
        .filter(entity::Column::TargetId.eq(target.id.as_str()))
        .filter(entity::Column::OccurredAt.gte(since))
        .count(conn)
        .await
}
