//! Builds the application: database, state, router with its middleware stack, listener
//! (plain or TLS), and runs it until a shutdown signal, letting in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::access::{PUBLIC, Routes};
use crate::auth::PasswordHasher;
use crate::config::Settings;
use crate::http::{context, error, headers, perimeter};
use crate::state::{AppServices, AppState};

pub struct Application {
    listener: tokio::net::TcpListener,
    metrics_addr: Option<SocketAddr>,
    local_addr: SocketAddr,
    router: Router,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    grace: Duration,
    /// The background workers, stopped with the server.
    supervisor: crate::supervisor::Supervisor,
    pub state: AppState,
}

impl Application {
    /// Checks the settings, connects (and migrates) the database, binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let problems = settings.problems();
        if !problems.is_empty() {
            anyhow::bail!(
                "refusing to start ({} environment):\n  - {}",
                if settings.is_production() {
                    "production"
                } else {
                    "development"
                },
                problems.join("\n  - ")
            );
        }
        let database_url = settings.database_url();
        let db = crate::db::connect(&database_url, settings.database_max_connections).await?;
        if settings.auto_migrate {
            crate::db::migrate(&db).await?;
        }
        let sqlite_file = crate::db::sqlite_path(database_url.expose_secret()).map(Arc::new);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let supervisor = crate::supervisor::Supervisor::new();
        let mailer = crate::mail::Mailer::start(db.clone(), &settings, &supervisor)?;
        if settings.housekeeping_interval_secs > 0 {
            crate::auth::housekeeping::start(&supervisor, db.clone(), settings.workers().housekeeping);
        }
        let secret_key = settings.secret_key_or_dev()?;
        crate::crypto::keys::register(std::sync::Arc::new(
            crate::crypto::keys::LocalKeyProvider::from_encoded(
                settings.master_key_or_dev()?.expose_secret(),
            )?,
        ));
        let webhook_secret = settings.payment_webhook_secret_or_dev(&secret_key)?;
        if settings.audit_checkpoint_secs > 0 {
            crate::audit::chain::start_checkpointer(
                &supervisor,
                db.clone(),
                settings.audit_checkpoint_key_or_derived(&secret_key),
                settings.workers().audit_checkpoint,
            );
        }
        crate::scheduling::dispatch::start(
            &supervisor,
            db.clone(),
            settings.market().dispatch_interval,
            settings.market().offer_timeout,
            settings.public_url.clone(),
            mailer.clone(),
        );
        crate::webhooks::start(
            &supervisor,
            db.clone(),
            crate::webhooks::Sender {
                client: crate::outbound::OutboundClient::new(settings.outbound_allow_local),
                retry_base: settings.workers().webhook_retry_base,
            },
            settings.workers().webhook_interval,
        );
        let pvwatts_api = settings.nrel_api_key.clone().map(|key| {
            Arc::new(crate::sizing::pvwatts_api::PvWattsApi::new(
                settings.nrel_api_url.clone(),
                key,
                crate::outbound::OutboundClient::new(settings.outbound_allow_local),
            ))
        });
        let shared = match &settings.redis_url {
            Some(url) => Some(crate::replica_sync::Shared::new(url, &settings.redis_prefix)?),
            None => None,
        };
        let auth_cache = crate::auth::cache::AuthCache::new(settings.sessions().auth_cache, shared.clone());
        let blocks = crate::defence::BlockList::new(db.clone(), settings.defence_rules(), shared.clone());
        if let Some(shared) = &shared {
            let (cache, list) = (auth_cache.clone(), blocks.clone());
            shared.start_subscriber(&supervisor, move |topic| match topic {
                crate::replica_sync::Topic::Auth => cache.clear_local(),
                crate::replica_sync::Topic::Blocks => list.invalidate(),
            });
        }
        let rate = settings.rate_budgets().map(|budgets| {
            let store = shared
                .clone()
                .map(|s| s as Arc<dyn crate::http::rate_limit::SharedBudgets>);
            Arc::new(crate::defence::rate::RateGuard::new(
                crate::http::rate_limit::Limiter::new(budgets, store),
                db.clone(),
            ))
        });
        let push = crate::push::Sender {
            client: crate::outbound::OutboundClient::new(settings.outbound_allow_local),
            vapid: crate::push::Vapid::from_secret(&secret_key, &settings.public_url)?,
            session_live: {
                let idle = crate::auth::session::IdleRule::of(&settings);
                Arc::new(move |db, session| {
                    Box::pin(async move {
                        crate::auth::session::is_live(&db, session, chrono::Utc::now(), idle).await
                    })
                })
            },
        };
        crate::push::start(&supervisor, db.clone(), push.clone(), Duration::from_secs(1));
        let live = crate::marketplace::live::Live::new();
        crate::marketplace::watch::start(live.clone(), &supervisor, db.clone(), Duration::from_secs(1));
        let state: AppState = AppServices {
            push,
            live,
            rate,
            shared,
            pvwatts_api,
            blocks,
            payments: crate::payments::provider::from_settings(&settings)?,
            files: crate::files::FileStore::open(&settings, &db)?,
            webhook_secret,
            throttle_rules: Arc::new(crate::auth::throttle::Rules::default()),
            auth_cache,
            mailer,
            db,
            secret_key,
            hasher: PasswordHasher::new(cores)?,
            sqlite_file,
            settings: Arc::new(settings),
        }
        .into();
        let tls = match (&state.settings.tls_cert_file, &state.settings.tls_key_file) {
            (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key)?),
            _ => None,
        };
        crate::monitoring::handle();
        crate::monitoring::start_gauges(&supervisor, state.db.clone(), Duration::from_secs(15));
        let metrics_addr = match state.settings.metrics_listen {
            Some(listen) => Some(
                crate::monitoring::serve(&supervisor, listen, state.settings.metrics_token.clone()).await?,
            ),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(state.settings.listen)
            .await
            .with_context(|| format!("Failed to listen on {}", state.settings.listen))?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            supervisor,
            metrics_addr,
            local_addr,
            router: router(state.clone()),
            tls,
            grace: state.settings.workers().shutdown_grace,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The address to reach this server at (the bound port, not the configured one).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Serves until `shutdown` resolves, then stops accepting and gives in-flight requests
    /// up to `shutdown_grace_secs` to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let grace = self.grace;
        let supervisor = self.supervisor;
        // The signal stops new requests and tells the workers to finish their passes; both
        // then get the same grace period.
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signal = {
            let (stopping, supervisor) = (stopping.clone(), supervisor.clone());
            async move {
                shutdown.await;
                supervisor.stop();
                stopping.notify_one();
            }
        };
        let served = match self.tls {
            None => {
                let server = axum::serve(self.listener, app).with_graceful_shutdown(signal);
                tokio::select! {
                    result = server => result.context("HTTP server failed"),
                    () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
                        tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
                        Ok(())
                    }
                }
            }
            Some(tls) => {
                let handle = axum_server::Handle::new();
                let trigger = handle.clone();
                tokio::spawn(async move {
                    signal.await;
                    trigger.graceful_shutdown(Some(grace));
                });
                let listener = self.listener.into_std()?;
                axum_server::from_tcp_rustls(listener, tls)?
                    .handle(handle)
                    .serve(app)
                    .await
                    .context("HTTPS server failed")
            }
        };
        supervisor.shutdown(grace).await;
        served
    }
}

/// Every route of the application with the access it declares (S-AC-1). The tests walk this
/// table; `sunbridge routes` prints it.
pub fn routes(settings: &Settings) -> Routes {
    let mut routes = Routes::new()
        .get("/healthz", PUBLIC, crate::health::healthz)
        .get("/readyz", PUBLIC, crate::health::readyz)
        .get("/api/v1/openapi.json", PUBLIC, crate::openapi::openapi_json)
        .merge(crate::auth::router())
        .merge(crate::access::router())
        .merge(crate::support::router())
        .merge(crate::staff::router())
        .merge(crate::audit::router())
        .merge(crate::sales::router())
        .merge(crate::catalog::router())
        .merge(crate::sites::router())
        .merge(crate::quotes::router())
        .merge(crate::defence::router())
        .merge(crate::security_report::router())
        .merge(crate::webhooks::router())
        .merge(crate::crews::router())
        .merge(crate::orders::router())
        .merge(crate::payments::router())
        .merge(crate::scheduling::router())
        .merge(crate::jobs::router())
        .merge(crate::marketplace::router())
        .merge(crate::push::api::router())
        .merge(crate::web::router());
    if settings.payment_provider == crate::config::PaymentProvider::Dev {
        routes = routes.merge(crate::payments::dev::router());
    }
    if settings.debug_routes {
        routes = routes.merge(crate::debug_routes::router());
    }
    routes
}

/// The whole router: domain routers merged, then the cross-cutting middleware.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let largest_body = settings.largest_body_bytes();
    // The request budgets are charged by the route table's guard, once the route is matched,
    // so they know the route's class.
    let (app, _) = routes(&settings).finish_with(
        crate::access::routes::BodyLimits::from_settings(&settings),
        state.rate.clone(),
    );
    let gate_state = state.clone();
    let nav_state = state.clone();
    let app = app.with_state(state);

    // Outermost first: the request context wraps everything, so even a panic or a timeout
    // gets a request id, security headers, our error format and an access-log line.
    let middleware = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            context::ContextConfig {
                trusted_proxies: settings.trusted_proxies.clone().into(),
            },
            context::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            headers::HeaderConfig {
                hsts: settings.https_for_clients(),
                csp: headers::content_security_policy(match settings.payment_provider {
                    crate::config::PaymentProvider::Stripe => &["https://checkout.stripe.com"],
                    crate::config::PaymentProvider::Dev => &[],
                }),
            },
            headers::security_headers,
        ))
        // After the headers, so a refusal carries them too.
        .layer(axum::middleware::from_fn_with_state(
            perimeter::HostConfig {
                allowed: settings.allowed_host_names().into(),
            },
            perimeter::allowed_host,
        ))
        // Outside the gate and the limits, so a script on an allowed origin can read a 403 or
        // a 429 and its Retry-After.
        .layer(axum::middleware::from_fn_with_state(
            perimeter::Cors::new(&settings.cors_allowed_origins),
            perimeter::cors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            gate_state,
            crate::defence::gate,
        ))
        // Outside the bare-error rendering, so every error page a browser gets can be drawn
        // again with the signed-in navigation.
        .layer(axum::middleware::from_fn_with_state(
            nav_state,
            crate::web::error_pages::with_navigation,
        ))
        .layer(axum::middleware::from_fn(error::render_bare_errors))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.workers().request_timeout,
        ))
        // The outer cap is the largest any route takes; the route guard applies each route's own
        // (ordinary or upload) before its handler.
        .layer(RequestBodyLimitLayer::new(largest_body))
        .layer(DefaultBodyLimit::max(largest_body));
    app.layer(middleware)
}

/// Resolves on SIGTERM (Kubernetes, systemd) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
