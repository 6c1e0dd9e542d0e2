//! The application's state: what every handler can reach, built once by `startup`. It sits
//! below the routers (handlers import it, it imports no handler), so the composition root can
//! name every router without a cycle back through the state.

use std::path::PathBuf;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use crate::auth::PasswordHasher;
use crate::config::Settings;

/// What every handler can reach: one shared value, so the per-request clones that axum makes
/// (one per extractor, one more per route layer) are a reference count, not a copy of every
/// pool, cache and key handle.
#[derive(Clone)]
pub struct AppState(Arc<AppServices>);

impl std::ops::Deref for AppState {
    type Target = AppServices;

    fn deref(&self) -> &AppServices {
        &self.0
    }
}

impl From<AppServices> for AppState {
    fn from(services: AppServices) -> Self {
        Self(Arc::new(services))
    }
}

/// The parts of the application state.
pub struct AppServices {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// The SQLite file, when that is the database (readiness checks it exists).
    pub sqlite_file: Option<Arc<PathBuf>>,
    pub hasher: PasswordHasher,
    pub secret_key: SecretString,
    pub mailer: crate::mail::Mailer,
    pub throttle_rules: Arc<crate::auth::throttle::Rules>,
    pub auth_cache: crate::auth::cache::AuthCache,
    /// Who takes deposits (Stripe, or the local stand-in in development).
    pub payments: Arc<dyn crate::payments::provider::PaymentProvider>,
    /// The key payment webhooks are signed with.
    pub webhook_secret: SecretString,
    /// Uploaded files (job photos).
    pub files: crate::files::FileStore,
    /// Addresses blocked by the automatic defence.
    pub blocks: crate::defence::BlockList,
    /// Redis, shared by the replicas, when `redis_url` is set.
    pub shared: Option<Arc<crate::replica_sync::Shared>>,
    /// Request budgets (S-DE-3), when on.
    pub rate: Option<Arc<crate::defence::rate::RateGuard>>,
    /// NREL's PVWatts API, when a key is configured.
    pub pvwatts_api: Option<Arc<crate::sizing::pvwatts_api::PvWattsApi>>,
}
