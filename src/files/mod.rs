//! Uploaded files (job photos) behind one storage interface (`object_store`): a local
//! directory by default, outside any folder the server serves; an S3-compatible private
//! bucket plugs in the same way for replicas that must share files. Names are random keys
//! chosen here, never taken from an upload.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
}

impl FileStore {
    /// Files under `dir` (created when missing).
    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("Failed to open the file store at {}", dir.display()))?;
        Ok(Self {
            inner: Arc::new(store),
        })
    }

    /// A new random key under `folder` (`photos/3f…`).
    pub fn new_key(folder: &str) -> String {
        format!("{folder}/{}", crate::crypto::random_token())
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.inner
            .put(&Key::from(key), PutPayload::from(bytes))
            .await
            .context("Failed to store a file")?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let found = self
            .inner
            .get(&Key::from(key))
            .await
            .context("Failed to read a stored file")?;
        Ok(found
            .bytes()
            .await
            .context("Failed to read a stored file")?
            .to_vec())
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.inner
            .delete(&Key::from(key))
            .await
            .context("Failed to delete a stored file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_round_trip_under_random_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        let key = FileStore::new_key("photos");
        assert!(key.starts_with("photos/") && key.len() == "photos/".len() + 64);
        store.put(&key, b"bytes".to_vec()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), b"bytes");
        store.delete(&key).await.unwrap();
        assert!(store.get(&key).await.is_err());
    }
}
