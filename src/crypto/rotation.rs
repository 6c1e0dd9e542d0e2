//! `sunbridge keys rotate`: a new data key starts encrypting at once (servers pick the newest
//! key on their next write), then every sealed field and file under an older key — and any
//! value stored before encryption — is re-encrypted under the new one, in batches, while the
//! servers run. Each row is rewritten only if it still holds the value that was read, so a
//! change made meanwhile is never overwritten. Keys that nothing uses any more are retired:
//! they no longer encrypt, and still decrypt (a restored backup stays readable).

use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;

use super::keys;
use super::seal::{self, Field};
use crate::audit::{self, Action, Actor, Details};
use crate::files::FileStore;

/// A sealed column: its table, its key column (a UUID), and its field.
struct Sealed {
    table: &'static str,
    key: &'static str,
    column: &'static str,
    field: Field,
}

const COLUMNS: [Sealed; 8] = [
    Sealed {
        table: "sites",
        key: "id",
        column: "address",
        field: Field::SiteAddress,
    },
    Sealed {
        table: "sites",
        key: "id",
        column: "access_notes",
        field: Field::SiteAccessNotes,
    },
    Sealed {
        table: "users",
        key: "id",
        column: "phone",
        field: Field::UserPhone,
    },
    Sealed {
        table: "job_events",
        key: "id",
        column: "note",
        field: Field::JobNote,
    },
    Sealed {
        table: "mfa_totp",
        key: "user_id",
        column: "secret_base32",
        field: Field::TotpSecret,
    },
    Sealed {
        table: "push_subscriptions",
        key: "id",
        column: "endpoint",
        field: Field::PushEndpoint,
    },
    Sealed {
        table: "push_subscriptions",
        key: "id",
        column: "auth",
        field: Field::PushAuth,
    },
    Sealed {
        table: "webhook_endpoints",
        key: "company_id",
        column: "secret",
        field: Field::WebhookSecret,
    },
];

const BATCH: u64 = 200;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub new_key: String,
    /// Values re-encrypted, per column (`table.column`), and files.
    pub reencrypted: Vec<(String, u64)>,
    pub files: u64,
    /// Keys retired because nothing uses them any more.
    pub retired: Vec<String>,
}

/// Rotates: a new key, everything re-encrypted under it, unused keys retired. `settle` is how
/// long to wait after the new key exists before re-encrypting, so writes that read the previous
/// key just before are finished.
pub async fn rotate(db: &DatabaseConnection, files: &FileStore, settle: Duration) -> anyhow::Result<Report> {
    let new_key = keys::create(db).await?;
    tokio::time::sleep(settle).await;
    let key = keys::key(db, &new_key).await?;
    let mut report = Report {
        new_key: new_key.clone(),
        ..Report::default()
    };
    let current = format!("enc:v1:{new_key}:%");
    for col in &COLUMNS {
        let mut count = 0u64;
        let mut after: Option<uuid::Uuid> = None;
        loop {
            let mut select = Query::select();
            select
                .column(Alias::new(col.key))
                .column(Alias::new(col.column))
                .from(Alias::new(col.table))
                .and_where(Expr::col(Alias::new(col.column)).is_not_null())
                .and_where(Expr::col(Alias::new(col.column)).not_like(current.as_str()))
                .order_by(Alias::new(col.key), Order::Asc)
                .limit(BATCH);
            if let Some(after) = after {
                select.and_where(Expr::col(Alias::new(col.key)).gt(after));
            }
            let rows = db.query_all(&select).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let id: uuid::Uuid = row.try_get("", col.key)?;
                let stored: String = row.try_get("", col.column)?;
                after = Some(id);
                let plain = seal::open(db, col.field, &stored).await?;
                let sealed = seal::seal_with(&new_key, &key, col.field, &plain)?;
                let mut update = Query::update();
                update
                    .table(Alias::new(col.table))
                    .value(Alias::new(col.column), sealed)
                    .and_where(Expr::col(Alias::new(col.key)).eq(id))
                    .and_where(Expr::col(Alias::new(col.column)).eq(stored));
                count += db.execute(&update).await?.rows_affected();
            }
        }
        report
            .reencrypted
            .push((format!("{}.{}", col.table, col.column), count));
    }
    report.files = rotate_files(db, files, &new_key, &key).await?;
    for k in keys::list(db).await? {
        if k.id != new_key && k.retired_at.is_none() && !in_use(db, &k.id).await? {
            keys::retire(db, &k.id).await?;
            report.retired.push(k.id);
        }
    }
    let total: u64 = report.reencrypted.iter().map(|(_, n)| n).sum::<u64>() + report.files;
    let details = Details::new()
        .with("reencrypted", total as i64)
        .with("retired", report.retired.len() as i64);
    let target = audit::Target {
        kind: "data_key",
        id: new_key.clone(),
    };
    audit::record(db, &Actor::cli(), Action::KeysRotated, Some(target), details).await?;
    Ok(report)
}

async fn rotate_files(
    db: &DatabaseConnection,
    files: &FileStore,
    new_key: &str,
    key: &keys::Key,
) -> anyhow::Result<u64> {
    let mut moved = 0;
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut select = Query::select();
        select
            .columns([Alias::new("id"), Alias::new("storage_key"), Alias::new("key_id")])
            .from(Alias::new("job_photos"))
            .cond_where(
                sea_orm::Condition::any()
                    .add(Expr::col(Alias::new("key_id")).is_null())
                    .add(Expr::col(Alias::new("key_id")).ne(new_key)),
            )
            .order_by(Alias::new("id"), Order::Asc)
            .limit(BATCH);
        if let Some(after) = after {
            select.and_where(Expr::col(Alias::new("id")).gt(after));
        }
        let rows = db.query_all(&select).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let id: uuid::Uuid = row.try_get("", "id")?;
            let storage: String = row.try_get("", "storage_key")?;
            let old: Option<String> = row.try_get("", "key_id")?;
            after = Some(id);
            let plain = seal::open_file(db, &files.get(&storage).await?).await?;
            // Written whole under the same name (object stores replace atomically), then the
            // row records the key.
            files
                .put(&storage, seal::seal_file_with(new_key, key, &plain)?)
                .await?;
            let mut update = Query::update();
            update
                .table(Alias::new("job_photos"))
                .value(Alias::new("key_id"), new_key)
                .and_where(Expr::col(Alias::new("id")).eq(id));
            match old {
                Some(old) => update.and_where(Expr::col(Alias::new("key_id")).eq(old)),
                None => update.and_where(Expr::col(Alias::new("key_id")).is_null()),
            };
            db.execute(&update).await?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Does anything still name key `id`?
async fn in_use(db: &DatabaseConnection, id: &str) -> anyhow::Result<bool> {
    let pattern = format!("enc:v1:{id}:%");
    for col in &COLUMNS {
        let mut select = Query::select();
        select
            .column(Alias::new(col.key))
            .from(Alias::new(col.table))
            .and_where(Expr::col(Alias::new(col.column)).like(pattern.as_str()))
            .limit(1);
        if db.query_one(&select).await?.is_some() {
            return Ok(true);
        }
    }
    let mut photos = Query::select();
    photos
        .column(Alias::new("id"))
        .from(Alias::new("job_photos"))
        .and_where(Expr::col(Alias::new("key_id")).eq(id))
        .limit(1);
    Ok(db.query_one(&photos).await?.is_some())
}

/// Where sealed values stand: per column, how many are still stored in plaintext (written
/// before encryption, or restored from an old backup) and how many are under a key older than
/// the newest. For the audit report; rotation fixes both.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Census {
    pub newest_key: Option<String>,
    /// `table.column` (or `files`), plaintext values, values under an older key.
    pub columns: Vec<(String, u64, u64)>,
}

impl Census {
    pub fn plaintext(&self) -> u64 {
        self.columns.iter().map(|(_, p, _)| p).sum()
    }
    pub fn under_older_keys(&self) -> u64 {
        self.columns.iter().map(|(_, _, o)| o).sum()
    }
}

pub async fn census(db: &DatabaseConnection) -> anyhow::Result<Census> {
    let newest = keys::list(db)
        .await?
        .into_iter()
        .filter(|k| k.retired_at.is_none())
        .max_by_key(|k| k.created_at)
        .map(|k| k.id);
    let count = |select: &mut sea_orm::sea_query::SelectStatement| {
        select.expr_as(Expr::col(sea_orm::sea_query::Asterisk).count(), Alias::new("n"));
    };
    let mut census = Census {
        newest_key: newest.clone(),
        columns: Vec::new(),
    };
    let sealed_pattern = format!("{}%", "enc:v1:");
    for col in &COLUMNS {
        let mut plain = Query::select();
        plain
            .from(Alias::new(col.table))
            .and_where(Expr::col(Alias::new(col.column)).is_not_null())
            .and_where(Expr::col(Alias::new(col.column)).not_like(sealed_pattern.as_str()));
        count(&mut plain);
        let mut older = Query::select();
        older
            .from(Alias::new(col.table))
            .and_where(Expr::col(Alias::new(col.column)).like(sealed_pattern.as_str()));
        if let Some(newest) = &newest {
            older
                .and_where(Expr::col(Alias::new(col.column)).not_like(format!("enc:v1:{newest}:%").as_str()));
        }
        count(&mut older);
        census.columns.push((
            format!("{}.{}", col.table, col.column),
            count_of(db, &plain).await?,
            count_of(db, &older).await?,
        ));
    }
    let mut plain_files = Query::select();
    plain_files
        .from(Alias::new("job_photos"))
        .and_where(Expr::col(Alias::new("key_id")).is_null());
    count(&mut plain_files);
    let mut older_files = Query::select();
    older_files
        .from(Alias::new("job_photos"))
        .and_where(Expr::col(Alias::new("key_id")).is_not_null());
    if let Some(newest) = &newest {
        older_files.and_where(Expr::col(Alias::new("key_id")).ne(newest.as_str()));
    }
    count(&mut older_files);
    census.columns.push((
        "files".to_owned(),
        count_of(db, &plain_files).await?,
        count_of(db, &older_files).await?,
    ));
    Ok(census)
}

async fn count_of(
    db: &DatabaseConnection,
    select: &sea_orm::sea_query::SelectStatement,
) -> anyhow::Result<u64> {
    let row = db
        .query_one(select)
        .await?
        .ok_or_else(|| anyhow::anyhow!("COUNT returned no row"))?;
    // COUNT is BIGINT on MySQL and PostgreSQL, INTEGER on SQLite: both read as i64.
    Ok(u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0))
}
