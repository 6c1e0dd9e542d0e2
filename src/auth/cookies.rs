//! The cookies of a browser: the session and the known device, both `__Host-` prefixed,
//! `Secure`, `HttpOnly`, `SameSite=Lax`; and reading one from a request. Plain functions of
//! headers, so the perimeter (request budgets, the address gate) can read them too.

use axum::http::{HeaderMap, HeaderValue, header};

pub const SESSION_COOKIE: &str = "__Host-sunbridge-session";
pub const DEVICE_COOKIE: &str = "__Host-sunbridge-device";

/// `Set-Cookie` for a new session (no Max-Age: it ends with the browser or the server-side
/// timeouts, whichever comes first).
pub fn session_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-sunbridge-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The known-device token (see `device.rs`), kept for a year.
pub fn device_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{DEVICE_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=31536000"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
