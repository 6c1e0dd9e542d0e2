//! Metrics for Prometheus (S-LG-3), served on their own listener (`metrics_listen`), never on
//! the public port, optionally behind a bearer token (`metrics_token`). Requests by route and
//! status, latency histograms, and the security signals the alert rules in
//! `deploy/prometheus/alerts.yml` watch: sign-ins by outcome, throttles, second-factor
//! failures, refresh-token reuse, authorization failures, grants opened, refused webhooks and
//! blocked addresses. Gauges: mail waiting in the outbox, database connections, the database
//! answering.
//!
//! Security events are counted where they are audited (`audit::signals`, called by
//! `audit::record`), so a metric can never drift from the trail it summarises.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::{ExposeSecret, SecretString};

/// Latency buckets in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder (one per process, installed on first use).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "sunbridge_http_request_duration_seconds".into(),
                    ),
                    &LATENCY_BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::error!(error = %e, "metrics recorder could not be installed");
                    None
                }
            }
        })
        .as_ref()
}

/// One finished request.
pub fn record_request(method: &str, route: &str, status: u16, seconds: f64) {
    let status = status.to_string();
    metrics::counter!(
        "sunbridge_http_requests_total",
        "method" => method.to_owned(),
        "route" => route.to_owned(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!("sunbridge_http_request_duration_seconds", "route" => route.to_owned())
        .record(seconds);
}

/// Updates the gauges every `every` under `supervisor`: mail waiting, database connections,
/// the database up.
pub fn start_gauges(supervisor: &crate::supervisor::Supervisor, db: DatabaseConnection, every: Duration) {
    supervisor.periodic("gauges", crate::supervisor::Schedule::every(every), move || {
        let db = db.clone();
        async move {
            update_gauges(&db).await;
            Ok(crate::supervisor::Next::Wait)
        }
    });
}

async fn update_gauges(db: &DatabaseConnection) {
    let up = tokio::time::timeout(Duration::from_secs(2), db.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    metrics::gauge!("sunbridge_database_up").set(if up { 1.0 } else { 0.0 });
    let waiting = crate::mail::outbox_entity::Entity::find()
        .filter(crate::mail::outbox_entity::Column::SentAt.is_null())
        .filter(crate::mail::outbox_entity::Column::FailedAt.is_null())
        .count(db)
        .await;
    if let Ok(n) = waiting {
        metrics::gauge!("sunbridge_mail_queue_depth").set(n as f64);
    }
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::MySql => {
            let p = db.get_mysql_connection_pool();
            (p.size(), p.num_idle())
        }
        DatabaseBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    };
    metrics::gauge!("sunbridge_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("sunbridge_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("sunbridge_db_pool_connections", "state" => "in_use")
        .set((f64::from(size) - idle as f64).max(0.0));
}

#[derive(Clone)]
struct Scrape {
    handle: &'static PrometheusHandle,
    token: Option<SecretString>,
}

async fn scrape(State(s): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &s.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Compared as HMACs so the comparison takes the same time whatever matches.
        let a = crate::crypto::hmac_sha256(b"metrics-token", presented.as_bytes());
        let b = crate::crypto::hmac_sha256(b"metrics-token", token.expose_secret().as_bytes());
        if a != b {
            return StatusCode::UNAUTHORIZED.into_response();
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.handle.render(),
    )
        .into_response()
}

/// Serves `GET /metrics` on `listen` (its own listener, not the public one). Answers the
/// address it bound.
pub async fn serve(
    supervisor: &crate::supervisor::Supervisor,
    listen: SocketAddr,
    token: Option<SecretString>,
) -> anyhow::Result<SocketAddr> {
    let handle = handle().ok_or_else(|| anyhow::anyhow!("no metrics recorder"))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("Failed to listen for metrics on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    // The only router built outside the access table: it is not the application's, serves one
    // read-only path, and listens on its own address.
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(Scrape { handle, token });
    supervisor.service("metrics-listener", move |stop| async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
            .map_err(anyhow::Error::from)
    });
    Ok(addr)
}
