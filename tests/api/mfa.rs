//! Second factor (S-AU-4): TOTP enrolment, ±1 step, replay, recovery codes, throttling, and
//! staff accounts that can do nothing before they enrol.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{code_at, early_in_a_step};
use crate::helpers::{PASSWORD, TestApp, spawn_app};

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Signs in, enrols TOTP, and returns (secret, recovery codes).
async fn enrol(app: &TestApp, email: &str) -> (String, Vec<String>) {
    early_in_a_step().await;
    let access = app.login_ok(email).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let enrolment: Value = post(app, "/api/v1/me/mfa/totp", &access, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(
        enrolment["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Sunbridge:")
    );
    assert!(
        enrolment["qr_svg"].as_str().unwrap().contains("<svg"),
        "QR code rendered as SVG"
    );

    let wrong = post(
        app,
        "/api/v1/me/mfa/totp/confirm",
        &access,
        json!({"code": "000000"}),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let confirmed: Value = post(
        app,
        "/api/v1/me/mfa/totp/confirm",
        &access,
        json!({"code": code_at(&secret, 0)}),
    )
    .await
    .json()
    .await
    .unwrap();
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn mfa_token(app: &TestApp, email: &str) -> String {
    let response: Value = app.login(email, PASSWORD).await.json().await.unwrap();
    assert_eq!(response["mfa_required"], true, "{response}");
    assert!(
        response.get("access_token").is_none(),
        "no tokens before the second factor"
    );
    response["mfa_token"].as_str().unwrap().to_owned()
}

async fn second_factor(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/login/mfa",
        json!({"mfa_token": token, "code": code}),
    )
    .await
}

#[tokio::test]
async fn a_totp_code_is_accepted_one_step_either_way_and_only_once() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let (secret, _) = enrol(&app, "ann@example.com").await;
    assert_eq!(
        app.wait_for_mail("ann@example.com", 1).await[0].subject,
        "Two-step sign-in turned on"
    );

    let token = mfa_token(&app, "ann@example.com").await;
    // The step used to confirm enrolment is spent: the same code cannot sign in.
    assert_eq!(
        second_factor(&app, &token, &code_at(&secret, 0)).await.status(),
        401
    );
    assert_eq!(
        second_factor(&app, &token, &code_at(&secret, -2)).await.status(),
        401,
        "two steps back"
    );
    assert_eq!(
        second_factor(&app, &token, &code_at(&secret, 2)).await.status(),
        401,
        "two steps ahead"
    );
    let signed_in = second_factor(&app, &token, &code_at(&secret, 1)).await;
    assert_eq!(signed_in.status(), 200, "one step ahead is accepted");
    let tokens: Value = signed_in.json().await.unwrap();
    assert_eq!(
        app.get_with_token("/api/v1/me", tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // The pending sign-in is spent, and the same code does not work for another one.
    assert_eq!(
        second_factor(&app, &token, &code_at(&secret, 1)).await.status(),
        401
    );
    let again = mfa_token(&app, "ann@example.com").await;
    let replay = second_factor(&app, &again, &code_at(&secret, 1)).await;
    assert_eq!(replay.status(), 401);
    assert_eq!(replay.json::<Value>().await.unwrap()["code"], "invalid_code");
}

#[tokio::test]
async fn each_recovery_code_works_once() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let (_, codes) = enrol(&app, "ann@example.com").await;
    let token = mfa_token(&app, "ann@example.com").await;
    // Typed back in capitals with spaces: still accepted.
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_eq!(second_factor(&app, &token, &typed).await.status(), 200);
    let token = mfa_token(&app, "ann@example.com").await;
    assert_eq!(
        second_factor(&app, &token, &codes[3]).await.status(),
        401,
        "spent"
    );
    assert_eq!(second_factor(&app, &token, &codes[4]).await.status(), 200);
}

#[tokio::test]
async fn five_wrong_codes_throttle_the_factor() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    enrol(&app, "ann@example.com").await;
    let token = mfa_token(&app, "ann@example.com").await;
    for _ in 0..5 {
        assert_eq!(second_factor(&app, &token, "123456").await.status(), 401);
    }
    let sixth = second_factor(&app, &token, "123456").await;
    assert_eq!(sixth.status(), 429);
    assert!(sixth.headers().contains_key("retry-after"));
    assert_eq!(
        second_factor(&app, &"f".repeat(64), "123456").await.status(),
        401,
        "unknown mfa_token"
    );
}

#[tokio::test]
async fn staff_can_do_nothing_but_enrol_until_they_have_a_second_factor() {
    let app = spawn_app().await;
    app.create_user("sam@example.com", Role::Support).await;
    let access = app.login_ok("sam@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app.get_with_token("/api/v1/me", &access).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "mfa_enrolment_required"
    );
    assert_eq!(
        app.get_with_token("/api/v1/me/sessions", &access).await.status(),
        403
    );

    let enrolment: Value = post(&app, "/api/v1/me/mfa/totp", &access, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap();
    early_in_a_step().await;
    let confirm = post(
        &app,
        "/api/v1/me/mfa/totp/confirm",
        &access,
        json!({"code": code_at(secret, 0)}),
    )
    .await;
    assert_eq!(confirm.status(), 200);
    assert_eq!(
        app.get_with_token("/api/v1/me", &access).await.status(),
        200,
        "enrolled: allowed"
    );

    let removal = app
        .client
        .delete(app.url("/api/v1/me/mfa/totp"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(removal.status(), 409, "staff keep their second factor");
    assert_eq!(
        removal.json::<Value>().await.unwrap()["code"],
        "staff_mfa_required"
    );
}

#[tokio::test]
async fn reauthentication_asks_for_the_second_factor_and_removal_needs_it() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let (secret, codes) = enrol(&app, "ann@example.com").await;
    let token = mfa_token(&app, "ann@example.com").await;
    let tokens: Value = second_factor(&app, &token, &codes[0]).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let without = post(&app, "/api/v1/auth/reauth", access, json!({"password": PASSWORD})).await;
    assert_eq!(without.status(), 401);
    assert_eq!(without.json::<Value>().await.unwrap()["code"], "mfa_required");
    let with = post(
        &app,
        "/api/v1/auth/reauth",
        access,
        json!({"password": PASSWORD, "code": code_at(&secret, 1)}),
    )
    .await;
    assert_eq!(with.status(), 204);

    let removed = app
        .client
        .delete(app.url("/api/v1/me/mfa/totp"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let plain: Value = app.login("ann@example.com", PASSWORD).await.json().await.unwrap();
    assert!(
        plain["access_token"].is_string(),
        "no second factor any more: {plain}"
    );
}

#[tokio::test]
async fn codes_and_secrets_of_the_second_factor_never_reach_the_log() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let (secret, codes) = enrol(&app, "ann@example.com").await;
    let token = mfa_token(&app, "ann@example.com").await;
    let current = code_at(&secret, 1);
    second_factor(&app, &token, &current).await;
    let log = crate::helpers::logs().contents();
    assert!(
        log.contains("waiting for the second factor"),
        "the sign-in was logged"
    );
    assert!(!log.contains(&secret));
    assert!(!log.contains(&token));
    assert!(!log.contains(&format!("\"{current}\"")));
    for code in &codes {
        assert!(!log.contains(code.as_str()));
    }
}
