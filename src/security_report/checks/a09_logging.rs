//! The controls of A09 Security Logging and Monitoring Failures.

use super::*;

pub(super) async fn logging(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
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

pub(super) fn metrics(s: &Settings) -> Control {
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

pub(super) fn alert_rules(deploy: Option<&std::path::Path>) -> Control {
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
