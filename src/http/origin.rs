//! Same-origin check for browser form posts (part of S-AC-8). Browsers send `Sec-Fetch-Site`
//! and `Origin` on POSTs; a cross-site form post is refused with 403 before the handler runs.
//! Cookie-authenticated forms add a CSRF token on top of this.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use super::PageError;
use crate::state::AppState;

/// Proof that the request came from one of our own pages (or a non-browser client).
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.method == Method::GET || parts.method == Method::HEAD {
            return Ok(SameOrigin);
        }
        if let Some(site) = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            // "none" is a user typing the URL or using a bookmark.
            return match site {
                "same-origin" | "none" => Ok(SameOrigin),
                _ => Err(PageError::Forbidden),
            };
        }
        match parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) if origin_matches(origin, &state.settings.public_url, parts) => Ok(SameOrigin),
            Some(_) => Err(PageError::Forbidden),
            // Neither header: not a modern browser's cross-site request (old browsers and
            // command-line clients); the CSRF token still protects authenticated forms.
            None => Ok(SameOrigin),
        }
    }
}

fn origin_matches(origin: &str, public_url: &url::Url, parts: &Parts) -> bool {
    let public = public_url.origin().ascii_serialization();
    if origin == public {
        return true;
    }
    // In development the server is often reached on another port or as localhost; accept the
    // Host it was reached at only when it is a loopback address.
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let loopback =
        host.starts_with("127.0.0.1") || host.starts_with("localhost") || host.starts_with("[::1]");
    loopback && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}
