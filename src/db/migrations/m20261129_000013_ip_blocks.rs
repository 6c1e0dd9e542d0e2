//! Automatic defence: addresses blocked for tripping the authentication or authorization
//! alarms, and the index that counts an address's alarms in the audit trail.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000013_ip_blocks"
    }
}

#[derive(DeriveIden)]
enum IpBlocks {
    Table,
    Id,
    Ip,
    Reason,
    CreatedAt,
    ExpiresAt,
    LiftedAt,
    LiftedBy,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    ClientIp,
    OccurredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(IpBlocks::Table)
                    .col(ColumnDef::new(IpBlocks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(IpBlocks::Ip).string_len(45).not_null())
                    .col(ColumnDef::new(IpBlocks::Reason).string_len(32).not_null())
                    .col(utc_timestamp(backend, IpBlocks::CreatedAt).not_null())
                    .col(utc_timestamp(backend, IpBlocks::ExpiresAt).not_null())
                    .col(utc_timestamp(backend, IpBlocks::LiftedAt).null())
                    .col(ColumnDef::new(IpBlocks::LiftedBy).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ip_blocks_ip")
                    .table(IpBlocks::Table)
                    .col(IpBlocks::Ip)
                    .col(IpBlocks::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_client_ip")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ClientIp)
                    .col(AuditEvents::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_audit_events_client_ip")
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(IpBlocks::Table).to_owned())
            .await
    }
}
