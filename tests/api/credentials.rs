//! Re-authentication (S-AU-7), password change (S-AU-6) and reset (S-AU-8).

use std::time::Duration;

use serde_json::json;
use sunbridge::access::Role;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "amber quartz heron meadow";

async fn post_with_token(
    app: &TestApp,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_change_needs_a_fresh_authentication_and_ends_other_sessions() {
    // A 2-second window: short enough to wait out, long enough for a loaded CI machine.
    let app = spawn_app_with(|s| s.reauth_window_secs = 2).await;
    app.create_user("ann@example.com", Role::Customer).await;
    let other = app.login_ok("ann@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let this = app.login_ok("ann@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let stale = post_with_token(&app, "/api/v1/me/password", &this, body.clone()).await;
    assert_eq!(stale.status(), 401);
    assert_eq!(
        stale.json::<serde_json::Value>().await.unwrap()["code"],
        "reauth_required"
    );

    let wrong = post_with_token(
        &app,
        "/api/v1/auth/reauth",
        &this,
        json!({"password": "not my password"}),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        post_with_token(&app, "/api/v1/auth/reauth", &this, json!({"password": PASSWORD}))
            .await
            .status(),
        204
    );

    let weak = post_with_token(
        &app,
        "/api/v1/me/password",
        &this,
        json!({"current_password": PASSWORD, "new_password": "password1234"}),
    )
    .await;
    assert_eq!(weak.status(), 422);
    // Each sensitive change gets its own fresh re-authentication.
    let again = post_with_token(&app, "/api/v1/auth/reauth", &this, json!({"password": PASSWORD})).await;
    assert_eq!(again.status(), 204);
    assert_eq!(
        post_with_token(&app, "/api/v1/me/password", &this, body)
            .await
            .status(),
        204
    );

    assert_eq!(
        app.get_with_token("/api/v1/me", &other).await.status(),
        401,
        "other sessions end"
    );
    assert_eq!(
        app.get_with_token("/api/v1/me", &this).await.status(),
        200,
        "this one stays"
    );
    assert_eq!(app.login("ann@example.com", PASSWORD).await.status(), 401);
    assert_eq!(app.login("ann@example.com", NEW_PASSWORD).await.status(), 200);
    let mails = app.wait_for_mail("ann@example.com", 1).await;
    assert!(mails.iter().any(|m| m.subject == "Your password was changed"));
    // The second sign-in came from a device the account had not used before.
    assert!(
        mails
            .iter()
            .any(|m| m.subject == "New sign-in to your Sunbridge account")
    );
}

#[tokio::test]
async fn forgot_password_answers_alike_and_the_reset_link_works_once() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let session = app.login_ok("ann@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let known = app
        .post_json(
            "/api/v1/auth/password/forgot",
            json!({"email": "ann@example.com"}),
        )
        .await;
    let unknown = app
        .post_json(
            "/api/v1/auth/password/forgot",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(
        (known.status(), unknown.status()),
        (reqwest::StatusCode::ACCEPTED, reqwest::StatusCode::ACCEPTED)
    );
    assert_eq!(known.bytes().await.unwrap(), unknown.bytes().await.unwrap());

    let mail = app.wait_for_mail("ann@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Choose a new password");
    assert!(
        mail.link_to("/reset-password")
            .starts_with("http://127.0.0.1:8080/reset-password?token=")
    );
    let token = mail.token("/reset-password");

    // A weak password does not spend the token.
    let weak = app
        .post_json(
            "/api/v1/auth/password/reset",
            json!({"token": token, "password": "password1234"}),
        )
        .await;
    assert_eq!(weak.status(), 422);
    let reset = app
        .post_json(
            "/api/v1/auth/password/reset",
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    assert!(reset.bytes().await.unwrap().is_empty(), "no automatic sign-in");
    let again = app
        .post_json(
            "/api/v1/auth/password/reset",
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), 400);

    assert_eq!(
        app.get_with_token("/api/v1/me", &session).await.status(),
        401,
        "every session ended"
    );
    assert_eq!(app.login("ann@example.com", NEW_PASSWORD).await.status(), 200);
    let notice = app.wait_for_mail("ann@example.com", 2).await.remove(1);
    assert_eq!(notice.subject, "Your password was changed");
}

#[tokio::test]
async fn reset_links_expire_and_are_capped_at_three_an_hour() {
    let app = spawn_app_with(|s| s.email_token_ttl_secs = 1).await;
    app.create_user("ann@example.com", Role::Customer).await;
    for _ in 0..4 {
        app.post_json(
            "/api/v1/auth/password/forgot",
            json!({"email": "ann@example.com"}),
        )
        .await;
    }
    let mails = app.wait_for_mail("ann@example.com", 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.sent_mail().len(), 3, "the fourth request sent nothing");
    let token = mails[0].token("/reset-password");
    let late = app
        .post_json(
            "/api/v1/auth/password/reset",
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(late.status(), 400, "expired");
}

#[tokio::test]
async fn the_reset_page_sets_a_password_by_post_without_leaking_the_token() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    app.post_json(
        "/api/v1/auth/password/forgot",
        json!({"email": "ann@example.com"}),
    )
    .await;
    let token = app.wait_for_mail("ann@example.com", 1).await[0].token("/reset-password");

    let page = app.get(&format!("/reset-password?token={token}")).await;
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"autocomplete="new-password""#));
    assert!(!html.contains("onpaste"), "pasting is allowed");

    let post = |site: &'static str, password: &'static str| {
        app.client
            .post(app.url("/reset-password"))
            .header("sec-fetch-site", site)
            .form(&[("token", token.as_str()), ("password", password)])
            .send()
    };
    assert_eq!(post("cross-site", NEW_PASSWORD).await.unwrap().status(), 403);
    let weak = post("same-origin", "password1234")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(weak.contains("too easy to guess"), "the page says what to change");
    let done = post("same-origin", NEW_PASSWORD)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("Password changed"));
    assert_eq!(app.login("ann@example.com", NEW_PASSWORD).await.status(), 200);

    let forgot = app.get("/forgot-password").await.text().await.unwrap();
    assert!(forgot.contains(r#"autocomplete="email""#));
}

#[tokio::test]
async fn changing_the_email_needs_reauthentication_and_a_new_confirmation() {
    let app = spawn_app_with(|s| s.reauth_window_secs = 2).await;
    app.create_user("ann@example.com", Role::Customer).await;
    app.create_user("taken@example.com", Role::Customer).await;
    let access = app.login_ok("ann@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |body: serde_json::Value| {
        app.client
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };

    let renamed = patch(json!({"name": "Ann Lee"})).await.unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(
        renamed.json::<serde_json::Value>().await.unwrap()["name"],
        "Ann Lee"
    );
    let role = patch(json!({"role": "admin"})).await.unwrap();
    assert_eq!(role.status(), 422, "no mass assignment of the role");

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let stale = patch(json!({"email": "ann.lee@example.com"})).await.unwrap();
    assert_eq!(
        stale.json::<serde_json::Value>().await.unwrap()["code"],
        "reauth_required"
    );
    post_with_token(
        &app,
        "/api/v1/auth/reauth",
        &access,
        json!({"password": PASSWORD}),
    )
    .await;
    let taken = patch(json!({"email": "taken@example.com"})).await.unwrap();
    assert_eq!(taken.status(), 409);
    let again = post_with_token(
        &app,
        "/api/v1/auth/reauth",
        &access,
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!(again.status(), 204);
    let changed = patch(json!({"email": "Ann.Lee@example.com"})).await.unwrap();
    assert_eq!(changed.status(), 200);
    let profile: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(profile["email"], "ann.lee@example.com");
    assert_eq!(
        profile["email_verified"], false,
        "the new address must be confirmed"
    );

    let confirm = app.wait_for_mail("ann.lee@example.com", 1).await.remove(0);
    assert_eq!(confirm.subject, "Confirm your email address");
    let notice = app.wait_for_mail("ann@example.com", 1).await.remove(0);
    assert_eq!(notice.subject, "Your email address was changed");
    let verified = app
        .post_json(
            "/api/v1/auth/verify-email",
            json!({"token": confirm.token("/verify-email")}),
        )
        .await;
    assert_eq!(verified.status(), 204);
    assert_eq!(app.login("ann.lee@example.com", PASSWORD).await.status(), 200);
}
