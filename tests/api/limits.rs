//! S-IN-3, S-DE-2: bodies over the limit get 413 before they are read whole; slow requests
//! are cut off by the request timeout.

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_declared_oversized_body_gets_413() {
    let app = spawn_app_with(|s| s.body_limit_bytes = 64 * 1024).await;
    let response = app
        .client
        .post(app.url("/api/v1/__test/echo"))
        .body(vec![b'x'; 64 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
    // Exactly at the limit is fine.
    let response = app
        .client
        .post(app.url("/api/v1/__test/echo"))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_streamed_body_without_length_is_cut_at_the_limit() {
    let app = spawn_app_with(|s| s.body_limit_bytes = 64 * 1024).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..100).map(|_| Ok(vec![b'y'; 4096])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let response = app
        .client
        .post(app.url("/api/v1/__test/echo"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_answered_503() {
    let app = spawn_app_with(|s| s.request_timeout_secs = 1).await;
    let response = app.get("/__test/slow?ms=5000").await;
    assert_eq!(response.status(), 503);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(app.get("/__test/slow?ms=10").await.status(), 200);
}
