//! Security headers on every response (S-MC-1, S-CR-2).

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// No `unsafe-inline` anywhere: templates carry no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

#[derive(Clone)]
pub struct HeaderConfig {
    /// Clients reach us over HTTPS (our own TLS, or a TLS-terminating proxy).
    pub hsts: bool,
    /// The policy sent on every response (`content_security_policy`).
    pub csp: HeaderValue,
}

/// The CSP, with `form_targets` added to `form-action`: the deposit form redirects to the
/// payment provider's page, and browsers apply `form-action` to a form's redirects too.
pub fn content_security_policy(form_targets: &[&str]) -> HeaderValue {
    let mut policy = CONTENT_SECURITY_POLICY.to_owned();
    for target in form_targets {
        policy.push(' ');
        policy.push_str(target);
    }
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static(CONTENT_SECURITY_POLICY))
}

pub async fn security_headers(State(config): State<HeaderConfig>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    h.insert(header::CONTENT_SECURITY_POLICY, config.csp.clone());
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Older browsers ignore frame-ancestors.
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    // Pages that carry a token in their URL set `no-referrer` themselves; keep theirs.
    if !h.contains_key(header::REFERRER_POLICY) {
        set(h, header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    }
    // A page that uses the camera (photo upload) may grant itself `camera=(self)`.
    if !h.contains_key("permissions-policy") {
        set(
            h,
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        );
    }
    // Everything is private unless a handler said otherwise (only static assets do), so an
    // authenticated page can never be kept by a shared cache or the back button.
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if config.hsts {
        set(h, header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
    }
    h.remove(header::SERVER);
    h.remove("x-powered-by");
    response
}
