//! Uploaded files in the database (`crate::files`): parts of at most a megabyte, so replicas
//! share them and a database backup holds them.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000017_stored_files"
    }
}

#[derive(DeriveIden)]
enum StoredFiles {
    Table,
    Key,
    Part,
    Bytes,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut bytes = ColumnDef::new(StoredFiles::Bytes);
        match backend {
            // MySQL's BLOB stops at 64 KB; MEDIUMBLOB holds 16 MB, above the 1 MB part.
            sea_orm::DatabaseBackend::MySql => bytes.custom(Alias::new("MEDIUMBLOB")),
            _ => bytes.blob(),
        };
        manager
            .create_table(
                Table::create()
                    .table(StoredFiles::Table)
                    .col(ColumnDef::new(StoredFiles::Key).string_len(128).not_null())
                    .col(ColumnDef::new(StoredFiles::Part).integer().not_null())
                    .col(bytes.not_null())
                    .col(utc_timestamp(backend, StoredFiles::CreatedAt).not_null())
                    .primary_key(Index::create().col(StoredFiles::Key).col(StoredFiles::Part))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StoredFiles::Table).to_owned())
            .await
    }
}
