//! Per-request context: a request id we generate (never one sent by the client), the
//! client IP, the tracing span every log line of the request carries, and the access log.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tracing::Instrument;

use super::error::{ApiError, ErrorDetail};

pub use super::request_id::{RequestId, current_request_id};

#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: RequestId,
    pub client_ip: IpAddr,
    /// The client's address is blocked, and the request was let through only because it may
    /// carry a credential (a sign-in from a known device, a refresh token) that the handler
    /// checks (S-DE-4).
    pub address_blocked: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("request context middleware is not installed")))
    }
}

#[derive(Clone)]
pub struct ContextConfig {
    pub trusted_proxies: Arc<[IpNet]>,
}

pub async fn middleware(State(config): State<ContextConfig>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = RequestId::new();
    // An id chosen by the client could collide with, or impersonate, another request's.
    req.headers_mut().remove("x-request-id");
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let client_ip = super::client_ip::resolve(peer, req.headers(), &config.trusted_proxies);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let method = req.method().clone();
    req.extensions_mut().insert(RequestContext {
        request_id,
        client_ip,
        address_blocked: false,
    });

    // Path and query are not logged: query strings can carry tokens; the route template is enough.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
        client_ip = %client_ip,
        user_id = tracing::field::Empty,
        role = tracing::field::Empty,
    );
    let mut response = super::request_id::scope(request_id, next.run(req))
        .instrument(span.clone())
        .await;

    let status = response.status().as_u16();
    // Microsecond resolution is plenty and keeps the lines short.
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    if let Some(ErrorDetail(detail)) = response.extensions().get::<ErrorDetail>() {
        tracing::error!(parent: &span, status, detail = %detail, "request failed");
    }
    tracing::info!(parent: &span, status, latency_ms, "request finished");
    crate::monitoring::record_request(method.as_str(), &route, status, started.elapsed().as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
