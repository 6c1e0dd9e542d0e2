//! S-AU-3 (and the audit trail's client IP): `X-Forwarded-For` counts only from a trusted proxy.

use crate::helpers::{request_id, spawn_app, spawn_app_with};

async fn logged_client_ip(app: &crate::helpers::TestApp, forwarded_for: &str) -> String {
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap();
    let id = request_id(&response);
    let line = app.access_log_line(&id);
    line["client_ip"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    assert_eq!(logged_client_ip(&app, "203.0.113.9").await, "127.0.0.1");
}

#[tokio::test]
async fn a_trusted_proxy_is_believed() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    assert_eq!(logged_client_ip(&app, "203.0.113.9").await, "203.0.113.9");
    // What the client itself prepended is not believed, only what our proxy appended.
    assert_eq!(
        logged_client_ip(&app, "198.51.100.1, 203.0.113.9").await,
        "203.0.113.9"
    );
}
