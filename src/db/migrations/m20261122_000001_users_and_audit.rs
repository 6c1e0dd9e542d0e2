//! Accounts and the audit trail.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_users_and_audit"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    Role,
    PasswordHash,
    EmailVerifiedAt,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    ActorId,
    ActorRole,
    Origin,
    ClientIp,
    RequestId,
    Action,
    TargetKind,
    TargetId,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    // 254: the longest address SMTP can carry (RFC 5321 path limit).
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null())
                    .col(ColumnDef::new(Users::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).null())
                    .col(utc_timestamp(backend, Users::EmailVerifiedAt).null())
                    .col(utc_timestamp(backend, Users::DisabledAt).null())
                    .col(utc_timestamp(backend, Users::CreatedAt).not_null())
                    .col(utc_timestamp(backend, Users::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_email")
                    .table(Users::Table)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    // The sequence is the order of the trail (the hash chain will follow it).
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(utc_timestamp(backend, AuditEvents::OccurredAt).not_null())
                    .col(ColumnDef::new(AuditEvents::ActorId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::ActorRole).string_len(16).null())
                    .col(ColumnDef::new(AuditEvents::Origin).string_len(8).not_null())
                    .col(ColumnDef::new(AuditEvents::ClientIp).string_len(45).null())
                    .col(ColumnDef::new(AuditEvents::RequestId).string_len(36).null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::TargetKind).string_len(32).null())
                    .col(ColumnDef::new(AuditEvents::TargetId).string_len(64).null())
                    // Canonical JSON text, so the hash chain hashes the same bytes everywhere.
                    .col(ColumnDef::new(AuditEvents::Details).text().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_audit_events_occurred_at", vec![AuditEvents::OccurredAt]),
            (
                "ix_audit_events_target",
                vec![AuditEvents::TargetKind, AuditEvents::TargetId],
            ),
            ("ix_audit_events_actor", vec![AuditEvents::ActorId]),
            ("ix_audit_events_action", vec![AuditEvents::Action]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
