//! The controls of A07 Identification and Authentication Failures.

use super::*;

pub(super) fn throttling(i: &Inputs<'_>) -> Control {
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

pub(super) async fn staff_mfa(i: &Inputs<'_>) -> anyhow::Result<Control> {
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

pub(super) async fn stale_staff(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
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

pub(super) fn sessions(s: &Settings) -> Control {
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
