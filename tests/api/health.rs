//! Liveness and readiness, including the database going away and coming back.

use std::time::Duration;

use crate::helpers::proxy::TcpProxy;
use crate::helpers::{spawn_app, spawn_app_with, test_server_url};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

async fn wait_for_status(app: &crate::helpers::TestApp, wanted: u16) {
    for _ in 0..50 {
        if app.get("/readyz").await.status().as_u16() == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("/readyz never answered {wanted}");
}

#[tokio::test]
async fn readyz_fails_while_the_database_is_gone_and_recovers_by_itself() {
    match test_server_url() {
        None => {
            let app = spawn_app().await;
            assert_eq!(app.get("/readyz").await.status(), 200);
            let file = app.sqlite_file().unwrap();
            let moved = file.with_extension("moved");
            std::fs::rename(&file, &moved).unwrap();
            let response = app.get("/readyz").await;
            assert_eq!(response.status(), 503);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                body,
                serde_json::json!({"status": "unavailable"}),
                "no internal detail"
            );
            std::fs::rename(&moved, &file).unwrap();
            wait_for_status(&app, 200).await;
        }
        Some(_) => {
            // A network database: put a proxy between the server and it, then cut the wire.
            let probe_dir = tempfile::tempdir().unwrap();
            let real_url = crate::helpers::fresh_database_url(&probe_dir).await;
            let mut url = url::Url::parse(&real_url).unwrap();
            let target = format!(
                "{}:{}",
                url.host_str().unwrap(),
                url.port_or_known_default().unwrap()
            );
            let proxy = TcpProxy::start(&target).await;
            url.set_port(Some(proxy.port())).unwrap();
            let proxied = url.to_string();
            let app = spawn_app_with(|s| s.database_url = Some(proxied.clone().into())).await;
            assert_eq!(app.get("/readyz").await.status(), 200);
            proxy.set_enabled(false).await;
            wait_for_status(&app, 503).await;
            proxy.set_enabled(true).await;
            wait_for_status(&app, 200).await;
        }
    }
}
