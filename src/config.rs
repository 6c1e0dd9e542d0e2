//! Typed settings: built-in defaults < optional TOML file < `SUNBRIDGE_*` environment variables.
//!
//! Every key is flat so that a file key and its environment variable map one to one
//! (`database_url` ⇔ `SUNBRIDGE_DATABASE_URL`). Secrets are `SecretString`s: they never reach
//! `Debug`, logs or error messages. `Settings::production_problems` lists every setting that is
//! unsafe in production; `serve` refuses to start while the list is not empty. The code reads
//! periods through grouped views (`sessions()`, `links()`, `market()`, `workers()`) as
//! durations, so seconds and milliseconds are converted here and nowhere else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::TimeDelta;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::values::PhotoSubject;

/// Shortest accepted `secret_key`, in bytes (256 bits when random).
pub const MIN_SECRET_LEN: usize = 32;

/// Values that appear in documentation or examples; a key equal to one of them is public.
const PLACEHOLDER_SECRETS: &[&str] = &[
    "change-me",
    "changeme",
    "secret",
    "sunbridge",
    "replace-with-a-long-random-secret-of-at-least-32-bytes",
];

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// One `.eml` file per message in `<data_dir>/mail/`: for development and tests.
    #[default]
    File,
    Smtp,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProvider {
    /// A local stand-in with the same checkout and signed-webhook behaviour: development only.
    #[default]
    Dev,
    /// Stripe Checkout and Stripe-signed webhooks.
    Stripe,
}

/// Where uploaded files (job photos) are kept.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FilesStore {
    /// In the database, beside the rows that name them: every replica sees them, and a
    /// database backup holds them.
    #[default]
    Database,
    /// In `files_dir` on this host: one server, or a volume shared by all replicas.
    Directory,
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub env: Environment,
    /// Address the HTTP(S) server binds to.
    pub listen: SocketAddr,
    /// The URL users reach the service at; links in emails are built from it, never from `Host`.
    pub public_url: Url,
    /// Local state of the embedded default: the SQLite database, dev mail, dev secret.
    pub data_dir: PathBuf,
    /// `sqlite://…`, `mysql://…` or `postgres://…`; may carry a password, hence secret.
    pub database_url: Option<SecretString>,
    pub database_max_connections: u32,
    /// Migrate the database when `serve` starts (turn off when a migration job does it).
    pub auto_migrate: bool,
    /// Peers whose `X-Forwarded-For` is believed (CIDR list; comma-separated in the env).
    #[serde(deserialize_with = "list_or_csv")]
    pub trusted_proxies: Vec<IpNet>,
    /// A trusted proxy terminates TLS in front of us: responses carry HSTS.
    pub behind_tls_proxy: bool,
    /// Host names answered besides `public_url`'s (S-AC-10); any other `Host` gets 400.
    /// Comma-separated in the env. Development also answers loopback names.
    #[serde(deserialize_with = "strings_or_csv")]
    pub allowed_hosts: Vec<String>,
    /// Web origins (exactly `https://host[:port]`) whose scripts may call the JSON API
    /// (S-AC-9). Empty: no cross-origin access. Never with credentials; pages never.
    #[serde(deserialize_with = "strings_or_csv")]
    pub cors_allowed_origins: Vec<String>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Largest request body accepted (413 beyond); uploads get their own limits.
    pub body_limit_bytes: usize,
    /// Largest upload (Green Button files; S-SF-2: 20 MB) on the routes declared as uploads.
    pub upload_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Key for signed cookies and tokens. Development generates one in `data_dir`.
    pub secret_key: Option<SecretString>,
    pub mail_transport: MailTransport,
    pub mail_from: String,
    pub smtp_url: Option<SecretString>,
    /// First delay before a failed message is tried again; it doubles up to 128 times this.
    pub mail_retry_base_secs: u64,
    /// Lifetime of API access tokens (S-AU-5: at most 10 minutes).
    pub access_token_ttl_secs: u64,
    /// Lifetime of an API sign-in, however often its refresh token is used (S-AU-5: 30 days).
    pub refresh_token_ttl_secs: u64,
    /// Browser sessions end after this long without a request: customers (S-AU-5: 30 min)…
    pub session_idle_secs: u64,
    /// …and staff (15 min).
    pub staff_session_idle_secs: u64,
    /// Browser sessions end this long after sign-in, however active (S-AU-5: 12 h).
    pub session_absolute_secs: u64,
    /// How long an API token lookup may be served from memory (0 = never). Changes on this
    /// replica clear the cache at once; this bounds how late other replicas see them.
    pub auth_cache_ttl_ms: u64,
    /// How often spent sessions, tokens and delivered mail are deleted (0 = never).
    pub housekeeping_interval_secs: u64,
    /// S-AU-7: sensitive changes need a sign-in or re-authentication this recent (5 minutes).
    pub reauth_window_secs: u64,
    /// How long a staff member's access to one customer's personal data lasts (S-AC-5: 60 min).
    pub access_grant_ttl_secs: u64,
    /// How long the link in a staff invitation works (they set a password, then enrol MFA).
    pub staff_invite_ttl_secs: u64,
    /// How long links in verification and reset emails work (S-AU-8: 30 minutes).
    pub email_token_ttl_secs: u64,
    /// `tracing` filter directive for our own crate, e.g. `info` or `sunbridge=debug`.
    pub log_level: String,
    /// Mounts `/__test/*` routes that fail on purpose, for the black-box tests.
    pub debug_routes: bool,
    /// Who takes deposits: `dev` (local stand-in) or `stripe`.
    pub payment_provider: PaymentProvider,
    /// The key payment webhooks are signed with (S-IT-2). Development derives one from
    /// `secret_key` when unset.
    pub payment_webhook_secret: Option<SecretString>,
    /// Stripe's secret API key, for creating checkouts.
    pub stripe_api_key: Option<SecretString>,
    /// Where Stripe's API is (a local stand-in in tests, with `outbound_allow_local`).
    pub stripe_api_url: Url,
    /// How long a crew has to accept an offered job before it moves to the next crew.
    pub offer_timeout_secs: u64,
    /// How often expired offers are moved on.
    pub dispatch_interval_secs: u64,
    /// The earliest bookable day, counted from today (a crew needs notice).
    pub booking_lead_days: u32,
    /// How far ahead customers may book.
    pub booking_horizon_days: u32,
    /// Customers may move a booked visit until this many hours before its arrival window
    /// starts; after that, support moves it (with a reason).
    pub reschedule_lead_hours: u32,
    /// How long a quote's price holds: it can be accepted until then, and says so.
    pub quote_valid_days: u32,
    /// The company's name and how customers reach it, printed on every quote.
    pub company_name: String,
    pub company_contact: String,
    /// Largest photo upload accepted (S-SF-3).
    pub photo_limit_bytes: usize,
    /// The photos a crew must have taken before it may record the survey, and the
    /// installation (comma-separated in the env; empty: none required).
    #[serde(deserialize_with = "subjects_or_csv")]
    pub survey_photos: Vec<PhotoSubject>,
    #[serde(deserialize_with = "subjects_or_csv")]
    pub install_photos: Vec<PhotoSubject>,
    /// Where uploaded files (job photos) are kept: `database` (the default) or `directory`.
    pub files_store: FilesStore,
    /// The folder of the `directory` file store; `data_dir/files` when unset. Never a folder
    /// the server serves as static files.
    pub files_dir: Option<PathBuf>,
    /// Lets outgoing calls reach loopback and private addresses over plain http, for local
    /// stand-ins of outside services in development and tests (S-SF-1 refuses it otherwise).
    pub outbound_allow_local: bool,
    /// The key audit checkpoints are signed with (S-IT-1). Keep it out of the database's
    /// reach; derived from `secret_key` when unset.
    pub audit_checkpoint_key: Option<SecretString>,
    /// How often each server writes a signed checkpoint of the audit chain (when it grew).
    pub audit_checkpoint_secs: u64,
    /// The master key of encryption at rest (S-CR-3): 32 bytes as hex or base64. It wraps the
    /// data keys and never reaches the database.
    pub master_key: Option<SecretString>,
    /// …or a file holding it (a mounted Kubernetes Secret, say).
    pub master_key_file: Option<PathBuf>,
    /// Where Prometheus scrapes `/metrics`: an address of its own, never the public listener
    /// (S-LG-3). Off when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// A bearer token the scraper must send, when the metrics address is reachable by more
    /// than the scraper.
    pub metrics_token: Option<SecretString>,
    /// Authentication failures (sign-in, second factor, re-authentication) from one address
    /// within `block_window_secs` that block it for `block_secs` (0 = never).
    pub block_auth_failures: u64,
    /// Authorization failures (refused routes, other people's objects) that do the same.
    pub block_authz_failures: u64,
    pub block_window_secs: u64,
    /// Request budgets (S-DE-3) of one caller (token or session), per class of route: so many
    /// a minute, with bursts of so many. A client address without a proved credential gets
    /// `rate_address_factor` times as much. `rate_limits = false` turns them off (not allowed
    /// in production).
    pub rate_limits: bool,
    pub rate_read_per_min: u32,
    pub rate_read_burst: u32,
    pub rate_write_per_min: u32,
    pub rate_write_burst: u32,
    pub rate_expensive_per_min: u32,
    pub rate_expensive_burst: u32,
    pub rate_address_factor: u32,
    pub block_secs: u64,
    /// First delay before a failed webhook delivery is retried; it doubles up to 128 times.
    pub webhook_retry_base_secs: u64,
    /// How often due webhook deliveries are sent.
    pub webhook_interval_secs: u64,
    /// NREL's API key: regions without a weather file are then simulated by the PVWatts API
    /// for each home's coordinates, instead of the region's yield.
    pub nrel_api_key: Option<SecretString>,
    pub nrel_api_url: Url,
    /// Redis shared by the replicas: throttle counters, and invalidations of token caches and
    /// block lists. Without it the database is the source of truth (correct, slower).
    pub redis_url: Option<SecretString>,
    /// The prefix of every Redis key and channel.
    pub redis_prefix: String,
}

impl Default for Settings {
    #[allow(clippy::expect_used)] // a constant URL
    fn default() -> Self {
        Self {
            env: Environment::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: Url::parse("http://127.0.0.1:8080/").expect("static URL parses"),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 10,
            auto_migrate: true,
            trusted_proxies: Vec::new(),
            behind_tls_proxy: false,
            allowed_hosts: Vec::new(),
            cors_allowed_origins: Vec::new(),
            tls_cert_file: None,
            tls_key_file: None,
            body_limit_bytes: 1024 * 1024,
            upload_limit_bytes: 20 * 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            secret_key: None,
            mail_transport: MailTransport::File,
            mail_from: "Sunbridge <no-reply@sunbridge.localhost>".into(),
            smtp_url: None,
            mail_retry_base_secs: 30,
            email_token_ttl_secs: 30 * 60,
            access_token_ttl_secs: 10 * 60,
            reauth_window_secs: 5 * 60,
            access_grant_ttl_secs: 60 * 60,
            staff_invite_ttl_secs: 72 * 3600,
            session_idle_secs: 30 * 60,
            staff_session_idle_secs: 15 * 60,
            session_absolute_secs: 12 * 3600,
            auth_cache_ttl_ms: 1000,
            housekeeping_interval_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            log_level: "info".into(),
            debug_routes: false,
            payment_provider: PaymentProvider::Dev,
            payment_webhook_secret: None,
            stripe_api_key: None,
            stripe_api_url: Url::parse("https://api.stripe.com/").expect("static URL parses"),
            offer_timeout_secs: 4 * 3600,
            dispatch_interval_secs: 30,
            booking_lead_days: 2,
            quote_valid_days: 30,
            company_name: "Sunbridge Solar".into(),
            company_contact: "support@sunbridge.localhost".into(),
            booking_horizon_days: 42,
            reschedule_lead_hours: 48,
            photo_limit_bytes: 10 * 1024 * 1024,
            survey_photos: vec![PhotoSubject::Roof, PhotoSubject::Meter],
            install_photos: vec![PhotoSubject::Array, PhotoSubject::Inverter, PhotoSubject::Labels],
            files_store: FilesStore::Database,
            files_dir: None,
            outbound_allow_local: false,
            audit_checkpoint_key: None,
            audit_checkpoint_secs: 10,
            master_key: None,
            master_key_file: None,
            metrics_listen: None,
            metrics_token: None,
            block_auth_failures: 50,
            block_authz_failures: 30,
            block_window_secs: 600,
            // A person reads a page or screen a second at most; a phone app that opens with a
            // handful of calls bursts. One token measured making 30,000 requests a second.
            rate_limits: true,
            rate_read_per_min: 600,
            rate_read_burst: 120,
            rate_write_per_min: 120,
            rate_write_burst: 30,
            rate_expensive_per_min: 12,
            rate_expensive_burst: 10,
            rate_address_factor: 5,
            block_secs: 3600,
            webhook_retry_base_secs: 30,
            webhook_interval_secs: 5,
            nrel_api_key: None,
            nrel_api_url: Url::parse("https://developer.nrel.gov/api/pvwatts/v8.json")
                .expect("static URL parses"),
            redis_url: None,
            redis_prefix: "sunbridge".into(),
        }
    }
}

impl std::fmt::Debug for Settings {
    // Hand-written so that a future field cannot leak a secret through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("env", &self.env)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url.as_str())
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_backend_name())
            .field("tls", &self.tls_enabled())
            .field("behind_tls_proxy", &self.behind_tls_proxy)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("mail_transport", &self.mail_transport)
            .field("log_level", &self.log_level)
            .field("payment_provider", &self.payment_provider)
            .finish_non_exhaustive()
    }
}

fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Csv(String),
    }
    let items = match Raw::deserialize(d)? {
        Raw::List(v) => v,
        Raw::Csv(s) => s.split(',').map(str::to_owned).collect(),
    };
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            // A bare address means that one host.
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an IP address or CIDR range")))
        })
        .collect()
}

/// A list of words, from a TOML array or a comma-separated environment value.
fn strings_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Csv(String),
    }
    let items = match Raw::deserialize(d)? {
        Raw::List(v) => v,
        Raw::Csv(s) => s.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

fn subjects_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PhotoSubject>, D::Error> {
    let mut subjects = Vec::new();
    for name in strings_or_csv(d)? {
        let subject = PhotoSubject::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{name}` is not a photo subject (one of {})",
                PhotoSubject::ALL.map(PhotoSubject::as_str).join(", ")
            ))
        })?;
        if !subjects.contains(&subject) {
            subjects.push(subject);
        }
    }
    Ok(subjects)
}

/// Why `origin` is not an exact web origin we can allow, if it is not.
fn origin_problem(origin: &str, production: bool) -> Option<String> {
    let Ok(url) = Url::parse(origin) else {
        return Some(format!("cors_allowed_origins: `{origin}` is not a URL"));
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback && !production);
    let exact = url.origin().ascii_serialization() == origin.trim_end_matches('/');
    if !scheme_ok || !exact || origin.contains('*') || url.path() != "/" || url.query().is_some() {
        return Some(format!(
            "cors_allowed_origins: `{origin}` must be an exact https origin such as https://app.example.com (no path, no wildcard)"
        ));
    }
    None
}

/// The longest period a setting can mean: a hundred years. Dates stay far inside what
/// `chrono` can add to `now` without panicking.
const LONGEST: TimeDelta = TimeDelta::days(36_500);

/// A period from the settings as a signed duration for date arithmetic, at most `LONGEST`.
fn delta(secs: u64) -> TimeDelta {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .map_or(LONGEST, |d| d.min(LONGEST))
}

/// How long sign-ins and what they grant last (S-AU-5, S-AU-7).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SessionPeriods {
    /// An API access token.
    pub access_token: TimeDelta,
    /// An API sign-in, however often its refresh token is used.
    pub refresh_token: TimeDelta,
    /// A customer's browser session without a request.
    pub idle: TimeDelta,
    /// A staff member's browser session without a request.
    pub staff_idle: TimeDelta,
    /// A browser session from sign-in, however active.
    pub absolute: TimeDelta,
    /// How recent a sign-in or re-authentication a sensitive change needs.
    pub reauth_window: TimeDelta,
    /// How long a token lookup may be served from memory.
    pub auth_cache: Duration,
}

/// How long the links and grants we hand out work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkPeriods {
    /// Links in verification and password-reset emails (S-AU-8).
    pub email_token: TimeDelta,
    /// The link in a staff invitation.
    pub staff_invite: TimeDelta,
    /// A staff member's access to one customer's personal data (S-AC-5).
    pub access_grant: TimeDelta,
}

/// The marketplace's clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarketPeriods {
    /// How long a crew has to accept an offer.
    pub offer_timeout: TimeDelta,
    /// How often expired offers are moved on.
    pub dispatch_interval: Duration,
}

/// How often background work runs, and how the server waits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerPeriods {
    /// Spent sessions, tokens and delivered mail deleted (zero: never).
    pub housekeeping: Duration,
    /// A signed checkpoint of the audit chain.
    pub audit_checkpoint: Duration,
    /// First delay before failed mail is retried (at least a second).
    pub mail_retry_base: Duration,
    /// First delay before a failed webhook delivery is retried (at least a second).
    pub webhook_retry_base: Duration,
    /// How often due webhook deliveries are sent (at least a second).
    pub webhook_interval: Duration,
    /// The longest a request may take.
    pub request_timeout: Duration,
    /// How long in-flight work may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
}

/// The flat keys (`session_idle_secs`, `SUNBRIDGE_SESSION_IDLE_SECS`) stay what users write;
/// the code reads them through these groups, as durations, so a unit is converted in one place.
impl Settings {
    pub fn sessions(&self) -> SessionPeriods {
        SessionPeriods {
            access_token: delta(self.access_token_ttl_secs),
            refresh_token: delta(self.refresh_token_ttl_secs),
            idle: delta(self.session_idle_secs),
            staff_idle: delta(self.staff_session_idle_secs),
            absolute: delta(self.session_absolute_secs),
            reauth_window: delta(self.reauth_window_secs),
            auth_cache: Duration::from_millis(self.auth_cache_ttl_ms),
        }
    }

    pub fn links(&self) -> LinkPeriods {
        LinkPeriods {
            email_token: delta(self.email_token_ttl_secs),
            staff_invite: delta(self.staff_invite_ttl_secs),
            access_grant: delta(self.access_grant_ttl_secs),
        }
    }

    pub fn market(&self) -> MarketPeriods {
        MarketPeriods {
            offer_timeout: delta(self.offer_timeout_secs),
            dispatch_interval: Duration::from_secs(self.dispatch_interval_secs),
        }
    }

    pub fn workers(&self) -> WorkerPeriods {
        WorkerPeriods {
            housekeeping: Duration::from_secs(self.housekeeping_interval_secs),
            audit_checkpoint: Duration::from_secs(self.audit_checkpoint_secs),
            mail_retry_base: Duration::from_secs(self.mail_retry_base_secs.max(1)),
            webhook_retry_base: Duration::from_secs(self.webhook_retry_base_secs.max(1)),
            webhook_interval: Duration::from_secs(self.webhook_interval_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }
}

impl Settings {
    /// The host names requests may name in `Host` (S-AC-10), lower case.
    pub fn allowed_host_names(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self
            .public_url
            .host_str()
            .into_iter()
            .map(str::to_owned)
            .collect();
        hosts.extend(self.allowed_hosts.iter().cloned());
        if !self.is_production() {
            hosts.extend(["localhost", "127.0.0.1", "[::1]"].map(str::to_owned));
        }
        hosts
            .iter()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .collect()
    }

    /// The request budgets, when they are on.
    pub fn rate_budgets(&self) -> Option<crate::http::rate_limit::Budgets> {
        use crate::http::rate_limit::{Budget, Budgets};
        self.rate_limits.then_some(Budgets {
            read: Budget {
                per_minute: self.rate_read_per_min,
                burst: self.rate_read_burst,
            },
            write: Budget {
                per_minute: self.rate_write_per_min,
                burst: self.rate_write_burst,
            },
            expensive: Budget {
                per_minute: self.rate_expensive_per_min,
                burst: self.rate_expensive_burst,
            },
            address_factor: self.rate_address_factor,
        })
    }

    /// Reads settings from the text of a configuration file alone (defaults for the rest).
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Figment::new()
            .merge(Toml::string(text))
            .extract()
            .context("Failed to read the configuration")
    }

    /// Loads defaults, then `file` (when given), then `SUNBRIDGE_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            anyhow::ensure!(
                file.is_file(),
                "configuration file {} does not exist",
                file.display()
            );
            figment = figment.merge(Toml::file(file));
        }
        // SUNBRIDGE_CONFIG names the file; SUNBRIDGE_TEST_* belong to the test suite.
        let env = Env::prefixed("SUNBRIDGE_")
            .filter(|key| key != "config" && !key.as_str().to_ascii_lowercase().starts_with("test_"));
        figment
            .merge(env)
            .extract()
            .context("Failed to read the configuration")
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }

    /// The largest body any route takes: the outer cap, before a route's own limit.
    pub fn largest_body_bytes(&self) -> usize {
        self.body_limit_bytes.max(self.upload_limit_bytes)
    }

    /// Clients reach us over HTTPS, directly or through the TLS proxy: send HSTS.
    pub fn https_for_clients(&self) -> bool {
        self.tls_enabled() || (self.behind_tls_proxy && !self.trusted_proxies.is_empty())
    }

    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join("sunbridge.db");
                SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
            }
        }
    }

    pub fn database_backend_name(&self) -> &'static str {
        let url = self.database_url();
        let url = url.expose_secret();
        if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            "mysql"
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            "postgres"
        } else if url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "unknown"
        }
    }

    /// Problems that make any environment refuse to start.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            problems.push("tls_cert_file and tls_key_file must be set together".into());
        }
        if self.database_backend_name() == "unknown" {
            problems.push("database_url must start with sqlite://, mysql:// or postgres://".into());
        }
        if self.body_limit_bytes == 0 || self.request_timeout_secs == 0 {
            problems.push("body_limit_bytes and request_timeout_secs must be above zero".into());
        }
        if self.public_url.cannot_be_a_base() || self.public_url.host().is_none() {
            problems.push("public_url must be an absolute http(s) URL".into());
        }
        if self
            .metrics_listen
            .is_some_and(|m| m.port() != 0 && m == self.listen)
        {
            problems
                .push("metrics_listen must differ from listen: metrics are never on the public port".into());
        }
        if !(1..=7 * 24 * 3600).contains(&self.offer_timeout_secs) || self.dispatch_interval_secs == 0 {
            problems.push(
                "offer_timeout_secs must be between 1 and 604800 (7 days), dispatch_interval_secs above zero"
                    .into(),
            );
        }
        if self.quote_valid_days == 0 || self.quote_valid_days > 365 {
            problems.push("quote_valid_days must be 1–365".into());
        }
        if self.booking_horizon_days == 0 || self.booking_horizon_days > 365 || self.booking_lead_days > 60 {
            problems.push("booking_horizon_days must be 1–365 and booking_lead_days at most 60".into());
        }
        if self.reschedule_lead_hours > 24 * 60 {
            problems.push("reschedule_lead_hours must be at most 1440 (60 days)".into());
        }
        let budgets = [
            self.rate_read_per_min,
            self.rate_read_burst,
            self.rate_write_per_min,
            self.rate_write_burst,
            self.rate_expensive_per_min,
            self.rate_expensive_burst,
            self.rate_address_factor,
        ];
        if self.rate_limits && budgets.contains(&0) {
            problems.push("rate_*_per_min, rate_*_burst and rate_address_factor must be above zero".into());
        }
        for origin in &self.cors_allowed_origins {
            problems.extend(origin_problem(origin, self.is_production()));
        }
        for host in &self.allowed_hosts {
            if url::Host::parse(host).is_err() || host.contains(':') && !host.starts_with('[') {
                problems.push(format!(
                    "allowed_hosts: `{host}` is not a host name (no scheme, port or path)"
                ));
            }
        }
        if self.payment_provider == PaymentProvider::Stripe && self.stripe_api_key.is_none() {
            problems.push("payment_provider is stripe but stripe_api_key is missing".into());
        }
        if self.is_production() {
            problems.extend(self.production_problems());
        }
        problems
    }

    /// Every default or setting that is unsafe in production, one sentence each.
    fn production_problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !self.tls_enabled() && !self.behind_tls_proxy {
            p.push(
                "no TLS: set tls_cert_file and tls_key_file, or behind_tls_proxy with trusted_proxies (S-CR-2)"
                    .to_string(),
            );
        }
        if self.behind_tls_proxy && !self.tls_enabled() && self.trusted_proxies.is_empty() {
            p.push("behind_tls_proxy needs the proxy's addresses in trusted_proxies".into());
        }
        if self.public_url.scheme() != "https" {
            p.push("public_url must use https:// (links in emails are built from it)".into());
        }
        if !self.rate_limits {
            p.push("rate_limits is off: every route needs its request budget in production (S-DE-3)".into());
        }
        match &self.secret_key {
            None => p.push(format!(
                "secret_key is missing: set SUNBRIDGE_SECRET_KEY to at least {MIN_SECRET_LEN} random bytes (S-CR-4)"
            )),
            Some(key) => {
                if let Some(weakness) = secret_weakness(key, MIN_SECRET_LEN) {
                    p.push(format!("secret_key {weakness}"));
                }
            }
        }
        match self.database_backend_name() {
            "sqlite" if self.database_url.is_none() => p.push(
                "database_url is the embedded SQLite default: production runs on MySQL/MariaDB or PostgreSQL"
                    .into(),
            ),
            "sqlite" => {
                p.push("database_url is SQLite: production runs on MySQL/MariaDB or PostgreSQL".into())
            }
            "mysql" if !self.database_tls_required() => p.push(
                "database_url must require TLS to MySQL (ssl-mode=REQUIRED, VERIFY_CA or VERIFY_IDENTITY)"
                    .into(),
            ),
            "postgres" if !self.database_tls_required() => p.push(
                "database_url must require TLS to PostgreSQL (sslmode=require, verify-ca or verify-full)"
                    .into(),
            ),
            _ => {}
        }
        if self.mail_transport == MailTransport::File {
            p.push("mail_transport is `file` (development only): use smtp".into());
        }
        if self.mail_transport == MailTransport::Smtp && self.smtp_url.is_none() {
            p.push("mail_transport is smtp but smtp_url is missing".into());
        }
        if let Some(url) = &self.smtp_url {
            // smtps:// is TLS from the start; smtp:// must insist on STARTTLS.
            let url = url.expose_secret();
            if !(url.starts_with("smtps://") || url.contains("tls=required")) {
                p.push("smtp_url must use TLS: smtps://… or smtp://…?tls=required".into());
            }
        }
        if self.debug_routes {
            p.push("debug_routes must be off in production".into());
        }
        if self.payment_provider == PaymentProvider::Dev {
            p.push("payment_provider is `dev` (a local stand-in that takes no money): use stripe".into());
        }
        match &self.payment_webhook_secret {
            None => {
                p.push("payment_webhook_secret is missing: webhooks could not be verified (S-IT-2)".into())
            }
            Some(s) if s.expose_secret().len() < 24 => {
                p.push("payment_webhook_secret is shorter than 24 characters".into())
            }
            Some(_) => {}
        }
        if self.stripe_api_url.scheme() != "https" {
            p.push("stripe_api_url must use https://".into());
        }
        if self.outbound_allow_local {
            p.push("outbound_allow_local must be off in production (S-SF-1)".into());
        }
        if let Some(url) = &self.redis_url
            && let Ok(url) = Url::parse(url.expose_secret())
            && url.scheme() == "redis"
            && !url.host_str().is_some_and(|h| {
                h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            })
        {
            p.push("redis_url must use TLS (rediss://) unless Redis is on this host".into());
        }
        if let Some(key) = &self.audit_checkpoint_key
            && key.expose_secret().len() < MIN_SECRET_LEN
        {
            p.push(format!(
                "audit_checkpoint_key is shorter than {MIN_SECRET_LEN} bytes"
            ));
        }
        if self.master_key.is_none() && self.master_key_file.is_none() {
            p.push("master_key (or master_key_file) is missing: personal data could not be encrypted at rest (S-CR-3)".into());
        }
        if self.offer_timeout_secs < 60 {
            p.push("offer_timeout_secs must be at least 60 in production (crews need time to answer)".into());
        }
        if self.access_token_ttl_secs > 10 * 60 {
            p.push("access_token_ttl_secs may not exceed 600 (10 minutes, S-AU-5) in production".into());
        }
        if self.session_idle_secs > 30 * 60
            || self.staff_session_idle_secs > 15 * 60
            || self.session_absolute_secs > 12 * 3600
        {
            p.push("browser session timeouts may not exceed 30 min idle (15 min for staff) and 12 h absolute (S-AU-5) in production".into());
        }
        if self.auth_cache_ttl_ms > 1000 {
            p.push(
                "auth_cache_ttl_ms may not exceed 1000 (rights changes act within 1 s, S-AC-7) in production"
                    .into(),
            );
        }
        if !(60..=8 * 3600).contains(&self.access_grant_ttl_secs) {
            p.push(
                "access_grant_ttl_secs must be between 60 and 28800 (8 hours, S-AC-5) in production".into(),
            );
        }
        if self.staff_invite_ttl_secs > 7 * 24 * 3600 {
            p.push("staff_invite_ttl_secs may not exceed 7 days in production".into());
        }
        if self.reauth_window_secs > 5 * 60 {
            p.push("reauth_window_secs may not exceed 300 (5 minutes, S-AU-7) in production".into());
        }
        if self.refresh_token_ttl_secs > 30 * 24 * 3600 {
            p.push("refresh_token_ttl_secs may not exceed 30 days (S-AU-5) in production".into());
        }
        if self.email_token_ttl_secs > 30 * 60 {
            p.push("email_token_ttl_secs may not exceed 1800 (30 minutes, S-AU-8) in production".into());
        }
        let level = self.log_level.to_ascii_lowercase();
        if level.contains("debug") || level.contains("trace") {
            p.push(
                "log_level must not be debug or trace in production (they may record request details)".into(),
            );
        }
        p
    }

    fn database_tls_required(&self) -> bool {
        let url = self.database_url();
        let Ok(url) = Url::parse(url.expose_secret()) else {
            return false;
        };
        url.query_pairs().any(|(k, v)| {
            let v = v.to_ascii_lowercase();
            match k.as_ref() {
                "ssl-mode" | "ssl_mode" | "sslmode" => {
                    matches!(
                        v.as_str(),
                        "required"
                            | "require"
                            | "verify_ca"
                            | "verify-ca"
                            | "verify_identity"
                            | "verify-full"
                    )
                }
                _ => false,
            }
        })
    }

    /// The rules of automatic blocking.
    pub fn defence_rules(&self) -> crate::defence::Rules {
        // 0 turns a rule off: no count reaches u64::MAX.
        let off = |n: u64| if n == 0 { u64::MAX } else { n };
        crate::defence::Rules {
            auth_failures: off(self.block_auth_failures),
            authz_failures: off(self.block_authz_failures),
            window: chrono::TimeDelta::seconds(self.block_window_secs as i64),
            block_for: chrono::TimeDelta::seconds(self.block_secs as i64),
        }
    }

    /// The master key of encryption at rest: configured, read from its file, or in development
    /// generated once into the data directory.
    pub fn master_key_or_dev(&self) -> anyhow::Result<SecretString> {
        if let Some(key) = &self.master_key {
            return Ok(key.clone());
        }
        if let Some(path) = &self.master_key_file {
            let key = std::fs::read_to_string(path)
                .with_context(|| format!("Failed to read master_key_file {}", path.display()))?;
            return Ok(SecretString::from(key.trim().to_owned()));
        }
        anyhow::ensure!(!self.is_production(), "master_key is required in production");
        let path = self.data_dir.join("master.key");
        if let Ok(existing) = std::fs::read_to_string(&path)
            && existing.trim().len() == 64
        {
            return Ok(SecretString::from(existing.trim().to_owned()));
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("Failed to create {}", self.data_dir.display()))?;
        let key = crate::crypto::random_token();
        write_private_file(&path, key.as_bytes())
            .with_context(|| format!("Failed to write {}", path.display()))?;
        Ok(SecretString::from(key))
    }

    /// The key audit checkpoints are signed with: the configured one, or one derived from the
    /// secret key.
    pub fn audit_checkpoint_key_or_derived(&self, secret_key: &SecretString) -> SecretString {
        self.audit_checkpoint_key.clone().unwrap_or_else(|| {
            SecretString::from(crate::crypto::derive_hex(secret_key, "audit-checkpoint-v1"))
        })
    }

    /// Where uploaded files are kept.
    pub fn files_dir(&self) -> PathBuf {
        self.files_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    /// The key payment webhooks are signed with: the configured one, or in development one
    /// derived from the secret key (so the dev provider and tests can sign events).
    pub fn payment_webhook_secret_or_dev(&self, secret_key: &SecretString) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.payment_webhook_secret {
            return Ok(secret.clone());
        }
        anyhow::ensure!(
            !self.is_production(),
            "payment_webhook_secret is required in production"
        );
        Ok(SecretString::from(crate::crypto::derive_hex(
            secret_key,
            "payment-webhook-v1",
        )))
    }

    /// The configured key, or in development one generated once and kept in the data dir.
    pub fn secret_key_or_dev(&self) -> anyhow::Result<SecretString> {
        if let Some(key) = &self.secret_key {
            return Ok(key.clone());
        }
        anyhow::ensure!(!self.is_production(), "secret_key is required in production");
        let path = self.data_dir.join("dev-secret.key");
        if let Ok(existing) = std::fs::read_to_string(&path)
            && existing.trim().len() >= MIN_SECRET_LEN
        {
            return Ok(SecretString::from(existing.trim().to_owned()));
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("Failed to create {}", self.data_dir.display()))?;
        let key = crate::crypto::random_token();
        write_private_file(&path, key.as_bytes())
            .with_context(|| format!("Failed to write {}", path.display()))?;
        Ok(SecretString::from(key))
    }
}

/// Why a secret is too weak to use, or `None`. Never includes the value.
pub fn secret_weakness(secret: &SecretString, min_len: usize) -> Option<String> {
    let secret = secret.expose_secret();
    if PLACEHOLDER_SECRETS.iter().any(|d| secret.eq_ignore_ascii_case(d)) {
        Some("is a published placeholder value: generate a random one".into())
    } else if secret.len() < min_len {
        Some(format!("is shorter than {min_len} bytes"))
    } else if distinct_bytes(secret) < 10 {
        Some("is not random (too few distinct characters)".into())
    } else {
        None
    }
}

fn distinct_bytes(s: &str) -> usize {
    let mut seen = [false; 256];
    s.bytes().for_each(|b| seen[b as usize] = true);
    seen.iter().filter(|b| **b).count()
}

fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_keys_read_as_grouped_durations() {
        let s = Settings::from_toml("session_idle_secs = 600\nauth_cache_ttl_ms = 250\noffer_timeout_secs = 7200\nmail_retry_base_secs = 0").unwrap();
        assert_eq!(s.sessions().idle, TimeDelta::minutes(10));
        assert_eq!(s.sessions().auth_cache, Duration::from_millis(250));
        assert_eq!(s.market().offer_timeout, TimeDelta::hours(2));
        assert_eq!(
            s.workers().mail_retry_base,
            Duration::from_secs(1),
            "never a zero retry delay"
        );
        assert_eq!(
            s.links().access_grant,
            TimeDelta::seconds(s.access_grant_ttl_secs as i64)
        );
        // A period too long for a date is held to a hundred years, which `now` can take.
        assert_eq!(delta(u64::MAX), LONGEST);
        assert!(chrono::Utc::now().checked_add_signed(delta(u64::MAX)).is_some());
    }

    fn production() -> Settings {
        Settings {
            env: Environment::Production,
            public_url: Url::parse("https://sunbridge.example/").unwrap(),
            database_url: Some(
                "mysql://app:pw@db.internal/sunbridge?ssl-mode=VERIFY_IDENTITY"
                    .to_string()
                    .into(),
            ),
            behind_tls_proxy: true,
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            secret_key: Some("k3Jx9!vQ2#pL8@wZ5$rT1^yU6&iO0*aS".to_string().into()),
            mail_transport: MailTransport::Smtp,
            smtp_url: Some("smtps://relay.internal".to_string().into()),
            payment_provider: PaymentProvider::Stripe,
            stripe_api_key: Some("sk_live_example".to_string().into()),
            payment_webhook_secret: Some("whsec_k3Jx9vQ2pL8wZ5rT1yU6iO0aS".to_string().into()),
            master_key: Some(
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                    .to_string()
                    .into(),
            ),
            ..Settings::default()
        }
    }

    #[test]
    fn a_sound_production_configuration_has_no_problems() {
        assert_eq!(production().problems(), Vec::<String>::new());
    }

    #[test]
    fn production_answers_only_its_own_host_names() {
        let mut s = production();
        s.allowed_hosts = vec!["www.sunbridge.example".into()];
        assert_eq!(
            s.allowed_host_names(),
            ["sunbridge.example", "www.sunbridge.example"]
        );
        assert!(
            Settings::default()
                .allowed_host_names()
                .contains(&"localhost".to_owned())
        );
        s.allowed_hosts = vec!["https://x.example/".into(), "x.example:443".into()];
        assert_eq!(s.problems().len(), 2, "{:?}", s.problems());
    }

    #[test]
    fn cors_origins_are_exact_https_origins() {
        let mut s = production();
        s.cors_allowed_origins = vec![
            "https://app.sunbridge.example".into(),
            "https://partner.example:8443/".into(),
        ];
        assert_eq!(s.problems(), Vec::<String>::new());
        for bad in [
            "*",
            "https://*.sunbridge.example",
            "http://app.sunbridge.example",
            "https://app.sunbridge.example/path",
            "http://localhost:5173",
            "null",
        ] {
            s.cors_allowed_origins = vec![bad.into()];
            assert_eq!(s.problems().len(), 1, "{bad} must be refused in production");
        }
        // A developer's local web app may use http on loopback, outside production.
        let dev = Settings {
            cors_allowed_origins: vec!["http://localhost:5173".into()],
            ..Settings::default()
        };
        assert_eq!(dev.problems(), Vec::<String>::new());
    }

    #[test]
    fn development_defaults_are_accepted() {
        assert_eq!(Settings::default().problems(), Vec::<String>::new());
    }

    #[test]
    fn production_names_each_unsafe_setting() {
        let cases: Vec<(Settings, &str)> = vec![
            (
                Settings {
                    behind_tls_proxy: false,
                    ..production()
                },
                "no TLS",
            ),
            (
                Settings {
                    trusted_proxies: vec![],
                    ..production()
                },
                "trusted_proxies",
            ),
            (
                Settings {
                    secret_key: None,
                    ..production()
                },
                "secret_key is missing",
            ),
            (
                Settings {
                    secret_key: Some("short".to_string().into()),
                    ..production()
                },
                "shorter",
            ),
            (
                Settings {
                    secret_key: Some("change-me".to_string().into()),
                    ..production()
                },
                "placeholder",
            ),
            (
                Settings {
                    secret_key: Some("a".repeat(40).into()),
                    ..production()
                },
                "not random",
            ),
            (
                Settings {
                    database_url: None,
                    ..production()
                },
                "embedded SQLite",
            ),
            (
                Settings {
                    redis_url: Some("redis://redis.sunbridge.svc:6379".to_string().into()),
                    ..production()
                },
                "rediss://",
            ),
            (
                Settings {
                    database_url: Some("mysql://db/x".to_string().into()),
                    ..production()
                },
                "TLS to MySQL",
            ),
            (
                Settings {
                    mail_transport: MailTransport::File,
                    ..production()
                },
                "mail_transport",
            ),
            (
                Settings {
                    debug_routes: true,
                    ..production()
                },
                "debug_routes",
            ),
            (
                Settings {
                    log_level: "debug".into(),
                    ..production()
                },
                "log_level",
            ),
            (
                Settings {
                    public_url: Url::parse("http://x.example/").unwrap(),
                    ..production()
                },
                "https://",
            ),
            (
                Settings {
                    email_token_ttl_secs: 7200,
                    ..production()
                },
                "email_token_ttl_secs",
            ),
            (
                Settings {
                    access_token_ttl_secs: 3600,
                    ..production()
                },
                "access_token_ttl_secs",
            ),
            (
                Settings {
                    reauth_window_secs: 3600,
                    ..production()
                },
                "reauth_window_secs",
            ),
            (
                Settings {
                    access_grant_ttl_secs: 7 * 24 * 3600,
                    ..production()
                },
                "access_grant_ttl_secs",
            ),
            (
                Settings {
                    staff_session_idle_secs: 3600,
                    ..production()
                },
                "browser session timeouts",
            ),
            (
                Settings {
                    auth_cache_ttl_ms: 60_000,
                    ..production()
                },
                "auth_cache_ttl_ms",
            ),
            (
                Settings {
                    smtp_url: Some("smtp://relay.internal".to_string().into()),
                    ..production()
                },
                "smtp_url must use TLS",
            ),
            (
                Settings {
                    payment_provider: PaymentProvider::Dev,
                    ..production()
                },
                "payment_provider is `dev`",
            ),
            (
                Settings {
                    payment_webhook_secret: None,
                    ..production()
                },
                "payment_webhook_secret is missing",
            ),
            (
                Settings {
                    stripe_api_key: None,
                    ..production()
                },
                "stripe_api_key is missing",
            ),
            (
                Settings {
                    outbound_allow_local: true,
                    ..production()
                },
                "outbound_allow_local",
            ),
            (
                Settings {
                    master_key: None,
                    ..production()
                },
                "master_key",
            ),
            (
                Settings {
                    offer_timeout_secs: 5,
                    ..production()
                },
                "offer_timeout_secs",
            ),
        ];
        for (settings, expected) in cases {
            let problems = settings.problems();
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "expected a problem mentioning {expected:?}, got {problems:?}"
            );
        }
    }

    #[test]
    fn trusted_proxies_accept_a_comma_separated_env_value() {
        let s: Settings = Figment::new()
            .merge(figment::providers::Serialized::default(
                "trusted_proxies",
                "10.0.0.0/8, 192.0.2.7",
            ))
            .extract()
            .unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        assert!(s.trusted_proxies[1].contains(&"192.0.2.7".parse::<std::net::IpAddr>().unwrap()));
    }

    #[test]
    fn a_misspelt_key_in_the_file_is_refused_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sunbridge.toml");
        std::fs::write(&file, "databse_url = \"mysql://db/x\"\n").unwrap();
        let err = Settings::load(Some(&file)).unwrap_err();
        assert!(format!("{err:#}").contains("databse_url"), "{err:#}");

        std::fs::write(
            &file,
            "body_limit_bytes = 2048\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let s = Settings::load(Some(&file)).unwrap();
        assert_eq!(s.body_limit_bytes, 2048);
        assert_eq!(s.trusted_proxies.len(), 1);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let text = format!("{:?}", production());
        assert!(!text.contains("k3Jx9"), "{text}");
        assert!(!text.contains(":pw@"), "{text}");
    }
}
