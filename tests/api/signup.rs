//! Sign-up and email verification (S-AU-1, S-AU-2, S-AU-9, S-AC-4).

use std::time::Duration;

use serde_json::json;

use crate::helpers::{logs, spawn_app, spawn_app_with};

const GOOD_PASSWORD: &str = "violet glacier kestrel lantern";

fn signup_body(email: &str) -> serde_json::Value {
    json!({"email": email, "password": GOOD_PASSWORD, "name": "Maya Lindqvist"})
}

#[tokio::test]
async fn a_new_address_gets_a_verification_link_that_works_once() {
    let app = spawn_app().await;
    let response = app
        .post_json("/api/v1/auth/signup", signup_body("maya@example.com"))
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({}));

    let mail = app.wait_for_mail("maya@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Confirm your email address");
    // Built from public_url, not from the address the request reached.
    assert!(
        mail.link_to("/verify-email")
            .starts_with("http://127.0.0.1:8080/verify-email?token=")
    );
    let token = mail.token("/verify-email");
    assert_eq!(token.len(), 64, "256 bits, hex");

    let verified = app
        .post_json("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(verified.status(), 204);
    let again = app
        .post_json("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_token"
    );

    let actions: Vec<String> = sunbridge::audit::recent(&app.db, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"user.created".to_owned()) && actions.contains(&"user.email_verified".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn sign_up_answers_the_same_for_a_taken_address_and_tells_its_owner() {
    let app = spawn_app().await;
    let first = app
        .post_json("/api/v1/auth/signup", signup_body("owner@example.com"))
        .await;
    let (first_status, first_body) = (first.status(), first.bytes().await.unwrap());
    let second = app
        .post_json("/api/v1/auth/signup", signup_body("Owner@Example.com"))
        .await;
    let (second_status, second_body) = (second.status(), second.bytes().await.unwrap());
    assert_eq!(first_status, second_status);
    assert_eq!(first_body, second_body);

    let mails = app.wait_for_mail("owner@example.com", 2).await;
    assert_eq!(mails[1].subject, "Someone tried to sign up with your address");
    assert!(
        !mails[1].body.contains("token="),
        "the notice carries no verification token"
    );
}

#[tokio::test]
async fn a_forged_host_header_does_not_change_the_links_in_emails() {
    // A host we are not is refused outright (S-AC-10)…
    let app = spawn_app_with(|s| s.allowed_hosts = vec!["alias.example".into()]).await;
    let forged = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("host", "evil.example")
        .json(&signup_body("host@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    // …and one we answer for still gets links built from public_url, never from Host.
    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("host", "alias.example")
        .json(&signup_body("host@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let mail = app.wait_for_mail("host@example.com", 1).await.remove(0);
    assert!(!mail.body.contains("alias.example"));
    assert!(
        mail.body.contains("http://127.0.0.1:8080/"),
        "the default public_url"
    );
}

#[tokio::test]
async fn weak_passwords_are_refused_with_advice_before_looking_at_the_address() {
    let app = spawn_app().await;
    app.post_json("/api/v1/auth/signup", signup_body("taken@example.com"))
        .await;
    for email in ["taken@example.com", "fresh@example.com"] {
        let response = app
            .post_json(
                "/api/v1/auth/signup",
                json!({"email": email, "password": "password1234", "name": "Al"}),
            )
            .await;
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "weak_password");
        assert_eq!(body["errors"][0]["field"], "password");
        assert!(
            body["detail"].as_str().unwrap().contains("too easy to guess"),
            "{body}"
        );
    }
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "a@example.com", "password": "a".repeat(129), "name": "Al"}),
        )
        .await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["errors"][0]["code"],
        "too_long"
    );
}

#[tokio::test]
async fn malformed_fields_and_extra_fields_are_refused() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "not-an-email", "password": GOOD_PASSWORD, "name": ""}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name"]);

    // Mass assignment (S-AC-4): a caller cannot choose their role.
    let mut body = signup_body("mass@example.com");
    body["role"] = json!("admin");
    let response = app.post_json("/api/v1/auth/signup", body).await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0],
        json!({"field": "role", "code": "unknown_field"})
    );
    assert!(app.sent_mail().is_empty(), "nothing was created");
}

#[tokio::test]
async fn an_expired_verification_link_is_refused() {
    let app = spawn_app_with(|s| s.email_token_ttl_secs = 1).await;
    app.post_json("/api/v1/auth/signup", signup_body("late@example.com"))
        .await;
    let token = app.wait_for_mail("late@example.com", 1).await[0].token("/verify-email");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let response = app
        .post_json("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn verification_emails_are_capped_at_three_an_hour() {
    let app = spawn_app().await;
    app.post_json("/api/v1/auth/signup", signup_body("cap@example.com"))
        .await;
    for _ in 0..4 {
        let response = app
            .post_json(
                "/api/v1/auth/verify-email/resend",
                json!({"email": "cap@example.com"}),
            )
            .await;
        assert_eq!(response.status(), 202);
    }
    // Unknown addresses get the same answer.
    let response = app
        .post_json(
            "/api/v1/auth/verify-email/resend",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    app.wait_for_mail("cap@example.com", 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.sent_mail()
            .iter()
            .filter(|m| m.to == "cap@example.com")
            .count(),
        3
    );
}

#[tokio::test]
async fn the_verification_page_confirms_by_post_and_refuses_cross_site_posts() {
    let app = spawn_app().await;
    app.post_json("/api/v1/auth/signup", signup_body("page@example.com"))
        .await;
    let mail = app.wait_for_mail("page@example.com", 1).await.remove(0);
    let token = mail.token("/verify-email");

    let page = app.get(&format!("/verify-email?token={token}")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"method="post""#), "GET only shows a button");

    let cross = app
        .client
        .post(app.url("/verify-email"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);

    let same = app
        .client
        .post(app.url("/verify-email"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
    assert!(same.text().await.unwrap().contains("Email confirmed"));
}

#[tokio::test]
async fn the_sign_up_password_never_reaches_the_log_or_the_mail() {
    let app = spawn_app().await;
    let canary = "CANARY glacier kestrel lantern 42";
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "cy@example.com", "password": canary, "name": "Cy"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let mail = app.wait_for_mail("cy@example.com", 1).await.remove(0);
    assert!(!mail.body.contains(canary));
    assert!(!logs().contents().contains("CANARY"));
}
