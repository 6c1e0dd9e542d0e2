//! The tamper-evident chain of the audit trail (S-IT-1).
//!
//! Every row carries its position (`seq`, 1, 2, 3, … without gaps), the hash of the row before
//! it, and its own hash: SHA-256 over a canonical encoding of the row's fields and that previous
//! hash. Editing a row breaks its own hash; deleting one leaves a gap in the positions; inserting
//! one out of band gives it no position or a predecessor hash that does not match. One row,
//! `audit_chain`, holds the head (the last position and hash). Appending locks it for the rest of
//! the transaction (`SELECT … FOR UPDATE`; SQLite serialises writers with `BEGIN IMMEDIATE`), so
//! concurrent writers on any number of replicas extend one chain and never fork it.
//!
//! Cutting the tail off (deleting the newest rows and rewinding the head) leaves a consistent
//! shorter chain; signed checkpoints catch it. A checkpointer in every server process writes,
//! every few seconds and whenever `checkpoint_every` rows were added, an HMAC of (position,
//! hash) under a key the database does not hold, and logs it so that the log shipped off the
//! machine has the newest one too. A verifier then finds a checkpoint beyond the end of the
//! chain, or one whose row differs.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::TransactionSession;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::row as event;

/// The "previous hash" of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(crate) mod head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_chain")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub seq: i64,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod checkpoint {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_checkpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub hash: String,
        pub mac: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The fields a row's hash covers, as stored.
pub struct Fields<'a> {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<uuid::Uuid>,
    pub actor_role: Option<&'a str>,
    pub origin: &'a str,
    pub client_ip: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub action: &'a str,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub details: &'a str,
}

impl<'a> Fields<'a> {
    pub(crate) fn of(row: &'a event::Model) -> Self {
        Self {
            seq: row.seq.unwrap_or(0),
            occurred_at: row.occurred_at,
            actor_id: row.actor_id,
            actor_role: row.actor_role.as_deref(),
            origin: &row.origin,
            client_ip: row.client_ip.as_deref(),
            request_id: row.request_id.as_deref(),
            action: &row.action,
            target_kind: row.target_kind.as_deref(),
            target_id: row.target_id.as_deref(),
            details: &row.details,
        }
    }
}

/// Timestamps are kept to the microsecond, which every backend stores exactly.
pub fn storable(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// SHA-256 (hex) over the canonical encoding: a JSON array of the fields in a fixed order, the
/// time as RFC 3339 with microseconds, then the previous hash.
pub fn hash(fields: &Fields<'_>, prev_hash: &str) -> String {
    let canonical = serde_json::json!([
        fields.seq,
        fields.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        fields.actor_id.map(|u| u.to_string()),
        fields.actor_role,
        fields.origin,
        fields.client_ip,
        fields.request_id,
        fields.action,
        fields.target_kind,
        fields.target_id,
        fields.details,
        prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Appends a row to the chain, in the caller's transaction (a savepoint inside it). The head
/// stays locked until the caller commits, so the next writer links to this row.
pub(super) async fn append<C>(conn: &C, mut row: event::ActiveModel, fields: Fields<'_>) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let tx = conn
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    let head = head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or_else(|| DbErr::Custom("the audit chain has no head row".into()))?;
    let seq = head.seq + 1;
    let fields = Fields { seq, ..fields };
    let digest = hash(&fields, &head.hash);
    row.seq = Set(Some(seq));
    row.prev_hash = Set(Some(head.hash.clone()));
    row.hash = Set(Some(digest.clone()));
    event::Entity::insert(row).exec_without_returning(&tx).await?;
    head::Entity::update_many()
        .col_expr(head::Column::Seq, Expr::value(seq))
        .col_expr(head::Column::Hash, Expr::value(digest))
        .filter(head::Column::Id.eq(1))
        .exec(&tx)
        .await?;
    tx.commit().await
}

/// HMAC-SHA256 (hex) of a checkpoint.
pub fn checkpoint_mac(key: &SecretString, seq: i64, hash: &str) -> String {
    hex::encode(crate::crypto::hmac_sha256(
        key.expose_secret().as_bytes(),
        format!("sunbridge-audit-checkpoint-v1|{seq}|{hash}").as_bytes(),
    ))
}

/// Writes a checkpoint of the current head if none exists for it yet. Answers the checkpoint
/// written, if any.
pub async fn checkpoint(db: &DatabaseConnection, key: &SecretString) -> Result<Option<(i64, String)>, DbErr> {
    let Some(head) = head::Entity::find_by_id(1).one(db).await? else {
        return Ok(None);
    };
    if head.seq == 0 {
        return Ok(None);
    }
    let latest = checkpoint::Entity::find()
        .order_by_desc(checkpoint::Column::Seq)
        .one(db)
        .await?;
    if latest.is_some_and(|c| c.seq >= head.seq) {
        return Ok(None);
    }
    let mac = checkpoint_mac(key, head.seq, &head.hash);
    let row = checkpoint::ActiveModel {
        seq: Set(head.seq),
        hash: Set(head.hash.clone()),
        mac: Set(mac),
        created_at: Set(storable(Utc::now())),
    };
    match checkpoint::Entity::insert(row).exec_without_returning(db).await {
        // Another replica wrote the same checkpoint.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e),
        Ok(_) => Ok(Some((head.seq, head.hash))),
    }
}

/// Writes checkpoints under `supervisor`: every `every`, when rows were added.
pub fn start_checkpointer(
    supervisor: &crate::supervisor::Supervisor,
    db: DatabaseConnection,
    key: SecretString,
    every: std::time::Duration,
) {
    supervisor.periodic(
        "audit-checkpoints",
        crate::supervisor::Schedule::every(every),
        move || {
            let (db, key) = (db.clone(), key.clone());
            async move {
                // Logged so that the newest checkpoint also lives off the machine.
                if let Some((seq, hash)) = checkpoint(&db, &key).await? {
                    tracing::info!(seq, hash = %hash, "audit checkpoint written");
                }
                Ok(crate::supervisor::Next::Wait)
            }
        },
    );
}

/// What a verification found. (Named apart in the OpenAPI document: the security report is
/// also a `Report`, and one name would have described both with one schema.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ChainVerification)]
pub struct Report {
    /// Rows checked.
    pub checked: u64,
    /// Checkpoints whose signature and row were checked.
    pub checkpoints: u64,
    /// The position and hash of the last row.
    pub last_seq: i64,
    pub last_hash: String,
    /// The first problem, or none when the chain is whole.
    pub problem: Option<Problem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = ChainProblem)]
pub struct Problem {
    #[serde(rename = "kind")]
    pub kind: ProblemKind,
    /// The row named (its id), when there is one.
    pub row_id: Option<i64>,
    /// The position in the chain.
    pub seq: Option<i64>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ChainProblemKind)]
pub enum ProblemKind {
    Edited,
    Deleted,
    Inserted,
    Truncated,
    BadCheckpoint,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

const BATCH: u64 = 2000;

/// Walks the whole chain in order and checks every row, the head, and every checkpoint (whose
/// signature needs `key`). `expect` is a checkpoint kept elsewhere (the shipped log): the chain
/// must reach it with the same hash.
pub async fn verify(
    db: &DatabaseConnection,
    key: &SecretString,
    expect: Option<(i64, &str)>,
) -> Result<Report, DbErr> {
    let mut report = Report {
        checked: 0,
        checkpoints: 0,
        last_seq: 0,
        last_hash: GENESIS.to_owned(),
        problem: None,
    };
    let problem = |kind, row_id, seq, message: String| {
        Some(Problem {
            kind,
            row_id,
            seq,
            message,
        })
    };
    // Rows without a position were written around the chain.
    if let Some(stray) = event::Entity::find()
        .filter(event::Column::Seq.is_null())
        .order_by_asc(event::Column::Id)
        .one(db)
        .await?
    {
        report.problem = problem(
            ProblemKind::Inserted,
            Some(stray.id),
            None,
            format!("row {} has no place in the chain: inserted out of band", stray.id),
        );
        return Ok(report);
    }
    let mut prev_hash = GENESIS.to_owned();
    let mut expected = 1i64;
    let mut prev_id: Option<i64> = None;
    loop {
        let rows = event::Entity::find()
            .filter(event::Column::Seq.gte(expected))
            .order_by_asc(event::Column::Seq)
            .order_by_asc(event::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let seq = row.seq.unwrap_or(0);
            if seq > expected {
                let before = prev_id.map_or_else(|| "the start".to_owned(), |id| format!("row {id}"));
                report.problem = problem(
                    ProblemKind::Deleted,
                    Some(row.id),
                    Some(expected),
                    format!(
                        "the row at position {expected} was deleted: row {} (position {seq}) follows {before}",
                        row.id
                    ),
                );
                return Ok(report);
            }
            if seq < expected || row.prev_hash.as_deref() != Some(prev_hash.as_str()) {
                report.problem = problem(
                    ProblemKind::Inserted,
                    Some(row.id),
                    Some(seq),
                    format!(
                        "row {} (position {seq}) does not follow the row before it: inserted out of band",
                        row.id
                    ),
                );
                return Ok(report);
            }
            let recomputed = hash(&Fields::of(row), &prev_hash);
            if row.hash.as_deref() != Some(recomputed.as_str()) {
                report.problem = problem(
                    ProblemKind::Edited,
                    Some(row.id),
                    Some(seq),
                    format!(
                        "row {} (position {seq}) was edited: its hash no longer matches",
                        row.id
                    ),
                );
                return Ok(report);
            }
            prev_hash = recomputed;
            prev_id = Some(row.id);
            expected = seq + 1;
            report.checked += 1;
        }
    }
    report.last_seq = expected - 1;
    report.last_hash = prev_hash.clone();

    // The head must point at the last row: a head ahead of it means rows were cut off.
    if let Some(head) = head::Entity::find_by_id(1).one(db).await?
        && (head.seq != report.last_seq || head.hash != report.last_hash)
    {
        report.problem = problem(
            ProblemKind::Truncated,
            None,
            Some(head.seq),
            format!(
                "the chain ends at position {} but its head says {}: rows were removed or the head changed",
                report.last_seq, head.seq
            ),
        );
        return Ok(report);
    }
    let mut offset = 0;
    loop {
        let checkpoints = checkpoint::Entity::find()
            .order_by_asc(checkpoint::Column::Seq)
            .offset(offset)
            .limit(BATCH)
            .all(db)
            .await?;
        if checkpoints.is_empty() {
            break;
        }
        offset += checkpoints.len() as u64;
        for c in checkpoints {
            if checkpoint_mac(key, c.seq, &c.hash) != c.mac {
                report.problem = problem(
                    ProblemKind::BadCheckpoint,
                    None,
                    Some(c.seq),
                    format!("the checkpoint at position {} is not signed with this key", c.seq),
                );
                return Ok(report);
            }
            if let Some(p) = reaches(db, c.seq, &c.hash, report.last_seq).await? {
                report.problem = Some(p);
                return Ok(report);
            }
            report.checkpoints += 1;
        }
    }
    if let Some((seq, hash)) = expect
        && let Some(p) = reaches(db, seq, hash, report.last_seq).await?
    {
        report.problem = Some(p);
    }
    Ok(report)
}

/// Does the chain reach position `seq` with `hash`?
async fn reaches(db: &DatabaseConnection, seq: i64, hash: &str, last: i64) -> Result<Option<Problem>, DbErr> {
    if seq > last {
        return Ok(Some(Problem {
            kind: ProblemKind::Truncated,
            row_id: None,
            seq: Some(seq),
            message: format!(
                "a checkpoint vouches for position {seq}, but the chain ends at {last}: the newest rows were cut off"
            ),
        }));
    }
    let row = event::Entity::find()
        .filter(event::Column::Seq.eq(seq))
        .one(db)
        .await?;
    if row.as_ref().and_then(|r| r.hash.as_deref()) != Some(hash) {
        return Ok(Some(Problem {
            kind: ProblemKind::Edited,
            row_id: row.map(|r| r.id),
            seq: Some(seq),
            message: format!(
                "the row at position {seq} differs from its checkpoint: the chain was rewritten"
            ),
        }));
    }
    Ok(None)
}

/// Rows in the trail (for reports).
pub async fn length(db: &DatabaseConnection) -> Result<u64, DbErr> {
    event::Entity::find().count(db).await
}
