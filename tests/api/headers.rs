//! S-MC-1, S-CR-2: security headers on every response, pages and API errors alike.

use crate::helpers::{spawn_app, spawn_app_with};

const EXPECTED: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

fn assert_security_headers(response: &reqwest::Response) {
    let h = response.headers();
    for (name, value) in EXPECTED {
        assert_eq!(
            h.get(*name).map(|v| v.to_str().unwrap()),
            Some(*value),
            "header {name} on {}",
            response.url()
        );
    }
    let permissions = h["permissions-policy"].to_str().unwrap();
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(permissions.contains(feature), "{permissions}");
    }
    assert!(h.get("server").is_none(), "a Server header reveals the software");
    assert!(h.get("x-powered-by").is_none());
    assert!(h.get("x-request-id").is_some());
}

#[tokio::test]
async fn pages_carry_every_security_header_and_are_not_cached() {
    let app = spawn_app().await;
    for path in ["/", "/faq"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        assert_security_headers(&response);
        assert_eq!(response.headers()["cache-control"], "no-store");
        // Plain HTTP in development: HSTS would be ignored, and is not sent.
        assert!(response.headers().get("strict-transport-security").is_none());
    }
}

#[tokio::test]
async fn api_errors_carry_every_security_header() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/no-such-thing").await;
    assert_eq!(response.status(), 404);
    assert_security_headers(&response);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let response = app.get("/api/v1/__test/fail").await;
    assert_eq!(response.status(), 500);
    assert_security_headers(&response);
}

#[tokio::test]
async fn a_panic_and_a_413_still_carry_the_headers() {
    let app = spawn_app().await;
    let response = app.get("/__test/panic").await;
    assert_eq!(response.status(), 500);
    assert_security_headers(&response);
    let response = app
        .client
        .post(app.url("/api/v1/__test/echo"))
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_security_headers(&response);
}

#[tokio::test]
async fn hsts_is_sent_behind_a_trusted_tls_proxy() {
    let app = spawn_app_with(|s| {
        s.behind_tls_proxy = true;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let response = app.get("/").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

#[tokio::test]
async fn the_request_id_is_ours_not_the_clients() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "attacker-chosen")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "attacker-chosen");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let other = app.get("/healthz").await;
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}
