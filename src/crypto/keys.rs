//! The key ring of encryption at rest (S-CR-3). Data keys (256-bit, random) encrypt the fields;
//! each is stored wrapped (encrypted) by a `KeyProvider` holding the master key, in `data_keys`,
//! with its id. The newest key that is not retired encrypts; any known key decrypts, so a
//! rotation can run while the servers do. The master key never reaches the database.
//!
//! `KeyProvider` is the seam for a cloud KMS: `LocalKeyProvider` wraps with XChaCha20-Poly1305
//! under a master key from a file or the environment; a KMS adapter would call the KMS's
//! encrypt and decrypt instead.
//!
//! Unwrapped keys are cached by id for the life of the process. Ids are random UUIDs, so keys
//! of different databases never collide in the cache, and providers are tried in turn (the
//! AEAD tag tells which one wrapped a key).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use zeroize::Zeroizing;

/// A 256-bit key, wiped from memory when dropped.
pub type Key = Zeroizing<[u8; 32]>;

/// Wraps and unwraps data keys under a master key it alone holds.
pub trait KeyProvider: Send + Sync {
    /// Stored with each wrapped key (`local`, `aws-kms`, …).
    fn name(&self) -> &'static str;
    fn wrap(&self, key_id: &str, key: &Key) -> anyhow::Result<Vec<u8>>;
    fn unwrap(&self, key_id: &str, wrapped: &[u8]) -> anyhow::Result<Key>;
}

/// The master key in process memory: from `master_key` / `master_key_file`, or a development
/// file in the data directory.
pub struct LocalKeyProvider {
    master: Key,
}

impl LocalKeyProvider {
    /// From 32 bytes given as 64 hex characters or base64.
    pub fn from_encoded(encoded: &str) -> anyhow::Result<Self> {
        let encoded = encoded.trim();
        let bytes = hex::decode(encoded)
            .ok()
            .or_else(|| B64.decode(encoded).ok())
            .context("the master key is neither hex nor base64")?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("the master key must be 32 bytes (256 bits)"))?;
        Ok(Self {
            master: Zeroizing::new(master),
        })
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.master).into())
    }
}

/// The wrapping binds each key to its id, so wrapped keys cannot be swapped between rows.
fn wrap_aad(key_id: &str) -> Vec<u8> {
    format!("sunbridge-data-key-v1|{key_id}").into_bytes()
}

impl KeyProvider for LocalKeyProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    fn wrap(&self, key_id: &str, key: &Key) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let aad = wrap_aad(key_id);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &key[..],
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("wrapping a data key failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn unwrap(&self, key_id: &str, wrapped: &[u8]) -> anyhow::Result<Key> {
        anyhow::ensure!(wrapped.len() > 24, "a wrapped data key is too short");
        let (nonce, sealed) = wrapped.split_at(24);
        let aad = wrap_aad(key_id);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| anyhow::anyhow!("this master key did not wrap data key {key_id}"))?,
        );
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("data key {key_id} is not 32 bytes"))?;
        Ok(Zeroizing::new(key))
    }
}

fn providers() -> &'static RwLock<Vec<Arc<dyn KeyProvider>>> {
    static PROVIDERS: OnceLock<RwLock<Vec<Arc<dyn KeyProvider>>>> = OnceLock::new();
    PROVIDERS.get_or_init(Default::default)
}

fn cache() -> &'static RwLock<HashMap<String, Arc<Key>>> {
    static KEYS: OnceLock<RwLock<HashMap<String, Arc<Key>>>> = OnceLock::new();
    KEYS.get_or_init(Default::default)
}

/// Makes a provider available to this process (the server and the CLI register theirs at
/// start-up).
pub fn register(provider: Arc<dyn KeyProvider>) {
    if let Ok(mut list) = providers().write() {
        list.insert(0, provider);
    }
}

pub(crate) mod store {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "data_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub provider: String,
        /// The key wrapped by the provider, base64.
        pub wrapped: String,
        pub created_at: ChronoDateTimeUtc,
        /// Set once nothing is encrypted under the key any more.
        pub retired_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn unwrap_with_any(key_id: &str, wrapped: &[u8]) -> anyhow::Result<Key> {
    let list = providers()
        .read()
        .map_err(|_| anyhow::anyhow!("the key providers are unavailable"))?;
    anyhow::ensure!(!list.is_empty(), "no key provider is configured");
    list.iter()
        .find_map(|p| p.unwrap(key_id, wrapped).ok())
        .ok_or_else(|| anyhow::anyhow!("no configured master key opens data key {key_id}"))
}

/// The data key `id`.
pub async fn key<C: ConnectionTrait>(conn: &C, id: &str) -> anyhow::Result<Arc<Key>> {
    if let Some(key) = cache().read().ok().and_then(|c| c.get(id).cloned()) {
        return Ok(key);
    }
    let row = store::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("data key {id} does not exist"))?;
    let wrapped = B64
        .decode(&row.wrapped)
        .context("a wrapped data key is not base64")?;
    let key = Arc::new(unwrap_with_any(id, &wrapped)?);
    if let Ok(mut c) = cache().write() {
        c.insert(id.to_owned(), key.clone());
    }
    Ok(key)
}

/// Creates a new data key, which becomes the one that encrypts.
pub async fn create<C: ConnectionTrait>(conn: &C) -> anyhow::Result<String> {
    let provider = providers()
        .read()
        .map_err(|_| anyhow::anyhow!("the key providers are unavailable"))?
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no key provider is configured"))?;
    let id = uuid::Uuid::now_v7().to_string();
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut bytes[..]);
    let wrapped = provider.wrap(&id, &bytes)?;
    store::Entity::insert(store::ActiveModel {
        id: Set(id.clone()),
        provider: Set(provider.name().to_owned()),
        wrapped: Set(B64.encode(wrapped)),
        created_at: Set(crate::audit::chain::storable(Utc::now())),
        retired_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    if let Ok(mut c) = cache().write() {
        c.insert(id.clone(), Arc::new(bytes));
    }
    Ok(id)
}

/// The key that encrypts now: the newest one not retired (created on first use).
pub async fn active<C: ConnectionTrait>(conn: &C) -> anyhow::Result<(String, Arc<Key>)> {
    let newest = store::Entity::find()
        .filter(store::Column::RetiredAt.is_null())
        .order_by_desc(store::Column::CreatedAt)
        .order_by_desc(store::Column::Id)
        .one(conn)
        .await?;
    let id = match newest {
        Some(row) => row.id,
        None => create(conn).await?,
    };
    let key = key(conn, &id).await?;
    Ok((id, key))
}

/// A data key as listed by `sunbridge keys list` and the audit report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub provider: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<KeyInfo>, DbErr> {
    Ok(store::Entity::find()
        .order_by_asc(store::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(|k| KeyInfo {
            id: k.id,
            provider: k.provider,
            created_at: k.created_at,
            retired_at: k.retired_at,
        })
        .collect())
}

pub(crate) async fn retire<C: ConnectionTrait>(conn: &C, id: &str) -> Result<(), DbErr> {
    store::Entity::update_many()
        .col_expr(
            store::Column::RetiredAt,
            Expr::value(crate::audit::chain::storable(Utc::now())),
        )
        .filter(store::Column::Id.eq(id))
        .filter(store::Column::RetiredAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_with_its_master_key_and_id_only() {
        let a = LocalKeyProvider::from_encoded(&"11".repeat(32)).unwrap();
        let b = LocalKeyProvider::from_encoded(&"22".repeat(32)).unwrap();
        let key = Zeroizing::new([7u8; 32]);
        let wrapped = a.wrap("k1", &key).unwrap();
        assert_eq!(*a.unwrap("k1", &wrapped).unwrap(), [7u8; 32]);
        assert!(b.unwrap("k1", &wrapped).is_err(), "another master key");
        assert!(a.unwrap("k2", &wrapped).is_err(), "another key id");
        assert!(!wrapped.windows(32).any(|w| w == [7u8; 32]));
    }

    #[test]
    fn master_keys_are_256_bits_in_hex_or_base64() {
        assert!(LocalKeyProvider::from_encoded(&"ab".repeat(32)).is_ok());
        assert!(LocalKeyProvider::from_encoded(&B64.encode([1u8; 32])).is_ok());
        assert!(LocalKeyProvider::from_encoded("short").is_err());
        assert!(LocalKeyProvider::from_encoded(&"ab".repeat(16)).is_err());
    }
}
