//! The controls of A01 Broken Access Control.

use super::*;

pub(super) async fn a01(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Vec<Control>> {
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
    let ttl = i.settings.links().access_grant;
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

pub(super) fn cross_origin(s: &Settings) -> Control {
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

pub(super) fn allowed_hosts(s: &Settings) -> Control {
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
