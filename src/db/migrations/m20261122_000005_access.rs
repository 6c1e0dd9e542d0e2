//! Access control: the phone number and last sign-in of an account, and the grants through
//! which staff open a customer's personal data for a stated reason (S-AC-5, S-AC-6).

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000005_access"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Phone,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum AccessGrants {
    Table,
    Id,
    StaffId,
    StaffRole,
    CustomerId,
    Reason,
    CreatedAt,
    ExpiresAt,
    EndedAt,
    EndedBy,
    Views,
    LastViewedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::Phone).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(utc_timestamp(backend, Users::LastLoginAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessGrants::Table)
                    .col(ColumnDef::new(AccessGrants::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(AccessGrants::StaffId).uuid().not_null())
                    // The role at the time of the grant: what the customer is shown later.
                    .col(ColumnDef::new(AccessGrants::StaffRole).string_len(16).not_null())
                    .col(ColumnDef::new(AccessGrants::CustomerId).uuid().not_null())
                    .col(ColumnDef::new(AccessGrants::Reason).string_len(1000).not_null())
                    .col(utc_timestamp(backend, AccessGrants::CreatedAt).not_null())
                    .col(utc_timestamp(backend, AccessGrants::ExpiresAt).not_null())
                    .col(utc_timestamp(backend, AccessGrants::EndedAt).null())
                    .col(ColumnDef::new(AccessGrants::EndedBy).uuid().null())
                    .col(
                        ColumnDef::new(AccessGrants::Views)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(utc_timestamp(backend, AccessGrants::LastViewedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_grants_staff")
                            .from(AccessGrants::Table, AccessGrants::StaffId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_grants_customer")
                            .from(AccessGrants::Table, AccessGrants::CustomerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_grants_customer")
                    .table(AccessGrants::Table)
                    .col(AccessGrants::CustomerId)
                    .col(AccessGrants::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_grants_staff")
                    .table(AccessGrants::Table)
                    .col(AccessGrants::StaffId)
                    .col(AccessGrants::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccessGrants::Table).to_owned())
            .await?;
        for column in [Users::LastLoginAt, Users::Phone] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
