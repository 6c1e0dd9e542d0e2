//! The security signals of the trail as metrics (S-LG-3): each audited event is counted by
//! action, and the ones the alert rules in `deploy/prometheus/alerts.yml` watch under their
//! own names. Counted as they are recorded, so a metric can never drift from the trail; the
//! exporter that serves them is `monitoring`.

use super::Action;

/// One audited event: counted by action, and as the named security signal it is.
pub(super) fn count(action: Action) {
    metrics::counter!("sunbridge_audit_events_total", "action" => action.as_str()).increment(1);
    let (name, label): (&'static str, Option<(&'static str, &'static str)>) = match action {
        Action::LoginSucceeded => ("sunbridge_logins_total", Some(("outcome", "ok"))),
        Action::LoginFailed => ("sunbridge_logins_total", Some(("outcome", "failed"))),
        Action::LoginThrottled => ("sunbridge_throttled_total", Some(("what", "login"))),
        Action::MfaFailed => ("sunbridge_mfa_failures_total", None),
        Action::RefreshTokenReused => ("sunbridge_refresh_token_reuse_total", None),
        Action::AccessDenied => ("sunbridge_authz_failures_total", Some(("kind", "role"))),
        Action::ObjectAccessDenied => ("sunbridge_authz_failures_total", Some(("kind", "object"))),
        Action::GrantOpened => ("sunbridge_grants_opened_total", None),
        Action::WebhookRefused => ("sunbridge_webhooks_refused_total", None),
        Action::IpBlocked => ("sunbridge_ip_blocks_total", None),
        _ => return,
    };
    match label {
        Some((key, value)) => metrics::counter!(name, key => value).increment(1),
        None => metrics::counter!(name).increment(1),
    }
}
