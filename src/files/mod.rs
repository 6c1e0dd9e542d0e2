//! Uploaded files (job photos) behind one interface, in one of two places:
//! - the database (the default): parts of at most [`PART_BYTES`] in `stored_files`, so every
//!   replica reads what another wrote, and a database backup holds the files with the rows
//!   that name them;
//! - a directory (`object_store`'s local file system), outside any folder the server serves,
//!   for one server or a volume every replica mounts.
//!
//! Names are random keys chosen here, never taken from an upload. Callers encrypt before
//! `put` (S-CR-3): neither place ever holds a picture in the clear.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::config::{FilesStore, Settings};

/// The largest part of a file kept in one row: well under MySQL's default packet limit
/// (16 MB on MariaDB, 64 MB on MySQL 8), so no server setting has to change.
pub const PART_BYTES: usize = 1024 * 1024;

pub(crate) mod part {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stored_files")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub part: i32,
        #[sea_orm(column_type = "Blob")]
        pub bytes: Vec<u8>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Clone)]
enum Backend {
    Database(DatabaseConnection),
    Directory(Arc<dyn ObjectStore>),
}

#[derive(Clone)]
pub struct FileStore {
    backend: Backend,
}

impl FileStore {
    /// The store the settings name.
    pub fn open(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<Self> {
        match settings.files_store {
            FilesStore::Database => Ok(Self::database(db.clone())),
            FilesStore::Directory => Self::local(&settings.files_dir()),
        }
    }

    /// Files in the database.
    pub fn database(db: DatabaseConnection) -> Self {
        Self {
            backend: Backend::Database(db),
        }
    }

    /// Files under `dir` (created when missing).
    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("Failed to open the file store at {}", dir.display()))?;
        Ok(Self {
            backend: Backend::Directory(Arc::new(store)),
        })
    }

    /// A new random key under `folder` (`photos/3f…`).
    pub fn new_key(folder: &str) -> String {
        format!("{folder}/{}", crate::crypto::random_token())
    }

    /// Stores `bytes` under `key`, replacing whatever was there as a whole: a reader sees the
    /// old file or the new one, never a mixture (a transaction; a rename on disk).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Directory(store) => {
                store
                    .put(&Key::from(key), PutPayload::from(bytes))
                    .await
                    .context("Failed to store a file")?;
            }
            Backend::Database(db) => {
                // Two files stored at once can deadlock on MariaDB (one's delete holds gap locks
                // the other's insert waits for, and the other way round). The replace is whole,
                // so running it again is safe.
                crate::db::run_again_on_races(|_| false, || put_parts(db, key, &bytes))
                    .await
                    .context("Failed to store a file")?;
            }
        }
        Ok(())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        match &self.backend {
            Backend::Directory(store) => {
                let found = store
                    .get(&Key::from(key))
                    .await
                    .context("Failed to read a stored file")?;
                Ok(found
                    .bytes()
                    .await
                    .context("Failed to read a stored file")?
                    .to_vec())
            }
            Backend::Database(db) => {
                let parts = part::Entity::find()
                    .filter(part::Column::Key.eq(key))
                    .order_by_asc(part::Column::Part)
                    .all(db)
                    .await
                    .context("Failed to read a stored file")?;
                anyhow::ensure!(!parts.is_empty(), "No stored file has this key");
                // Parts are numbered from 0 without gaps; anything else is damage.
                anyhow::ensure!(
                    parts.iter().enumerate().all(|(n, p)| p.part as usize == n),
                    "A stored file is missing a part"
                );
                Ok(parts.into_iter().flat_map(|p| p.bytes).collect())
            }
        }
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Directory(store) => store
                .delete(&Key::from(key))
                .await
                .context("Failed to delete a stored file"),
            Backend::Database(db) => {
                part::Entity::delete_many()
                    .filter(part::Column::Key.eq(key))
                    .exec(db)
                    .await
                    .context("Failed to delete a stored file")?;
                Ok(())
            }
        }
    }

    /// Where files are kept, for the security report and logs.
    pub fn describe(&self) -> &'static str {
        match &self.backend {
            Backend::Database(_) => "database",
            Backend::Directory(_) => "directory",
        }
    }
}

/// Replaces the parts of `key` in one transaction. One statement a part: each stays far below
/// the packet limit. An empty file is one empty part, so it still exists.
async fn put_parts(db: &DatabaseConnection, key: &str, bytes: &[u8]) -> Result<(), sea_orm::DbErr> {
    let tx = crate::db::begin(db).await?;
    part::Entity::delete_many()
        .filter(part::Column::Key.eq(key))
        .exec(&tx)
        .await?;
    let now = chrono::Utc::now();
    let parts: Vec<&[u8]> = if bytes.is_empty() {
        vec![&[]]
    } else {
        bytes.chunks(PART_BYTES).collect()
    };
    for (n, chunk) in (0_i32..).zip(parts) {
        part::Entity::insert(part::ActiveModel {
            key: Set(key.to_owned()),
            part: Set(n),
            bytes: Set(chunk.to_vec()),
            created_at: Set(now),
        })
        .exec_without_returning(&tx)
        .await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(store: &FileStore) {
        let key = FileStore::new_key("photos");
        assert!(key.starts_with("photos/") && key.len() == "photos/".len() + 64);
        store.put(&key, b"bytes".to_vec()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), b"bytes");
        // Replaced whole, by a file of several parts, then by a shorter one.
        let big: Vec<u8> = (0..PART_BYTES * 2 + 17).map(|i| (i % 251) as u8).collect();
        store.put(&key, big.clone()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), big);
        store.put(&key, b"short".to_vec()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), b"short");
        store.put(&key, Vec::new()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), b"");
        store.delete(&key).await.unwrap();
        assert!(store.get(&key).await.is_err());
        assert!(store.get("photos/never-written").await.is_err());
    }

    #[tokio::test]
    async fn files_round_trip_under_random_keys_in_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        round_trip(&store).await;
    }

    #[tokio::test]
    async fn files_round_trip_in_the_database_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("files.db").display());
        let db = crate::db::connect(&secrecy::SecretString::from(url), 2)
            .await
            .unwrap();
        crate::db::migrate(&db).await.unwrap();
        let store = FileStore::database(db.clone());
        round_trip(&store).await;
        let key = FileStore::new_key("photos");
        store.put(&key, vec![7; PART_BYTES + 1]).await.unwrap();
        let parts = part::Entity::find()
            .filter(part::Column::Key.eq(key.as_str()))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(
            parts.iter().map(|p| p.bytes.len()).collect::<Vec<_>>(),
            vec![PART_BYTES, 1]
        );
        // A lost part is damage, not a shorter photo.
        part::Entity::delete_many()
            .filter(part::Column::Key.eq(key.as_str()))
            .filter(part::Column::Part.eq(0))
            .exec(&db)
            .await
            .unwrap();
        assert!(store.get(&key).await.is_err());
    }
}
