//! S-MC-2: errors are generic; the detail goes to the log with the request id.

use crate::helpers::{request_id, spawn_app};

#[tokio::test]
async fn an_api_failure_is_a_generic_problem_with_the_request_id() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/__test/fail").await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let id = request_id(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 500);
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["type"], "/problems/internal_error");
    assert_eq!(body["request_id"], id.as_str());
    let text = body.to_string();
    assert!(
        !text.contains("SELECT") && !text.contains("internal_detail"),
        "detail leaked: {text}"
    );
    // The detail is not lost: it is in the log, under the same request id.
    let lines = app.log_lines_of(&id);
    assert!(
        lines.iter().any(|l| l["detail"]
            .as_str()
            .is_some_and(|d| d.contains("internal_detail"))),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_page_failure_is_a_plain_page_with_a_reference() {
    let app = spawn_app().await;
    let response = app.get("/__test/fail").await;
    assert_eq!(response.status(), 500);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let id = request_id(&response);
    let body = response.text().await.unwrap();
    assert!(body.contains("Something went wrong"));
    assert!(body.contains(&id), "the page quotes the request id");
    assert!(!body.contains("SELECT") && !body.contains("internal_detail"));
}

#[tokio::test]
async fn a_panicking_handler_answers_500_instead_of_dropping_the_connection() {
    let app = spawn_app().await;
    let response = app.get("/__test/panic").await;
    assert_eq!(response.status(), 500);
    let id = request_id(&response);
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("/srv/secret/path") && !body.contains("panic"),
        "{body}"
    );
    let lines = app.log_lines_of(&id);
    assert!(lines.iter().any(|l| {
        l["detail"]
            .as_str()
            .is_some_and(|d| d.contains("deliberate panic"))
    }));
    // The server is still serving.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn unknown_api_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert!(body["request_id"].is_string());

    let response = app
        .client
        .delete(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert!(
        response.headers().get("allow").is_some(),
        "405 keeps its Allow header"
    );
}

#[tokio::test]
async fn unknown_pages_are_an_html_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn every_problem_type_resolves_to_a_page() {
    let app = spawn_app().await;
    for kind in sunbridge::http::error::PROBLEMS {
        let response = app.get(&format!("/problems/{}", kind.code)).await;
        assert_eq!(response.status(), 200, "{}", kind.code);
        assert!(response.text().await.unwrap().contains(kind.title));
    }
    assert_eq!(app.get("/problems/made_up").await.status(), 404);
}

#[tokio::test]
async fn a_malformed_id_in_the_path_is_not_found_once_the_caller_is_known() {
    let app = spawn_app().await;
    let mut customer = app
        .member("malformed@example.com", sunbridge::access::Role::Customer)
        .await;

    let signed_out = app.get("/api/v1/orders/not-an-id").await;
    assert_eq!(signed_out.status(), 401);
    let response = app
        .api("GET", "/api/v1/orders/not-an-id", &customer.token, None)
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");

    let signed_out = app.get("/orders/not-an-id").await;
    assert_eq!(signed_out.status(), 303, "the sign-in page comes first");
    let session = app.page_session(&mut customer).await;
    let response = app.page_get("/orders/not-an-id", &session.cookie).await;
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
