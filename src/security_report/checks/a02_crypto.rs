//! The controls of A02 Cryptographic Failures.

use super::*;

pub(super) fn transport(s: &Settings) -> Control {
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

pub(super) async fn password_hashes(i: &Inputs<'_>) -> anyhow::Result<Control> {
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

pub(super) async fn encryption_at_rest(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
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

pub(super) fn secrets(s: &Settings) -> Control {
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
