//! Encryption at rest (S-CR-3): the key ring's table, the key id of each encrypted file, and
//! room for sealed values (a sealed value is longer than the text it replaces). SQLite does not
//! enforce text lengths, so only MySQL and PostgreSQL columns are widened.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000012_encryption_at_rest"
    }
}

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Id,
    Provider,
    Wrapped,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum JobPhotos {
    Table,
    KeyId,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Address,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Phone,
}

#[derive(DeriveIden)]
enum MfaTotp {
    Table,
    SecretBase32,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(DataKeys::Table)
                    .col(
                        ColumnDef::new(DataKeys::Id)
                            .string_len(40)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DataKeys::Provider).string_len(20).not_null())
                    .col(ColumnDef::new(DataKeys::Wrapped).string_len(500).not_null())
                    .col(utc_timestamp(backend, DataKeys::CreatedAt).not_null())
                    .col(utc_timestamp(backend, DataKeys::RetiredAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(JobPhotos::Table)
                    .add_column(ColumnDef::new(JobPhotos::KeyId).string_len(40).null())
                    .to_owned(),
            )
            .await?;
        if backend != DatabaseBackend::Sqlite {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sites::Table)
                        .modify_column(ColumnDef::new(Sites::Address).text().not_null())
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .modify_column(ColumnDef::new(Users::Phone).string_len(200).null())
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(MfaTotp::Table)
                        .modify_column(ColumnDef::new(MfaTotp::SecretBase32).string_len(200).not_null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(JobPhotos::Table)
                    .drop_column(JobPhotos::KeyId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DataKeys::Table).to_owned())
            .await
    }
}
