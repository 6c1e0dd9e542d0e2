//! The audit trail becomes a hash chain (S-IT-1): each row gets its position, its
//! predecessor's hash and its own; one head row holds the end of the chain; signed checkpoints
//! record where the chain stood. Rows written before this migration are chained in id order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder};

use super::columns::utc_timestamp;
use crate::audit::chain::{self, GENESIS};

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

        // Chain what is there, oldest first.
        let db = manager.get_connection();
        let rows = crate::audit::store_entity::Entity::find()
            .order_by_asc(crate::audit::store_entity::Column::Id)
            .all(db)
            .await?;
        let mut prev = GENESIS.to_owned();
        let mut seq = 0i64;
        for row in rows {
            seq += 1;
            let mut row = row;
            row.occurred_at = chain::storable(row.occurred_at);
            row.seq = Some(seq);
            let digest = chain::hash(&chain::Fields::of(&row), &prev);
            let mut active: crate::audit::store_entity::ActiveModel = row.clone().into();
            active.occurred_at = Set(row.occurred_at);
            active.seq = Set(Some(seq));
            active.prev_hash = Set(Some(prev.clone()));
            active.hash = Set(Some(digest.clone()));
            crate::audit::store_entity::Entity::update(active)
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
