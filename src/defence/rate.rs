//! Request budgets per caller and per client address (S-DE-3), by class of route.
//!
//! A request with a credential (bearer token or session cookie) is charged to that credential;
//! one without, or with one that has not yet proved itself here, is charged to its client
//! address (an IPv6 client's /64) as well, with a larger budget since many people can share an
//! address. A credential proves itself by being answered with anything but 401; a 401 costs
//! the address once more, so a stream of made-up tokens buys no fresh budgets. Over budget:
//! 429 with `Retry-After`, counted in metrics, and audited once a key keeps going.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

use crate::audit::{self, Action, Actor, Details};
use crate::http::rate_limit::{Class, Decision, Kind, Limiter};
use crate::http::{ApiError, RequestContext};

/// Routes that cost real CPU or storage besides the uploads (which the route table marks): a
/// quote runs a year of hourly simulation, the report and the verification walk the whole
/// audit chain. A unit test checks each is a route, so a renamed route cannot silently fall
/// back to a cheaper class.
pub const EXPENSIVE: [(&str, &str); 7] = [
    ("POST", "/api/v1/quotes"),
    ("POST", "/sites/{id}/quote"),
    ("POST", "/sites/{id}/usage/file"),
    ("POST", "/admin/catalog/weather"),
    ("GET", "/api/v1/admin/security/report"),
    ("GET", "/admin/security/report"),
    ("GET", "/api/v1/admin/audit/verify"),
];

/// Routes no budget applies to: the probes (an orchestrator must never be refused) and the
/// static files a page needs.
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/static/{file}"];

/// Refusals of one key within `REPORT_WINDOW` after which it is audited (once per window):
/// a person who clicks too fast is not an incident; a script that keeps going is.
const SUSTAINED: u32 = 50;
const REPORT_WINDOW: Duration = Duration::from_secs(600);

/// The class of a route: `uploads` are the routes the table marks as taking files.
pub fn classify(method: &Method, route: &str, uploads: &[(Method, &'static str)]) -> Option<Class> {
    if EXEMPT.contains(&route) {
        return None;
    }
    if EXPENSIVE
        .iter()
        .any(|(m, r)| *m == method.as_str() && *r == route)
        || uploads.iter().any(|(m, r)| m == method && *r == route)
    {
        return Some(Class::Expensive);
    }
    Some(match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Class::Read,
        _ => Class::Write,
    })
}

pub struct RateGuard {
    limiter: Limiter,
    uploads: Vec<(Method, &'static str)>,
    db: DatabaseConnection,
    session_cookie: &'static str,
    /// Credentials answered with something other than 401 lately: charged to themselves only.
    proved: moka::sync::Cache<String, ()>,
    refusals: moka::sync::Cache<String, Arc<AtomicU32>>,
}

impl RateGuard {
    pub fn new(limiter: Limiter, db: DatabaseConnection, routes: &[crate::access::routes::Route]) -> Self {
        Self {
            limiter,
            uploads: routes
                .iter()
                .filter(|r| r.upload)
                .map(|r| (r.method.clone(), r.path))
                .collect(),
            db,
            session_cookie: crate::auth::browser::SESSION_COOKIE,
            proved: moka::sync::Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            refusals: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(REPORT_WINDOW)
                .build(),
        }
    }

    /// The credential a request carries, hashed (the raw token is never a key in memory or in
    /// Redis).
    fn credential(&self, req: &Request) -> Option<String> {
        if let Some(bearer) = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        {
            return Some(format!("t:{}", crate::crypto::token_hash(bearer.trim())));
        }
        crate::auth::browser::cookie(req.headers(), self.session_cookie)
            .map(|c| format!("s:{}", crate::crypto::token_hash(c)))
    }

    /// Counts a refusal; audits the key once it is sustained.
    async fn refused(&self, class: Class, kind: Kind, key: &str, ctx: Option<&RequestContext>) {
        metrics::counter!(
            "sunbridge_rate_limited_total",
            "class" => class.as_str(),
            "kind" => match kind { Kind::Caller => "caller", Kind::Address => "address" }
        )
        .increment(1);
        let count = self
            .refusals
            .get_with(key.to_owned(), || Arc::new(AtomicU32::new(0)))
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if count != SUSTAINED {
            return;
        }
        let Some(ctx) = ctx else { return };
        tracing::warn!(
            class = class.as_str(),
            refusals = count,
            "sustained requests over budget"
        );
        let details = Details::new()
            .with("class", class.as_str())
            .with(
                "charged_to",
                match kind {
                    Kind::Caller => "credential",
                    Kind::Address => "address",
                },
            )
            .with("refusals", i64::from(count))
            .with("window_minutes", (REPORT_WINDOW.as_secs() / 60) as i64);
        if let Err(e) = audit::record(
            &self.db,
            &Actor::anonymous(ctx),
            Action::RateLimited,
            None,
            details,
        )
        .await
        {
            tracing::error!(error = %e, "auditing a rate-limited client failed");
        }
    }
}

/// The route layer: charges the request, refuses it over budget, and tells the client where
/// it stands (`RateLimit-Policy`, `RateLimit`).
pub async fn limit(State(guard): State<Arc<RateGuard>>, req: Request, next: Next) -> Response {
    let Some(class) = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| classify(req.method(), route.as_str(), &guard.uploads))
    else {
        return next.run(req).await;
    };
    let ctx = req.extensions().get::<RequestContext>().cloned();
    let address = ctx
        .as_ref()
        .map(|c| format!("a:{}", crate::http::client_ip::group(c.client_ip)));
    let credential = guard.credential(&req);
    let mut charged: Vec<(Kind, &str, Decision)> = Vec::with_capacity(2);
    if let Some(key) = &credential {
        charged.push((
            Kind::Caller,
            key,
            guard.limiter.charge(class, Kind::Caller, key).await,
        ));
    }
    let proved = credential.as_ref().is_some_and(|c| guard.proved.contains_key(c));
    if !proved && let Some(key) = &address {
        charged.push((
            Kind::Address,
            key,
            guard.limiter.charge(class, Kind::Address, key).await,
        ));
    }
    if let Some((kind, key, refusal)) = charged.iter().find(|(_, _, d)| !d.allowed) {
        guard.refused(class, *kind, key, ctx.as_ref()).await;
        let retry_after_secs = refusal.retry_after_secs();
        let mut response = if req.uri().path().starts_with("/api/") {
            ApiError::RateLimited { retry_after_secs }.into_response()
        } else {
            let mut page = crate::http::error::html_error(StatusCode::TOO_MANY_REQUESTS);
            if let Ok(v) = retry_after_secs.to_string().parse() {
                page.headers_mut().insert(header::RETRY_AFTER, v);
            }
            page
        };
        refusal.write_headers(class, response.headers_mut());
        return response;
    }
    let tightest = charged.iter().map(|(_, _, d)| *d).min_by_key(|d| d.remaining);
    let mut response = next.run(req).await;
    if let Some(key) = credential {
        if response.status() == StatusCode::UNAUTHORIZED {
            if let Some(address) = &address {
                guard.limiter.charge(class, Kind::Address, address).await;
            }
        } else if !proved {
            guard.proved.insert(key, ());
        }
    }
    if let Some(decision) = tightest {
        decision.write_headers(class, response.headers_mut());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expensive_route_is_a_route() {
        let routes = crate::startup::routes(&crate::config::Settings::default());
        let table: Vec<(String, String)> = routes
            .table()
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        for (method, path) in EXPENSIVE {
            assert!(
                table.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is not a route"
            );
        }
    }

    #[test]
    fn classes_by_method_and_route() {
        let routes = crate::startup::routes(&crate::config::Settings::default());
        let uploads: Vec<(Method, &'static str)> = routes
            .table()
            .iter()
            .filter(|r| r.upload)
            .map(|r| (r.method.clone(), r.path))
            .collect();
        let class = |m: Method, r: &str| classify(&m, r, &uploads);
        assert_eq!(class(Method::GET, "/api/v1/me"), Some(Class::Read));
        assert_eq!(class(Method::PATCH, "/api/v1/me"), Some(Class::Write));
        assert_eq!(class(Method::POST, "/api/v1/quotes"), Some(Class::Expensive));
        assert_eq!(class(Method::GET, "/api/v1/quotes"), Some(Class::Read));
        // Uploads, from the route table.
        assert_eq!(
            class(Method::POST, "/api/v1/sites/{id}/usage"),
            Some(Class::Expensive)
        );
        assert_eq!(
            class(Method::POST, "/api/v1/jobs/{id}/photos"),
            Some(Class::Expensive)
        );
        assert_eq!(class(Method::GET, "/healthz"), None);
        assert_eq!(class(Method::GET, "/static/{file}"), None);
    }
}
