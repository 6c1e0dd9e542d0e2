use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A UTC instant. MySQL's TIMESTAMP ends in 2038, so MySQL gets DATETIME(6) (the driver
/// speaks UTC); PostgreSQL gets timestamptz; SQLite stores RFC 3339 text.
pub fn utc_timestamp(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    match backend {
        DatabaseBackend::MySql => col.custom(Alias::new("DATETIME(6)")),
        _ => col.timestamp_with_time_zone(),
    };
    col
}

/// Text that may pass 64 KB (MySQL's TEXT limit): MEDIUMTEXT there, TEXT elsewhere.
pub fn long_text(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    match backend {
        DatabaseBackend::MySql => col.custom(Alias::new("MEDIUMTEXT")),
        _ => col.text(),
    };
    col
}
