//! The application's state: what every handler can reach, built once by `startup`. It sits
//! below the routers (handlers import it, it imports no handler), so the composition root can
//! name every router without a cycle back through the state.

use std::path::PathBuf;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use crate::auth::PasswordHasher;
use crate::auth::login::LoginContext;
use crate::auth::session::TokenLifetimes;
use crate::auth::signup::SignupContext;
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
    /// Changes for the screens that stay open (offers, job steps).
    pub live: crate::marketplace::live::Live,
    /// Web Push: our VAPID key and the guarded client pushes go through.
    pub push: crate::push::Sender,
}

impl AppServices {
    /// What sign-up, email confirmation and profile changes need.
    pub fn signup_context(&self) -> SignupContext<'_> {
        SignupContext {
            db: &self.db,
            hasher: &self.hasher,
            mailer: &self.mailer,
            public_url: &self.settings.public_url,
            token_ttl: self.settings.links().email_token,
        }
    }

    /// What sign-in, tokens, second factors and password changes need.
    pub fn login_context(&self) -> LoginContext<'_> {
        LoginContext {
            db: &self.db,
            hasher: &self.hasher,
            mailer: &self.mailer,
            secret_key: &self.secret_key,
            rules: &self.throttle_rules,
            counters: match &self.shared {
                Some(shared) => crate::auth::throttle::Counters::Shared(shared),
                None => crate::auth::throttle::Counters::Database(&self.db),
            },
            auth_cache: &self.auth_cache,
            public_url: &self.settings.public_url,
            browser: crate::auth::session::BrowserLifetimes {
                absolute: self.settings.sessions().absolute,
            },
            lifetimes: TokenLifetimes {
                access: self.settings.sessions().access_token,
                refresh: self.settings.sessions().refresh_token,
            },
        }
    }
}
