//! Second factor: TOTP secrets, recovery codes, and pending sign-ins waiting for a code.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000004_mfa"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    MfaEnabledAt,
}

#[derive(DeriveIden)]
enum MfaTotp {
    Table,
    UserId,
    SecretBase32,
    CreatedAt,
    ConfirmedAt,
    LastUsedStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum LoginChallenges {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    DeviceName,
    KnownDevice,
}

fn user_fk(name: &str, table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(utc_timestamp(backend, Users::MfaEnabledAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MfaTotp::Table)
                    .col(ColumnDef::new(MfaTotp::UserId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(MfaTotp::SecretBase32).string_len(64).not_null())
                    .col(utc_timestamp(backend, MfaTotp::CreatedAt).not_null())
                    .col(utc_timestamp(backend, MfaTotp::ConfirmedAt).null())
                    // The last accepted 30-second step: a code is never accepted twice (S-AU-4).
                    .col(ColumnDef::new(MfaTotp::LastUsedStep).big_integer().null())
                    .foreign_key(&mut user_fk("fk_mfa_totp_user", MfaTotp::Table, MfaTotp::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(ColumnDef::new(RecoveryCodes::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RecoveryCodes::UserId).uuid().not_null())
                    .col(ColumnDef::new(RecoveryCodes::CodeHash).string_len(64).not_null())
                    .col(utc_timestamp(backend, RecoveryCodes::CreatedAt).not_null())
                    .col(utc_timestamp(backend, RecoveryCodes::UsedAt).null())
                    .foreign_key(&mut user_fk(
                        "fk_recovery_codes_user",
                        RecoveryCodes::Table,
                        RecoveryCodes::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_recovery_codes_user_hash")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginChallenges::Table)
                    .col(
                        ColumnDef::new(LoginChallenges::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginChallenges::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(LoginChallenges::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(utc_timestamp(backend, LoginChallenges::CreatedAt).not_null())
                    .col(utc_timestamp(backend, LoginChallenges::ExpiresAt).not_null())
                    .col(utc_timestamp(backend, LoginChallenges::UsedAt).null())
                    .col(ColumnDef::new(LoginChallenges::DeviceName).string_len(100).null())
                    .col(ColumnDef::new(LoginChallenges::KnownDevice).uuid().null())
                    .foreign_key(&mut user_fk(
                        "fk_login_challenges_user",
                        LoginChallenges::Table,
                        LoginChallenges::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_login_challenges_hash")
                    .table(LoginChallenges::Table)
                    .col(LoginChallenges::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginChallenges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MfaTotp::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::MfaEnabledAt)
                    .to_owned(),
            )
            .await
    }
}
