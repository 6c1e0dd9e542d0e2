//! The checks, by OWASP category (one file each). Each reads the configuration, the database,
//! and where given the running server, the advisory database and the deployment files.

mod a01_access;
mod a02_crypto;
mod a03_injection;
mod a04_design;
mod a05_configuration;
mod a07_identity;
mod a08_integrity;
mod a09_logging;
mod a10_outbound;

use a01_access::*;
use a02_crypto::*;
use a03_injection::*;
use a04_design::*;
use a05_configuration::*;
use a07_identity::*;
use a08_integrity::*;
use a09_logging::*;
use a10_outbound::*;

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Category, Control, Report, Status, advisories, deployment, probe, worst};
use crate::access::Role;
use crate::access::policy::{self, Permission};
use crate::access::{Access, routes::BodyLimits};
use crate::auth::throttle;
use crate::config::{Environment, MIN_SECRET_LEN, Settings, secret_weakness};

/// Staff accounts unused this long are stale (a leaver whose account was not disabled).
const STALE_AFTER_DAYS: i64 = 90;
/// Data keys older than this should be rotated (NIST SP 800-57's cryptoperiod for data keys is
/// at most two years of originator use; one year keeps well inside it).
const KEY_MAX_AGE_DAYS: i64 = 365;

pub struct Inputs<'a> {
    pub settings: &'a Settings,
    pub db: &'a DatabaseConnection,
    /// The key audit checkpoints are signed with.
    pub checkpoint_key: SecretString,
    pub throttle: &'a throttle::Rules,
    /// A running server to probe.
    pub url: Option<Url>,
    /// A RustSec advisory-db checkout.
    pub advisory_db: Option<PathBuf>,
    /// The `deploy/` directory (Dockerfile, kubernetes/, prometheus/).
    pub deploy_dir: Option<PathBuf>,
}

pub async fn run(i: &Inputs<'_>) -> anyhow::Result<Report> {
    let now = Utc::now();
    let production = i.settings.env == Environment::Production;
    let probed = match &i.url {
        Some(url) => probe::probe(url, production, i.settings.body_limit_bytes).await,
        None => probe::not_checked(),
    };
    let categories = vec![
        category("A01", "Broken Access Control", a01(i, now).await?),
        category(
            "A02",
            "Cryptographic Failures",
            vec![
                transport(i.settings),
                probed.transport,
                password_hashes(i).await?,
                encryption_at_rest(i, now).await?,
                secrets(i.settings),
            ],
        ),
        category(
            "A03",
            "Injection",
            vec![
                by_construction(
                    "S-IN-1",
                    "Database access is parameterised",
                    "Every query goes through SeaORM / sea-query with bound values; no SQL text is built from input. Attack tests: tests/api/injection.rs.",
                ),
                probed.escaping,
                limits(i.settings),
                probed.body_limit,
            ],
        ),
        category(
            "A04",
            "Insecure Design",
            vec![
                defence(i.settings),
                rate_limits(i.settings),
                by_construction(
                    "S-DE-4",
                    "Blocks spare the innocent",
                    "A blocked address (an IPv6 client's /64) loses anonymous requests and new sign-ins only; live sessions of accounts that raised no alarm, refreshes and known devices go on; a lift forgets earlier failures. Attack tests: tests/api/monitoring.rs.",
                ),
                grants_design(i.settings),
            ],
        ),
        category(
            "A05",
            "Security Misconfiguration",
            vec![
                production_rules(i.settings),
                probed.headers,
                probed.errors,
                deployment::check(i.deploy_dir.as_deref()),
            ],
        ),
        category(
            "A06",
            "Vulnerable and Outdated Components",
            vec![advisories::check(i.advisory_db.as_deref())],
        ),
        category(
            "A07",
            "Identification and Authentication Failures",
            vec![
                throttling(i),
                staff_mfa(i).await?,
                stale_staff(i, now).await?,
                sessions(i.settings),
            ],
        ),
        category(
            "A08",
            "Software and Data Integrity Failures",
            vec![audit_chain(i, now).await?, webhooks_signed(i.settings)],
        ),
        category(
            "A09",
            "Security Logging and Monitoring Failures",
            vec![
                logging(i, now).await?,
                metrics(i.settings),
                probed.metrics,
                alert_rules(i.deploy_dir.as_deref()),
            ],
        ),
        category(
            "A10",
            "Server-Side Request Forgery",
            vec![
                outbound(i).await?,
                by_construction(
                    "S-SF-2",
                    "XML parsed without DTDs or entities",
                    "Green Button files are read by quick-xml, which expands no external entity; a DOCTYPE is refused before parsing. Attack tests: tests/api/sites.rs (external entity, billion laughs).",
                ),
            ],
        ),
    ];
    Ok(Report {
        generated_at: now,
        environment: match i.settings.env {
            Environment::Production => "production".into(),
            Environment::Development => "development".into(),
        },
        database: i.settings.database_backend_name().to_owned(),
        url: i.url.as_ref().map(Url::to_string),
        status: worst(categories.iter().map(|c| c.status)),
        categories,
    })
}

fn category(id: &'static str, name: &'static str, controls: Vec<Control>) -> Category {
    Category {
        id,
        name,
        status: worst(controls.iter().map(|c| c.status)),
        controls,
    }
}

fn control(id: &'static str, title: &'static str, status: Status, evidence: impl Into<String>) -> Control {
    Control {
        id,
        title,
        status,
        evidence: evidence.into(),
    }
}

/// A design control with no live state to read: it holds in every build, and the named attack
/// tests are what prove it.
fn by_construction(id: &'static str, title: &'static str, evidence: &str) -> Control {
    control(id, title, Status::Pass, format!("By construction. {evidence}"))
}

/// What a shortfall weighs: a failure in production, a warning on a developer machine.
fn shortfall(settings: &Settings) -> Status {
    if settings.is_production() {
        Status::Fail
    } else {
        Status::Warn
    }
}

fn pass_or(ok: bool, otherwise: Status) -> Status {
    if ok { Status::Pass } else { otherwise }
}
