//! Sessions (browser and API), rotating refresh tokens, and login throttling state.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_sessions_and_throttle"
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Kind,
    TokenHash,
    TokenExpiresAt,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    AuthenticatedAt,
    RevokedAt,
    RevokedReason,
    DeviceName,
    Ip,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    LastFailureAt,
    PenaltySecs,
    BlockedUntil,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::Kind).string_len(8).not_null())
                    // SHA-256 of the current access token (API) or cookie token (browser).
                    .col(ColumnDef::new(Sessions::TokenHash).string_len(64).not_null())
                    .col(utc_timestamp(backend, Sessions::TokenExpiresAt).not_null())
                    .col(utc_timestamp(backend, Sessions::CreatedAt).not_null())
                    .col(utc_timestamp(backend, Sessions::LastSeenAt).not_null())
                    .col(utc_timestamp(backend, Sessions::ExpiresAt).not_null())
                    .col(utc_timestamp(backend, Sessions::AuthenticatedAt).not_null())
                    .col(utc_timestamp(backend, Sessions::RevokedAt).null())
                    .col(ColumnDef::new(Sessions::RevokedReason).string_len(32).null())
                    .col(ColumnDef::new(Sessions::DeviceName).string_len(100).null())
                    .col(ColumnDef::new(Sessions::Ip).string_len(45).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sessions_token_hash")
                    .table(Sessions::Table)
                    .col(Sessions::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(ColumnDef::new(RefreshTokens::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RefreshTokens::SessionId).uuid().not_null())
                    .col(ColumnDef::new(RefreshTokens::TokenHash).string_len(64).not_null())
                    .col(utc_timestamp(backend, RefreshTokens::CreatedAt).not_null())
                    .col(utc_timestamp(backend, RefreshTokens::UsedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_refresh_tokens_hash")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    // "acct:<sha256 of the identifier>", "dev:<device>:<sha256>" or "ip:<address>":
                    // no plain email address is kept here.
                    .col(
                        ColumnDef::new(LoginThrottle::Key)
                            .string_len(160)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginThrottle::Failures).integer().not_null())
                    .col(utc_timestamp(backend, LoginThrottle::LastFailureAt).not_null())
                    .col(ColumnDef::new(LoginThrottle::PenaltySecs).integer().not_null())
                    .col(utc_timestamp(backend, LoginThrottle::BlockedUntil).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginThrottle::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
