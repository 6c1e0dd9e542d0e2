//! The perimeter every request crosses before identity: the `Host` it names (S-AC-10) and,
//! for the JSON API only, which other web origins may read the answer (S-AC-9).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{ApiError, PageError};

/// Probes are answered whatever the `Host`: an orchestrator asks by the pod's address.
fn is_probe(path: &str) -> bool {
    path == "/healthz" || path == "/readyz"
}

#[derive(Clone)]
pub struct HostConfig {
    /// Lower-case host names, without port (see `Settings::allowed_host_names`).
    pub allowed: Arc<[String]>,
}

/// The host a request names: the authority of an absolute request target (HTTP/2), or `Host`.
fn requested_host(req: &Request) -> Option<String> {
    let host = match req.uri().host() {
        Some(host) => host.to_owned(),
        None => {
            let value = req.headers().get(header::HOST)?.to_str().ok()?;
            value.parse::<Authority>().ok()?.host().to_owned()
        }
    };
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

/// Answers 400 to a request for a host we are not (S-AC-10): a forged `Host` can then never
/// reach a page, a cache key or a log line as if it were ours. Links and redirects are built
/// from `public_url` regardless.
pub async fn allowed_host(State(config): State<HostConfig>, req: Request, next: Next) -> Response {
    if is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    match requested_host(&req) {
        Some(host) if config.allowed.contains(&host) => next.run(req).await,
        _ if req.uri().path().starts_with("/api/") => {
            ApiError::BadRequest("This server does not answer for the host named in the request.".into())
                .into_response()
        }
        _ => PageError::BadRequest.into_response(),
    }
}

/// The CORS policy of the JSON API, when origins are allowed.
#[derive(Clone)]
pub struct Cors(Option<CorsLayer>);

impl Cors {
    /// `origins` were checked by `Settings::problems` (exact origins, https in production).
    pub fn new(origins: &[String]) -> Self {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
            .collect();
        if list.is_empty() {
            return Self(None);
        }
        let layer = CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([
                header::RETRY_AFTER,
                header::LOCATION,
                HeaderName::from_static("ratelimit"),
                HeaderName::from_static("ratelimit-policy"),
                HeaderName::from_static("x-request-id"),
            ])
            // Bearer tokens only: a cookie never rides a cross-origin call (S-AC-8).
            .allow_credentials(false)
            .max_age(std::time::Duration::from_secs(600));
        Self(Some(layer))
    }
}

/// Applies the CORS policy to `/api/` routes only; pages never answer another origin.
pub async fn cors(State(cors): State<Cors>, req: Request, next: Next) -> Response {
    match &cors.0 {
        Some(layer) if req.uri().path().starts_with("/api/") => {
            match layer.clone().layer(next).oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        _ => next.run(req).await,
    }
}
