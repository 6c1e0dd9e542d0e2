//! The controls of A04 Insecure Design.

use super::*;

pub(super) fn defence(s: &Settings) -> Control {
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

pub(super) fn rate_limits(s: &Settings) -> Control {
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

pub(super) fn grants_design(s: &Settings) -> Control {
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
