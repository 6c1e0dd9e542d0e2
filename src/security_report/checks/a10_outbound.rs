//! The controls of A10 Server-Side Request Forgery.

use super::*;

pub(super) async fn outbound(i: &Inputs<'_>) -> anyhow::Result<Control> {
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
