//! What makes the site an app a phone installs: the web app manifest, the service worker at
//! the site's root, the page shown without signal, and the session's deadlines for the app's
//! own clock. The worker and the scripts are files in `static/` (the CSP allows no inline
//! script); see `static/sw.js` for what is kept on the phone and when it is dropped.

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Nav, assets};
use crate::access::{PageUser, perm};
use crate::http::PageError;

/// The manifest: one app for everyone. `/start` sends each person where their role works
/// (a customer to their order, a crew to "Today", staff to the back office).
pub async fn manifest() -> Response {
    let icon = |name: &str, size: &str, purpose: &str| {
        serde_json::json!({
            "src": assets::icon_url(name),
            "sizes": size,
            "type": "image/png",
            "purpose": purpose,
        })
    };
    let body = serde_json::json!({
        "id": "/start",
        "name": "Sunbridge Solar",
        "short_name": "Sunbridge",
        "description": "Your solar installation from quote to switch-on; for crews, today's jobs and offers.",
        "start_url": "/start",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#1d2330",
        "icons": [
            icon("icon-192.png", "192x192", "any"),
            icon("icon-512.png", "512x512", "any"),
            icon("icon-maskable-512.png", "512x512", "maskable"),
        ],
        "shortcuts": [
            {"name": "Today", "url": "/installer", "description": "A crew's jobs and offers"},
            {"name": "My orders", "url": "/orders", "description": "Follow an installation"},
        ],
    });
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The service worker with the build's asset list before its code; checked for updates by the
/// browser on every visit (`no-cache`), so a new build reaches phones at their next visit.
pub async fn service_worker() -> Response {
    let mut keep: Vec<&str> = assets::all_urls();
    keep.push(OFFLINE);
    let preamble = format!(
        "const VERSION = {};\nconst ASSETS = {};\nconst OUTBOX = {};\n",
        serde_json::Value::from(assets::version()),
        serde_json::Value::from(keep),
        serde_json::Value::from(assets::outbox_js_url()),
    );
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        preamble + assets::SERVICE_WORKER,
    )
        .into_response()
}

pub const OFFLINE: &str = "/offline";

#[derive(Template)]
#[template(path = "offline.html")]
struct OfflinePage {
    nav: Nav,
}

/// What the app shows for a page it has not kept when there is no signal.
pub async fn offline() -> Result<Html<String>, PageError> {
    OfflinePage { nav: Nav::default() }
        .render()
        .map(Html)
        .map_err(|e| PageError::Internal(anyhow::Error::from(e).context("template failed")))
}

/// When the caller's session ends: after `idle_deadline` without a request, and at
/// `absolute_deadline` whatever happens.
#[derive(Serialize, ToSchema)]
pub struct SessionDeadlines {
    pub idle_deadline: DateTime<Utc>,
    pub absolute_deadline: DateTime<Utc>,
}

/// The signed-in browser session's deadlines, as of this request (which counts as activity:
/// the app calls it when the person asks to stay signed in).
pub async fn session(caller: PageUser<perm::OwnAccount>) -> axum::Json<SessionDeadlines> {
    axum::Json(SessionDeadlines {
        idle_deadline: caller.idle_deadline,
        absolute_deadline: caller.absolute_deadline,
    })
}
