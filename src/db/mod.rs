//! The database: SQLite (embedded default), MySQL/MariaDB (production) or PostgreSQL, chosen
//! by the URL's scheme, with one portable set of migrations.

pub mod migrations;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};

pub use migrations::Migrator;

/// Opens a pool. For SQLite, creates the file's directory and turns on WAL (readers do not
/// block the writer) and a busy timeout (writers queue instead of failing).
pub async fn connect(url: &SecretString, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let url = url.expose_secret();
    if let Some(path) = sqlite_path(url)
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("Failed to create the database directory {}", dir.display()))?;
    }
    // SQLite has one writer. A transaction that reads and then writes on a second connection
    // fails at once with SQLITE_BUSY_SNAPSHOT when another connection wrote in between (the
    // busy timeout does not apply), so the embedded database uses one connection and every
    // transaction runs in turn. MySQL and PostgreSQL get a real pool.
    let max_connections = if url.starts_with("sqlite:") {
        1
    } else {
        max_connections
    };
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        // Statements and their parameters would carry personal data into the log (S-LG-2).
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    // The URL may hold a password: the error names the backend, not the URL.
    let backend = url.split(':').next().unwrap_or("database");
    Database::connect(options)
        .await
        .with_context(|| format!("Failed to connect to the {backend} database"))
}

/// A connection or a transaction: what the stores take. Both can open a transaction (a
/// savepoint inside one), which the audit chain needs to hold its head for the change.
pub trait Conn: sea_orm::ConnectionTrait + sea_orm::TransactionTrait {}

impl<T: sea_orm::ConnectionTrait + sea_orm::TransactionTrait> Conn for T {}

/// Begins a transaction for a change. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads and then writes fails with
/// SQLITE_BUSY_SNAPSHOT when another connection wrote in between, and the busy timeout does
/// not help it, while an immediate one simply waits its turn. Other databases ignore the mode.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Which integrity rule of the database refused a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// A unique index or primary key holds the key already.
    Unique,
    /// The write points at a row that does not exist, or removes one still pointed at.
    ForeignKey,
}

/// The rule that refused `e`, when one did: the database errors a service may answer as an
/// outcome (a duplicate, a race lost) rather than a fault. Every other error stays a fault;
/// none means "not found", which a lookup says with `None`.
pub fn constraint(e: &DbErr) -> Option<Constraint> {
    match e.sql_err()? {
        SqlErr::UniqueConstraintViolation(_) => Some(Constraint::Unique),
        SqlErr::ForeignKeyConstraintViolation(_) => Some(Constraint::ForeignKey),
        // The driver's list may grow; what it adds is not a rule services answer.
        _ => None,
    }
}

/// Whether the database gave up on a transaction because another one held what it needed (a
/// deadlock, a serialization failure; SQLSTATE class 40 on MariaDB and PostgreSQL): running
/// the transaction again is the remedy.
pub fn must_retry(e: &DbErr) -> bool {
    let sqlx = match e {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    matches!(
        sqlx.as_database_error().and_then(|d| d.code()).as_deref(),
        Some("40001" | "40P01")
    )
}

/// `must_retry` for a database error carried inside a service's own error (as `anyhow`).
pub fn lost_race(e: &anyhow::Error) -> bool {
    e.downcast_ref::<DbErr>().is_some_and(must_retry)
}

/// Runs `attempt` (one whole transaction) until it commits, again when it lost a race that a
/// second run resolves: `must_retry`, or an error `also` names (a unique violation, for a
/// replace whose loser finds the winner's row). At most five runs; then the error stands.
pub async fn run_again_on_races<T, F, Fut>(also: impl Fn(&DbErr) -> bool, attempt: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    run_again(|e| must_retry(e) || also(e), attempt).await
}

/// Runs `attempt` (one whole transaction, with a service's own error type) again while its
/// error is one that `lost` says a second run resolves (`lost_race`, for a database error
/// carried inside). At most five runs; then the error stands.
pub async fn run_again<T, E, F, Fut>(lost: impl Fn(&E) -> bool, mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut runs = 0;
    loop {
        runs += 1;
        match attempt().await {
            Err(e) if runs < 5 && lost(&e) => {}
            other => return other,
        }
    }
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("Failed to migrate the database")
}

/// The file behind a `sqlite://` URL, if it is one (not for `:memory:`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// Is the database there and answering? Used by `/readyz`.
pub async fn check(db: &DatabaseConnection, sqlite_file: Option<&PathBuf>) -> anyhow::Result<()> {
    // On SQLite an open handle keeps answering after the file was deleted or its volume
    // unmounted, while new writes would be lost: the file's presence is part of readiness.
    if let Some(path) = sqlite_file {
        anyhow::ensure!(path.exists(), "the SQLite database file is missing");
    }
    tokio::time::timeout(Duration::from_secs(2), db.ping())
        .await
        .context("database ping timed out")?
        .context("database ping failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/x.db?mode=rwc"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("mysql://root@localhost/test"), None);
    }
}
