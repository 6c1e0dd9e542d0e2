//! S-LG-2: canary secrets sent in every part of a request never reach the log.

use crate::helpers::{logs, request_id, spawn_app};

#[tokio::test]
async fn canary_secrets_in_a_request_never_reach_the_log() {
    let app = spawn_app().await;
    let canaries = [
        "CANARY-BEARER-7f3a",
        "CANARY-COOKIE-91b2",
        "CANARY-QUERY-55c1",
        "CANARY-BODY-0d4e",
        "CANARY-HEADER-a8e0",
    ];
    let mut ids = Vec::new();
    for path in ["/api/v1/__test/echo", "/api/v1/does-not-exist", "/__test/fail"] {
        let response = app
            .client
            .post(app.url(&format!(
                "{path}?token={}&reset_code={}",
                canaries[2], canaries[2]
            )))
            .header("authorization", format!("Bearer {}", canaries[0]))
            .header("cookie", format!("__Host-session={}", canaries[1]))
            .header("x-api-key", canaries[4])
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"email":"a@example.com","password":"{}"}}"#,
                canaries[3]
            ))
            .send()
            .await
            .unwrap();
        ids.push(request_id(&response));
    }
    let log = logs().contents();
    // The requests were logged (so the test looks at the right place)…
    for id in &ids {
        assert!(log.contains(id.as_str()), "request {id} not in the log");
    }
    // …and no canary was.
    for canary in canaries {
        assert!(!log.contains(canary), "{canary} reached the log:\n{log}");
    }
}

#[tokio::test]
async fn access_log_lines_have_the_required_fields() {
    let app = spawn_app().await;
    let response = app.get("/faq").await;
    let id = request_id(&response);
    let line = app.access_log_line(&id);
    for field in [
        "time",
        "level",
        "request_id",
        "method",
        "route",
        "status",
        "latency_ms",
        "client_ip",
    ] {
        assert!(!line[field].is_null(), "missing {field} in {line}");
    }
    assert_eq!(line["route"], "/faq");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["status"], 200);
    assert!(line["time"].as_str().unwrap().ends_with('Z'), "UTC time");
}
