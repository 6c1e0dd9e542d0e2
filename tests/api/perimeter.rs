//! The perimeter: requests for a host we are not get 400 (S-AC-10), and only listed web
//! origins may read the JSON API across origins, never with credentials, never a page (S-AC-9).

use reqwest::header::{HOST, ORIGIN};
use serde_json::Value;
use sunbridge::access::Role;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const APP_ORIGIN: &str = "https://app.sunbridge.example";

async fn with_host(app: &TestApp, path: &str, host: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(HOST, host)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_request_for_a_host_we_are_not_gets_400() {
    let app = spawn_app_with(|s| {
        s.public_url = "https://solar.example/".parse().unwrap();
        s.allowed_hosts = vec!["www.solar.example".into()];
    })
    .await;
    for host in [
        "solar.example",
        "SOLAR.example.",
        "www.solar.example",
        "solar.example:8443",
    ] {
        assert_eq!(with_host(&app, "/", host).await.status(), 200, "{host}");
    }
    // Development answers on loopback names too, so a laptop's browser works.
    assert_eq!(with_host(&app, "/", "localhost:8080").await.status(), 200);

    for host in [
        "evil.example",
        "solar.example.evil.example",
        "solar.example@evil.example",
    ] {
        let page = with_host(&app, "/", host).await;
        assert_eq!(page.status(), 400, "{host}");
        let api = with_host(&app, "/api/v1/catalog/panels", host).await;
        assert_eq!(api.status(), 400, "{host}");
        assert_eq!(
            api.headers()["content-type"],
            "application/problem+json",
            "{host}"
        );
        let body: Value = api.json().await.unwrap();
        assert!(!body.to_string().contains("evil"), "the host is not echoed");
    }
    // Probes answer whatever the host: an orchestrator asks by the pod's address.
    assert_eq!(with_host(&app, "/healthz", "10.1.2.3:8080").await.status(), 200);
    assert_eq!(with_host(&app, "/readyz", "10.1.2.3:8080").await.status(), 200);
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_listed_origins_may_call_the_api_and_never_with_credentials() {
    let app = spawn_app_with(|s| s.cors_allowed_origins = vec![APP_ORIGIN.into()]).await;
    let ann = app.member("ann@example.com", Role::Customer).await;

    let allowed = preflight(&app, "/api/v1/me", APP_ORIGIN).await;
    assert!(allowed.status().is_success());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], APP_ORIGIN);
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    assert!(h.get("access-control-allow-credentials").is_none());
    assert!(h["vary"].to_str().unwrap().to_lowercase().contains("origin"));

    // The actual call: readable by the listed origin, with its rate and request-id headers.
    let call = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&ann.token)
        .header(ORIGIN, APP_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(call.headers()["access-control-allow-origin"], APP_ORIGIN);
    assert!(call.headers().get("access-control-allow-credentials").is_none());
    let exposed = call.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"));

    // Any other origin, even a look-alike, is told nothing.
    for origin in [
        "https://evil.example",
        "https://app.sunbridge.example.evil.example",
        "http://app.sunbridge.example",
        "null",
    ] {
        let refused = preflight(&app, "/api/v1/me", origin).await;
        assert!(
            refused.headers().get("access-control-allow-origin").is_none(),
            "{origin}"
        );
        let call = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&ann.token)
            .header(ORIGIN, origin)
            .send()
            .await
            .unwrap();
        assert!(
            call.headers().get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }

    // Pages never answer another origin, listed or not.
    let page = app
        .client
        .get(app.url("/"))
        .header(ORIGIN, APP_ORIGIN)
        .send()
        .await
        .unwrap();
    assert!(page.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn with_no_origins_listed_there_is_no_cross_origin_access() {
    let app = spawn_app().await;
    let r = preflight(&app, "/api/v1/me", APP_ORIGIN).await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(r.headers().get("access-control-allow-methods").is_none());
}
