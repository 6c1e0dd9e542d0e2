//! The audit trail becomes a hash chain (S-IT-1): each row gets its position, its
//! predecessor's hash and its own; one head row holds the end of the chain; signed checkpoints
//! record where the chain stood. Rows written before this migration are chained in id order.
//!
//! Frozen history: the table as it was and the hash as it was defined then are carried here, not
//! imported from the application, so a later column on `audit_events` or a new hash version
//! cannot break migrating an older database. `tests/api/migrations.rs` migrates a database
//! built at migration 10 and verifies its chain with today's verifier.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};
use sha2::{Digest, Sha256};

use super::columns::utc_timestamp;

/// The "previous hash" of the first row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `audit_events` as this migration leaves it.
mod event {
    use sea_orm_migration::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub occurred_at: ChronoDateTimeUtc,
        pub actor_id: Option<Uuid>,
        pub actor_role: Option<String>,
        pub origin: String,
        pub client_ip: Option<String>,
        pub request_id: Option<String>,
        pub action: String,
        pub target_kind: Option<String>,
        pub target_id: Option<String>,
        pub details: String,
        pub seq: Option<i64>,
        pub prev_hash: Option<String>,
        pub hash: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Version 1 of a row's hash: SHA-256 (hex) over a JSON array of the fields in a fixed order,
/// the time as RFC 3339 with microseconds, then the previous hash.
fn hash_v1(row: &event::Model, seq: i64, at: DateTime<Utc>, prev_hash: &str) -> String {
    let canonical = serde_json::json!([
        seq,
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        row.actor_id.map(|u| u.to_string()),
        row.actor_role,
        row.origin,
        row.client_ip,
        row.request_id,
        row.action,
        row.target_kind,
        row.target_id,
        row.details,
        prev_hash,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000011_audit_chain"
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChain {
    Table,
    Id,
    Seq,
    Hash,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Seq,
    Hash,
    Mac,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        for col in [
            ColumnDef::new(AuditEvents::Seq).big_integer().null().to_owned(),
            ColumnDef::new(AuditEvents::PrevHash)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(AuditEvents::Hash).string_len(64).null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        // A position is taken once: a second writer at the same place is refused by the index.
        manager
            .create_index(
                Index::create()
                    .name("ux_audit_events_seq")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditChain::Table)
                    .col(ColumnDef::new(AuditChain::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(AuditChain::Seq).big_integer().not_null())
                    .col(ColumnDef::new(AuditChain::Hash).string_len(64).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(
                        ColumnDef::new(AuditCheckpoints::Seq)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditCheckpoints::Hash).string_len(64).not_null())
                    .col(ColumnDef::new(AuditCheckpoints::Mac).string_len(64).not_null())
                    .col(utc_timestamp(backend, AuditCheckpoints::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;

        // Chain what is there, oldest first. Times are kept to the microsecond, which every
        // backend stores exactly.
        let db = manager.get_connection();
        let rows = event::Entity::find()
            .order_by_asc(event::Column::Id)
            .all(db)
            .await?;
        let mut prev = GENESIS.to_owned();
        let mut seq = 0i64;
        for row in rows {
            seq += 1;
            let at = row.occurred_at.trunc_subsecs(6);
            let digest = hash_v1(&row, seq, at, &prev);
            event::Entity::update_many()
                .col_expr(event::Column::OccurredAt, Expr::value(at))
                .col_expr(event::Column::Seq, Expr::value(seq))
                .col_expr(event::Column::PrevHash, Expr::value(prev.clone()))
                .col_expr(event::Column::Hash, Expr::value(digest.clone()))
                .filter(event::Column::Id.eq(row.id))
                .exec(db)
                .await?;
            prev = digest;
        }
        let mut insert = Query::insert();
        insert
            .into_table(AuditChain::Table)
            .columns([AuditChain::Id, AuditChain::Seq, AuditChain::Hash])
            .values([1.into(), seq.into(), prev.into()])
            .map_err(|e| DbErr::Custom(format!("audit head: {e}")))?;
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditChain::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_audit_events_seq")
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        for col in [AuditEvents::Hash, AuditEvents::PrevHash, AuditEvents::Seq] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
