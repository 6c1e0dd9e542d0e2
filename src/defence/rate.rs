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

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

use crate::audit::{self, Action, Actor, Details};
use crate::http::rate_limit::{Class, Decision, Key, Kind, Limiter};
use crate::http::{ApiError, RequestContext};

/// Routes that cost real CPU or storage besides the uploads (which the route table marks): a
/// quote runs a year of hourly simulation, the report and the verification walk the whole
/// audit chain. A unit test checks each is a route, so a renamed route cannot silently fall
/// back to a cheaper class.
pub const EXPENSIVE: [(&str, &str); 5] = [
    ("POST", "/api/v1/quotes"),
    ("POST", "/sites/{id}/quote"),
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

/// The class of a route; `upload` when the route table marks it as taking files.
pub fn classify(method: &Method, route: &str, upload: bool) -> Option<Class> {
    if EXEMPT.contains(&route) {
        return None;
    }
    if upload
        || EXPENSIVE
            .iter()
            .any(|(m, r)| *m == method.as_str() && *r == route)
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
    db: DatabaseConnection,
    session_cookie: &'static str,
    /// Credentials answered with something other than 401 lately: charged to themselves only.
    proved: moka::sync::Cache<Key, ()>,
    refusals: moka::sync::Cache<(Kind, Key), Arc<AtomicU32>>,
}

impl RateGuard {
    pub fn new(limiter: Limiter, db: DatabaseConnection) -> Self {
        Self {
            limiter,
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
    /// Redis). A bearer token and a session cookie are secrets of their own, so one digest
    /// space serves both.
    fn credential(&self, req: &Request) -> Option<Key> {
        if let Some(bearer) = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        {
            return Some(Key::from_digest(&crate::crypto::token_digest(bearer.trim())));
        }
        crate::auth::browser::cookie(req.headers(), self.session_cookie)
            .map(|c| Key::from_digest(&crate::crypto::token_digest(c)))
    }

    /// Counts a refusal; audits the key once it is sustained.
    async fn refused(&self, class: Class, kind: Kind, key: Key, ctx: Option<&RequestContext>) {
        metrics::counter!(
            "sunbridge_rate_limited_total",
            "class" => class.as_str(),
            "kind" => kind.as_str()
        )
        .increment(1);
        let count = self
            .refusals
            .get_with((kind, key), || Arc::new(AtomicU32::new(0)))
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

/// What a request was charged, for its answer.
pub struct Charged {
    class: Class,
    credential: Option<Key>,
    address: Option<Key>,
    /// The credential had proved itself, so the address was not charged.
    proved: bool,
    /// The charge with the least left, whose state the answer carries.
    tightest: Option<(Kind, Decision)>,
}

/// Charged by the route table's guard once the route is known, so it knows the route's class:
/// refuses the request over budget, and tells the client where it stands (`RateLimit-Policy`,
/// `RateLimit`). It runs on every request, so it allocates nothing unless it refuses: keys are
/// fixed-size digests and the policy headers are made once.
impl crate::access::admission::Admission for RateGuard {
    type Ticket = Option<Charged>;

    async fn admit(&self, route: &str, upload: bool, req: &mut Request) -> Result<Option<Charged>, Response> {
        let Some(class) = classify(req.method(), route, upload) else {
            return Ok(None);
        };
        let address = req
            .extensions()
            .get::<RequestContext>()
            .map(|c| Key::address(c.client_ip));
        let credential = self.credential(req);
        // At most two charges: the credential's, and the address's until the credential
        // proved itself.
        let mut charged: [Option<(Kind, Key, Decision)>; 2] = [None, None];
        if let Some(key) = credential {
            charged[0] = Some((
                Kind::Caller,
                key,
                self.limiter.charge(class, Kind::Caller, key).await,
            ));
        }
        let proved = credential.is_some_and(|c| self.proved.contains_key(&c));
        if !proved && let Some(key) = address {
            charged[1] = Some((
                Kind::Address,
                key,
                self.limiter.charge(class, Kind::Address, key).await,
            ));
        }
        if let Some((kind, key, refusal)) = charged.iter().flatten().find(|(_, _, d)| !d.allowed) {
            self.refused(class, *kind, *key, req.extensions().get::<RequestContext>())
                .await;
            let retry_after_secs = refusal.retry_after_secs();
            let mut response = if req.uri().path().starts_with("/api/") {
                ApiError::RateLimited { retry_after_secs }.into_response()
            } else {
                let mut page = crate::http::error::html_error(StatusCode::TOO_MANY_REQUESTS);
                page.headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs.into());
                page
            };
            self.limiter
                .write_headers(class, *kind, refusal, response.headers_mut());
            return Err(response);
        }
        Ok(Some(Charged {
            class,
            credential,
            address,
            proved,
            tightest: charged
                .iter()
                .flatten()
                .map(|(kind, _, d)| (*kind, *d))
                .min_by_key(|(_, d)| d.remaining),
        }))
    }

    async fn settle(&self, charged: Option<Charged>, response: &mut Response) {
        let Some(charged) = charged else { return };
        if let Some(key) = charged.credential {
            if response.status() == StatusCode::UNAUTHORIZED {
                // A made-up token costs its address, so a stream of them buys no budgets.
                if let Some(address) = charged.address {
                    self.limiter.charge(charged.class, Kind::Address, address).await;
                }
            } else if !charged.proved {
                self.proved.insert(key, ());
            }
        }
        if let Some((kind, decision)) = charged.tightest {
            self.limiter
                .write_headers(charged.class, kind, &decision, response.headers_mut());
        }
    }
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
        let class = |m: Method, r: &str| {
            let upload = routes
                .table()
                .iter()
                .any(|route| route.upload && route.method == m && route.path == r);
            classify(&m, r, upload)
        };
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
        assert_eq!(
            class(Method::POST, "/sites/{id}/usage/file"),
            Some(Class::Expensive)
        );
        assert_eq!(
            class(Method::POST, "/admin/catalog/weather"),
            Some(Class::Expensive)
        );
        assert_eq!(class(Method::GET, "/healthz"), None);
        assert_eq!(class(Method::GET, "/static/{file}"), None);
    }
}
