//! The API description mobile clients generate their SDKs from.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in ["/healthz", "/readyz", "/api/v1/openapi.json"] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn every_api_route_is_in_the_document_with_every_answer_it_can_give() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let routes = sunbridge::startup::routes(&sunbridge::Settings::default());
    let mut checked = 0;
    for route in routes.table() {
        if !route.path.starts_with("/api/") && route.path != "/healthz" && route.path != "/readyz" {
            continue;
        }
        let method = route.method.as_str().to_lowercase();
        let op = &doc["paths"][route.path][&method];
        assert!(
            op.is_object(),
            "{} {} is not in the document",
            route.method,
            route.path
        );
        let responses = op["responses"].as_object().unwrap();
        let probe = route.path == "/healthz" || route.path == "/readyz";
        let mut expected = vec!["500", "503"];
        if !probe {
            expected.extend(["400", "403", "429"]);
        }
        if route.path.contains('{') {
            expected.push("404");
        }
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            expected.push("401");
        }
        if op["requestBody"].is_object() {
            expected.extend(["413", "415", "422"]);
        }
        for status in expected {
            assert!(
                responses.contains_key(status),
                "{} {} does not document {status}",
                route.method,
                route.path
            );
        }
        // Every error answer is problem+json (the readiness probe's 503 is its health report).
        for (status, response) in responses {
            if (status.starts_with('4') || status.starts_with('5')) && !probe {
                let content = response["content"].as_object();
                assert!(
                    content.is_some_and(|c| c.contains_key("application/problem+json")),
                    "{} {} {status} is not problem+json: {response}",
                    route.method,
                    route.path
                );
            }
        }
        if !probe {
            assert!(responses["429"]["headers"]["Retry-After"].is_object());
        }
        checked += 1;
    }
    assert!(checked >= 85, "only {checked} routes checked");
}
