//! The checks, by OWASP category. Each reads the configuration, the database, and where given
//! the running server, the advisory database and the deployment files.

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

// ---------------------------------------------------------------------------------------- A01

async fn a01(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Vec<Control>> {
    let (_, table) = crate::startup::routes(i.settings).finish(BodyLimits::from_settings(i.settings));
    let routes = table.routes();
    let mut public: Vec<&str> = routes
        .iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| r.path)
        .collect();
    public.sort_unstable();
    public.dedup();
    let exposed: Vec<&str> = public
        .iter()
        .copied()
        .filter(|p| {
            ["/admin", "/staff", "/api/v1/admin", "/api/v1/staff", "/installer"]
                .iter()
                .any(|s| p.starts_with(s))
        })
        .collect();
    let deny_by_default = control(
        "S-AC-1",
        "Deny by default: every route declares its permission",
        pass_or(exposed.is_empty(), Status::Fail),
        if exposed.is_empty() {
            format!(
                "{} routes declared, each with the permission it needs; a path not declared answers 404 before any handler. {} paths are public, none of them back-office: {}.",
                routes.len(),
                public.len(),
                public.join(", ")
            )
        } else {
            format!("Back-office paths declared public: {}.", exposed.join(", "))
        },
    );

    let admin_only = [Permission::ManageStaff, Permission::ManageSecurity];
    let widened: Vec<String> = admin_only
        .iter()
        .filter(|p| policy::roles_with(**p) != vec![Role::Admin])
        .map(|p| p.name().to_owned())
        .collect();
    let customer_back_office = policy::has_back_office(Role::Customer);
    let policy_ok = widened.is_empty() && !customer_back_office;
    let policy_control = control(
        "S-AC-2",
        "One policy table, least privilege",
        pass_or(policy_ok, Status::Fail),
        if policy_ok {
            format!(
                "{} roles, {} permissions in one table (`sunbridge policy` prints it); staff.manage and security.manage are the admin's alone; customers hold no back-office permission.",
                policy::POLICY.len(),
                Permission::ALL.len()
            )
        } else {
            format!(
                "Widened: {}{}",
                widened.join(", "),
                if customer_back_office {
                    "; customers reach the back office"
                } else {
                    ""
                }
            )
        },
    );

    // Grants live now: who holds them, and whether any outlived the rules.
    use crate::access::grants::entity as grant;
    use crate::auth::store::user;
    let live = grant::Entity::find()
        .filter(grant::Column::EndedAt.is_null())
        .filter(grant::Column::ExpiresAt.gt(now))
        .all(i.db)
        .await?;
    let ttl = TimeDelta::seconds(i.settings.access_grant_ttl_secs as i64);
    let mut problems = Vec::new();
    let mut holders = std::collections::BTreeMap::<String, usize>::new();
    for g in &live {
        let staff = user::Entity::find_by_id(g.staff_id).one(i.db).await?;
        let label = staff
            .as_ref()
            .map_or_else(|| g.staff_id.to_string(), |s| s.email.clone());
        *holders.entry(label.clone()).or_default() += 1;
        if g.expires_at - g.created_at > ttl + TimeDelta::minutes(1) {
            problems.push(format!(
                "a grant held by {label} runs longer than access_grant_ttl_secs"
            ));
        }
        match staff {
            Some(s) if s.disabled_at.is_some() => {
                problems.push(format!("{label} is disabled but holds a live grant"))
            }
            Some(s)
                if !s
                    .role
                    .parse::<Role>()
                    .is_ok_and(|r| policy::allows(r, Permission::ReadCustomerPii)) =>
            {
                problems.push(format!("{label} holds a grant its role no longer allows"))
            }
            None => problems.push(format!("a grant is held by a deleted account {label}")),
            _ => {}
        }
    }
    let grants = control(
        "S-AC-5",
        "Open access grants to personal data",
        pass_or(problems.is_empty(), Status::Fail),
        if live.is_empty() {
            "No grant to a customer's personal data is open now.".to_owned()
        } else if problems.is_empty() {
            format!(
                "{} grants open now, each for one customer with a reason and at most {} min: {}.",
                live.len(),
                i.settings.access_grant_ttl_secs / 60,
                holders
                    .iter()
                    .map(|(h, n)| format!("{h} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            problems.join("; ")
        },
    );

    let rights = control(
        "S-AC-7",
        "Changes of rights act within a second",
        pass_or(i.settings.auth_cache_ttl_ms <= 1000, Status::Fail),
        format!(
            "Sessions are re-checked against the database every {} ms at most{}.",
            i.settings.auth_cache_ttl_ms,
            if i.settings.redis_url.is_some() {
                "; revocations are published to every replica through Redis"
            } else {
                ""
            }
        ),
    );
    Ok(vec![
        deny_by_default,
        policy_control,
        grants,
        rights,
        cross_origin(i.settings),
        allowed_hosts(i.settings),
    ])
}

fn cross_origin(s: &Settings) -> Control {
    control(
        "S-AC-9",
        "Cross-origin access only for listed origins",
        Status::Pass,
        if s.cors_allowed_origins.is_empty() {
            "No origin is listed: the API sends no CORS headers and browsers refuse every cross-origin read."
                .to_owned()
        } else {
            format!(
                "The JSON API answers these origins only, never with credentials, never for pages: {}.",
                s.cors_allowed_origins.join(", ")
            )
        },
    )
}

fn allowed_hosts(s: &Settings) -> Control {
    let loopback = !s.is_production();
    control(
        "S-AC-10",
        "Requests for another host are refused",
        pass_or(!loopback, Status::Warn),
        format!(
            "Requests naming a host other than {} get 400 before any handler (probes excepted){}.",
            s.allowed_host_names()
                .iter()
                .filter(|h| !loopback || !matches!(h.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if loopback {
                "; a development install also answers loopback names"
            } else {
                ""
            }
        ),
    )
}

// ---------------------------------------------------------------------------------------- A02

fn transport(s: &Settings) -> Control {
    let (ok, how) = if s.tls_enabled() {
        (
            true,
            format!(
                "The server speaks TLS itself (rustls), certificate {}.",
                s.tls_cert_file
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        )
    } else if s.behind_tls_proxy && !s.trusted_proxies.is_empty() {
        (
            true,
            format!(
                "Behind a TLS-terminating proxy; forwarded headers trusted only from {}.",
                s.trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else {
        (false, "Plain HTTP, no TLS proxy configured.".to_owned())
    };
    let https_links = s.public_url.scheme() == "https";
    control(
        "S-CR-2",
        "TLS configured, HSTS on HTTPS responses",
        pass_or(ok && https_links, shortfall(s)),
        format!(
            "{how} public_url is {}{} HSTS `{}` is sent whenever clients use HTTPS.",
            s.public_url,
            if https_links { "." } else { " (not https)." },
            crate::http::headers::STRICT_TRANSPORT_SECURITY
        ),
    )
}

async fn password_hashes(i: &Inputs<'_>) -> anyhow::Result<Control> {
    use crate::auth::store::user;
    let hashes: Vec<Option<String>> = user::Entity::find()
        .select_only()
        .column(user::Column::PasswordHash)
        .into_tuple()
        .all(i.db)
        .await?;
    let hasher = crate::auth::PasswordHasher::new(1)?;
    let stored: Vec<&String> = hashes.iter().flatten().collect();
    let weak = stored.iter().filter(|h| hasher.needs_rehash(h)).count();
    Ok(control(
        "S-CR-1",
        "Passwords hashed with argon2id (m ≥ 19 MiB, t ≥ 2, p ≥ 1)",
        pass_or(weak == 0, Status::Warn),
        if weak == 0 {
            format!(
                "All {} stored password hashes are argon2id at the required cost or more.",
                stored.len()
            )
        } else {
            format!(
                "{weak} of {} stored hashes are weaker than the standard; each is re-hashed at its owner's next sign-in.",
                stored.len()
            )
        },
    ))
}

async fn encryption_at_rest(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
    let s = i.settings;
    let (master_ok, master) = if s.master_key.is_some() {
        (true, "the master key comes from the configuration (master_key)")
    } else if s.master_key_file.is_some() {
        (
            true,
            "the master key is read from master_key_file (a mounted Secret)",
        )
    } else {
        (
            false,
            "the master key is the development file in the data directory",
        )
    };
    let keys = crate::crypto::keys::list(i.db).await?;
    let census = crate::crypto::rotation::census(i.db).await?;
    let newest = keys
        .iter()
        .filter(|k| k.retired_at.is_none())
        .max_by_key(|k| k.created_at);
    let age_days = newest.map(|k| (now - k.created_at).num_days());
    let plaintext = census.plaintext();
    let older = census.under_older_keys();
    let mut evidence = format!(
        "XChaCha20-Poly1305 per field and per file, data keys wrapped by a master key; {master}. {} data key(s) ({} retired)",
        keys.len(),
        keys.iter().filter(|k| k.retired_at.is_some()).count()
    );
    if let (Some(k), Some(days)) = (newest, age_days) {
        evidence.push_str(&format!(
            "; the newest, {}, is {days} days old (rotate at {KEY_MAX_AGE_DAYS} days: `sunbridge keys rotate`)",
            k.id
        ));
    }
    evidence.push_str(&format!(
        ". Sealed columns: {}.",
        census
            .columns
            .iter()
            .map(|(c, p, o)| format!("{c} {p} plaintext, {o} under older keys"))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    evidence.push_str(match s.files_store {
        crate::config::FilesStore::Database => {
            " Uploaded files are kept sealed in the database: every replica reads them and a database backup holds them."
        }
        crate::config::FilesStore::Directory => {
            " Uploaded files are kept sealed in files_dir: back that folder up with the database, and share it between replicas."
        }
    });
    let status = if plaintext > 0 {
        evidence.push_str(&format!(
            " {plaintext} values are stored in plaintext: run `sunbridge keys rotate` to encrypt them."
        ));
        Status::Fail
    } else if !master_ok {
        shortfall(s)
    } else if age_days.is_some_and(|d| d > KEY_MAX_AGE_DAYS) || older > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    Ok(control(
        "S-CR-3",
        "Personal data encrypted at rest, keys rotated",
        status,
        evidence,
    ))
}

fn secrets(s: &Settings) -> Control {
    let mut weak = Vec::new();
    let mut held = Vec::new();
    let mut dev = Vec::new();
    let mut judge = |name: &str, value: Option<&SecretString>, min: usize, dev_fallback: &str| match value {
        Some(v) => match secret_weakness(v, min) {
            Some(why) => weak.push(format!("{name} {why}")),
            None => held.push(format!("{name} ({} bytes)", v.expose_secret().len())),
        },
        None => dev.push(format!("{name}: {dev_fallback}")),
    };
    judge(
        "secret_key",
        s.secret_key.as_ref(),
        MIN_SECRET_LEN,
        "generated into the data directory (development)",
    );
    judge(
        "payment_webhook_secret",
        s.payment_webhook_secret.as_ref(),
        24,
        "derived from secret_key (development)",
    );
    judge(
        "audit_checkpoint_key",
        s.audit_checkpoint_key.as_ref(),
        MIN_SECRET_LEN,
        "derived from secret_key",
    );
    if s.metrics_listen.is_some_and(|m| !m.ip().is_loopback()) {
        judge(
            "metrics_token",
            s.metrics_token.as_ref(),
            24,
            "missing while metrics listen beyond loopback",
        );
    }
    // The checkpoint key may be derived in production too; the others may not.
    let dev_only: Vec<&String> = dev
        .iter()
        .filter(|d| !d.starts_with("audit_checkpoint_key"))
        .collect();
    let metrics_open = dev.iter().any(|d| d.starts_with("metrics_token"));
    let status = if !weak.is_empty() || metrics_open {
        Status::Fail
    } else if !dev_only.is_empty() {
        shortfall(s)
    } else {
        Status::Pass
    };
    let mut evidence = Vec::new();
    if !weak.is_empty() {
        evidence.push(format!("Weak: {}.", weak.join("; ")));
    }
    if !held.is_empty() {
        evidence.push(format!("Configured and strong: {}.", held.join(", ")));
    }
    if !dev.is_empty() {
        evidence.push(format!("Not configured: {}.", dev.join("; ")));
    }
    evidence.push("Values are never printed; tokens and codes come from the OS CSPRNG.".into());
    control(
        "S-CR-4",
        "Secrets are strong and kept out of the repository",
        status,
        evidence.join(" "),
    )
}

// ---------------------------------------------------------------------------------------- A03

fn limits(s: &Settings) -> Control {
    let ok =
        s.body_limit_bytes <= 1 << 20 && s.upload_limit_bytes <= 32 << 20 && s.request_timeout_secs <= 60;
    control(
        "S-IN-3",
        "Input bounded at the edge",
        pass_or(ok, Status::Warn),
        format!(
            "Request bodies at most {}, uploads at most {}, requests time out after {} s; bodies are typed (serde, unknown fields refused).",
            probe::bytes(s.body_limit_bytes),
            probe::bytes(s.upload_limit_bytes),
            s.request_timeout_secs
        ),
    )
}

// ---------------------------------------------------------------------------------------- A04

fn defence(s: &Settings) -> Control {
    let on = |n: u64| if n == 0 { "off".to_owned() } else { n.to_string() };
    let ok = s.block_auth_failures > 0 && s.block_authz_failures > 0;
    control(
        "S-DE-2",
        "Abuse is slowed and blocked automatically",
        pass_or(ok, shortfall(s)),
        format!(
            "An address is blocked for {} min after {} failed sign-ins or {} refused requests within {} min (0 turns a rule off); every list is paginated with a server-side maximum.",
            s.block_secs / 60,
            on(s.block_auth_failures),
            on(s.block_authz_failures),
            s.block_window_secs / 60
        ),
    )
}

fn rate_limits(s: &Settings) -> Control {
    match s.rate_budgets() {
        Some(b) => control(
            "S-DE-3",
            "Every route has a request budget",
            Status::Pass,
            format!(
                "Per credential a minute (burst): reads {} ({}), changes {} ({}), expensive work {} ({}); a client address without a proved credential {}× that{}. Over budget: 429 with Retry-After.",
                b.read.per_minute,
                b.read.burst,
                b.write.per_minute,
                b.write.burst,
                b.expensive.per_minute,
                b.expensive.burst,
                b.address_factor,
                if s.redis_url.is_some() {
                    "; one budget for all replicas through Redis"
                } else {
                    "; kept per replica (no Redis)"
                }
            ),
        ),
        None => control(
            "S-DE-3",
            "Every route has a request budget",
            shortfall(s),
            "rate_limits is off: no route has a request budget.",
        ),
    }
}

fn grants_design(s: &Settings) -> Control {
    let ok = (60..=8 * 3600).contains(&s.access_grant_ttl_secs);
    control(
        "S-AC-5",
        "Staff reach personal data only through a reasoned, expiring grant",
        pass_or(ok, Status::Fail),
        format!(
            "Grants last {} min (limit 8 h), at most {} live per staff member, each with a ticket reason, audited and shown to the customer.",
            s.access_grant_ttl_secs / 60,
            crate::access::grants::MAX_LIVE_GRANTS
        ),
    )
}

// ---------------------------------------------------------------------------------------- A05

fn production_rules(s: &Settings) -> Control {
    let mut as_production = s.clone();
    as_production.env = Environment::Production;
    let problems = as_production.problems();
    let status = if problems.is_empty() {
        Status::Pass
    } else {
        shortfall(s)
    };
    control(
        "check-config",
        "Production refuses unsafe settings",
        status,
        if problems.is_empty() {
            "Every setting passes the production rules (`sunbridge check-config`).".to_owned()
        } else if s.is_production() {
            format!(
                "{} settings break the production rules: {}.",
                problems.len(),
                problems.join("; ")
            )
        } else {
            format!(
                "Development install: the server would refuse to start in production because {}.",
                problems.join("; ")
            )
        },
    )
}

// ---------------------------------------------------------------------------------------- A07

fn throttling(i: &Inputs<'_>) -> Control {
    let r = i.throttle;
    let standard = throttle::Rules::default();
    let ok = r.account_failures <= standard.account_failures
        && r.account_quiet >= standard.account_quiet
        && r.account_max_penalty_secs >= standard.account_max_penalty_secs
        && r.ip_failures <= standard.ip_failures
        && r.ip_window >= standard.ip_window
        && r.ip_block >= standard.ip_block;
    control(
        "S-AU-3",
        "Sign-in throttled per account and per address, not locked out",
        pass_or(ok, Status::Fail),
        format!(
            "In force: after {} failures for one account within {} min, 429 with Retry-After doubling up to {} min; {} failures from one address within {} min block it for {} min (standard: 5 / 15 min / 15 min; 20 / 10 min / 10 min). Counters kept {}.",
            r.account_failures,
            r.account_quiet.num_minutes(),
            r.account_max_penalty_secs / 60,
            r.ip_failures,
            r.ip_window.num_minutes(),
            r.ip_block.num_minutes(),
            if i.settings.redis_url.is_some() {
                "in Redis, shared by every replica; sign-in fails closed (503) while Redis is away"
            } else {
                "in the database"
            }
        ),
    )
}

async fn staff_mfa(i: &Inputs<'_>) -> anyhow::Result<Control> {
    let staff = crate::staff::service::list(i.db).await?;
    let active: Vec<_> = staff.iter().filter(|s| !s.disabled).collect();
    let without: Vec<String> = active
        .iter()
        .filter(|s| !s.mfa_enabled)
        .map(|s| format!("{} ({})", s.email, s.role.as_str()))
        .collect();
    let admins_without = active
        .iter()
        .filter(|s| !s.mfa_enabled && s.role == Role::Admin && !s.invited)
        .count();
    Ok(control(
        "S-AU-4",
        "Staff accounts have a second factor",
        if without.is_empty() {
            Status::Pass
        } else if admins_without > 0 && i.settings.is_production() {
            Status::Fail
        } else {
            Status::Warn
        },
        if without.is_empty() {
            format!("All {} active staff accounts have TOTP enrolled.", active.len())
        } else {
            format!(
                "{} of {} active staff accounts have no second factor yet: {}. Until they enrol, their sessions can do nothing but enrol; whoever signs in first with the password chooses the factor, so enrol or disable them.",
                without.len(),
                active.len(),
                without.join(", ")
            )
        },
    ))
}

async fn stale_staff(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
    let staff = crate::staff::service::list(i.db).await?;
    let limit = TimeDelta::days(STALE_AFTER_DAYS);
    let stale: Vec<String> = staff
        .iter()
        .filter(|s| !s.disabled && !s.invited)
        .filter(|s| now - s.last_login_at.unwrap_or(s.created_at) > limit)
        .map(|s| {
            format!(
                "{} ({}, last sign-in {})",
                s.email,
                s.role.as_str(),
                s.last_login_at
                    .map_or("never".to_owned(), |t| t.format("%Y-%m-%d").to_string())
            )
        })
        .collect();
    Ok(control(
        "S-AC-7",
        "No stale staff accounts",
        pass_or(stale.is_empty(), Status::Warn),
        if stale.is_empty() {
            format!(
                "Every enabled staff account ({}) has signed in within {STALE_AFTER_DAYS} days.",
                staff.iter().filter(|s| !s.disabled).count()
            )
        } else {
            format!(
                "Unused for more than {STALE_AFTER_DAYS} days: {}. Disable them on /admin/staff if their owners left.",
                stale.join(", ")
            )
        },
    ))
}

fn sessions(s: &Settings) -> Control {
    let ok = s.access_token_ttl_secs <= 600
        && s.refresh_token_ttl_secs <= 30 * 24 * 3600
        && s.session_idle_secs <= 30 * 60
        && s.staff_session_idle_secs <= 15 * 60
        && s.session_absolute_secs <= 12 * 3600
        && s.reauth_window_secs <= 300;
    control(
        "S-AU-5",
        "Session lifetimes within the standard",
        pass_or(ok, shortfall(s)),
        format!(
            "Access tokens {} min (≤ 10), refresh tokens {} days (≤ 30, rotated, reuse ends the family), browser sessions idle {} min (≤ 30) / staff {} min (≤ 15), absolute {} h (≤ 12), re-authentication valid {} min (≤ 5).",
            s.access_token_ttl_secs / 60,
            s.refresh_token_ttl_secs / 86_400,
            s.session_idle_secs / 60,
            s.staff_session_idle_secs / 60,
            s.session_absolute_secs / 3600,
            s.reauth_window_secs / 60
        ),
    )
}

// ---------------------------------------------------------------------------------------- A08

async fn audit_chain(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
    use crate::audit::chain::{self, checkpoint};
    let report = chain::verify(i.db, &i.checkpoint_key, None).await?;
    let latest = checkpoint::Entity::find()
        .order_by_desc(checkpoint::Column::Seq)
        .one(i.db)
        .await?;
    let every = TimeDelta::seconds(i.settings.audit_checkpoint_secs as i64);
    // Rows written after the newest checkpoint are covered only by the chain itself until the
    // next one: a checkpoint more than two periods old means the checkpointer is not running.
    let behind = match &latest {
        Some(c) => c.seq < report.last_seq && now - c.created_at > every * 2,
        None => report.last_seq > 0,
    };
    let mut evidence = format!(
        "Checked {} rows and {} signed checkpoints; the chain ends at position {} ({}).",
        report.checked,
        report.checkpoints,
        report.last_seq,
        &report.last_hash[..16.min(report.last_hash.len())]
    );
    if let Some(c) = &latest {
        evidence.push_str(&format!(
            " Newest checkpoint at position {}, {}.",
            c.seq,
            c.created_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let status = match &report.problem {
        Some(problem) => {
            evidence.push_str(&format!(" TAMPERED: {}", problem.message));
            Status::Fail
        }
        None if behind => {
            evidence.push_str(&format!(
                " Rows were written after the newest signed checkpoint and none was signed since, although a running server signs one every {} s: is one running?",
                every.num_seconds()
            ));
            Status::Warn
        }
        None => Status::Pass,
    };
    Ok(control(
        "S-IT-1",
        "Audit trail intact (hash chain and signed checkpoints)",
        status,
        evidence,
    ))
}

fn webhooks_signed(s: &Settings) -> Control {
    let configured = s.payment_webhook_secret.is_some();
    control(
        "S-IT-2",
        "Webhooks accepted only when signed and fresh",
        pass_or(configured, shortfall(s)),
        format!(
            "Payment webhooks need an HMAC-SHA256 signature over a timestamp within 5 minutes, with the {} secret; outgoing installer webhooks are signed the same way with a per-company secret, sealed at rest.",
            if configured {
                "configured"
            } else {
                "development (derived)"
            }
        ),
    )
}

// ---------------------------------------------------------------------------------------- A09

async fn logging(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
    let level = i.settings.log_level.to_ascii_lowercase();
    let verbose = level.contains("debug") || level.contains("trace");
    let total = crate::audit::chain::length(i.db).await?;
    let recent = crate::audit::recent(i.db, 1).await?;
    let last = recent.first().map(|e| e.occurred_at);
    Ok(control(
        "S-LG-1",
        "Structured logs and an audit trail of security events",
        pass_or(!verbose, shortfall(i.settings)),
        format!(
            "JSON logs on stdout at level `{}` with request id, user, role and client IP; secrets and personal data are never logged. The audit trail holds {total} events{}.",
            i.settings.log_level,
            last.map(|t| format!(", the newest {} min ago", (now - t).num_minutes()))
                .unwrap_or_default()
        ),
    ))
}

fn metrics(s: &Settings) -> Control {
    let (status, evidence) = match s.metrics_listen {
        None => (
            shortfall(s),
            "No metrics listener (metrics_listen unset): nothing to alert on.".to_owned(),
        ),
        Some(addr) if addr == s.listen => (Status::Fail, "Metrics share the public port.".to_owned()),
        Some(addr) => (
            Status::Pass,
            format!(
                "Prometheus metrics on {addr}, apart from the public port{}.",
                if s.metrics_token.is_some() {
                    ", behind a bearer token"
                } else {
                    ""
                }
            ),
        ),
    };
    control(
        "S-LG-3",
        "Metrics for Prometheus on a private port",
        status,
        evidence,
    )
}

fn alert_rules(deploy: Option<&std::path::Path>) -> Control {
    const TITLE: &str = "Alert rules for login bursts, token reuse and authorization spikes";
    let Some(dir) = deploy else {
        return control(
            "S-LG-3",
            TITLE,
            Status::NotChecked,
            "No deployment directory given (`--deploy deploy`).",
        );
    };
    let path = dir.join("prometheus/alerts.yml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            return control(
                "S-LG-3",
                TITLE,
                Status::Fail,
                format!("No alert rules at {}.", path.display()),
            );
        }
    };
    let rules: serde_yaml_ng::Value = match serde_yaml_ng::from_str(&text) {
        Ok(v) => v,
        Err(err) => {
            return control(
                "S-LG-3",
                TITLE,
                Status::Fail,
                format!("{} is not valid YAML: {err}", path.display()),
            );
        }
    };
    let alerts: Vec<String> = rules
        .get("groups")
        .and_then(|g| g.as_sequence())
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("rules").and_then(|r| r.as_sequence()))
        .flatten()
        .filter_map(|r| r.get("alert").and_then(|a| a.as_str()).map(str::to_owned))
        .collect();
    let required = [
        "SunbridgeLoginFailureBurst",
        "SunbridgeRefreshTokenReuse",
        "SunbridgeAuthorizationFailureSpike",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !alerts.iter().any(|a| a == r))
        .collect();
    control(
        "S-LG-3",
        TITLE,
        pass_or(missing.is_empty(), Status::Fail),
        if missing.is_empty() {
            format!(
                "{}: {} alerts, including {}.",
                path.display(),
                alerts.len(),
                required.join(", ")
            )
        } else {
            format!("{} lacks {}.", path.display(), missing.join(", "))
        },
    )
}

// ---------------------------------------------------------------------------------------- A10

async fn outbound(i: &Inputs<'_>) -> anyhow::Result<Control> {
    use crate::webhooks::store::endpoint;
    let s = i.settings;
    let mut problems = Vec::new();
    if s.outbound_allow_local {
        problems.push(
            "outbound_allow_local is on: calls to private and loopback addresses are allowed".to_owned(),
        );
    }
    for (name, url) in [
        ("stripe_api_url", &s.stripe_api_url),
        ("nrel_api_url", &s.nrel_api_url),
    ] {
        if url.scheme() != "https" {
            problems.push(format!("{name} is not https"));
        }
    }
    let endpoints = endpoint::Entity::find().all(i.db).await?;
    for e in &endpoints {
        match Url::parse(&e.url) {
            Ok(u) if u.scheme() != "https" => problems.push(format!("installer webhook {} is not https", u)),
            Ok(u) => {
                if let Some(url::Host::Ipv4(ip)) = u.host() {
                    if !crate::outbound::is_public(ip.into()) {
                        problems.push(format!("installer webhook {u} names a private address"));
                    }
                } else if let Some(url::Host::Ipv6(ip)) = u.host()
                    && !crate::outbound::is_public(ip.into())
                {
                    problems.push(format!("installer webhook {u} names a private address"));
                }
            }
            Err(_) => problems.push("an installer webhook URL does not parse".to_owned()),
        }
    }
    let status = if problems.is_empty() {
        Status::Pass
    } else if s.outbound_allow_local && problems.len() == 1 {
        shortfall(s)
    } else {
        Status::Fail
    };
    Ok(control(
        "S-SF-1",
        "Outbound calls only through the guarded client",
        status,
        format!(
            "{}One outbound client: https only, addresses checked after DNS resolution and connected to as checked, no redirects, timeouts and a size cap. {} installer webhook endpoints.",
            if problems.is_empty() {
                String::new()
            } else {
                format!("{}. ", problems.join("; "))
            },
            endpoints.len()
        ),
    ))
}
