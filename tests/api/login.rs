//! Sign-in, throttling, tokens and sessions (S-AU-2, S-AU-3, S-AU-5, S-AU-6, S-CR-1).

use std::time::Duration;

use serde_json::json;
use sunbridge::access::Role;

use crate::helpers::{PASSWORD, logs, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_correct_password_gives_tokens_that_open_the_account() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let tokens = app.login_ok("Ann@Example.com ").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_i64().unwrap() <= 600);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.len(), 64, "256 bits");
    assert_ne!(access, tokens["refresh_token"].as_str().unwrap());

    let me = app.get_with_token("/api/v1/me", access).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["role"], "customer");

    assert_eq!(app.get("/api/v1/me").await.status(), 401);
    assert_eq!(
        app.get_with_token("/api/v1/me", &"0".repeat(64)).await.status(),
        401
    );
    // A cookie is not a credential for the API.
    let with_cookie = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("__Host-session={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 401);
}

#[tokio::test]
async fn wrong_password_and_unknown_account_answer_alike() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let wrong = app.login("ann@example.com", "not the password at all").await;
    let unknown = app.login("nobody@example.com", "not the password at all").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let mut a: serde_json::Value = wrong.json().await.unwrap();
    let mut b: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(a["code"], "invalid_credentials");
    a["request_id"] = json!(null);
    b["request_id"] = json!(null);
    assert_eq!(a, b);
}

#[tokio::test]
async fn the_sixth_failure_is_throttled_and_the_delay_doubles() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    for i in 1..=5 {
        assert_eq!(
            app.login("ann@example.com", "wrong password guess")
                .await
                .status(),
            401,
            "attempt {i}"
        );
    }
    let sixth = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(sixth.status(), 429, "even the right password waits");
    assert_eq!(sixth.headers()["retry-after"], "1");
    assert_eq!(
        sixth.json::<serde_json::Value>().await.unwrap()["code"],
        "rate_limited"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.login("ann@example.com", "wrong password guess")
            .await
            .status(),
        401
    );
    let next = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(next.status(), 429);
    assert_eq!(next.headers()["retry-after"], "2", "doubled");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.login("ann@example.com", PASSWORD).await.status(),
        200,
        "throttling, not lockout"
    );
}

#[tokio::test]
async fn unknown_identifiers_are_throttled_the_same_way() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login("ghost@example.com", "wrong password guess")
                .await
                .status(),
            401
        );
    }
    let sixth = app.login("ghost@example.com", "wrong password guess").await;
    assert_eq!(sixth.status(), 429);
    assert_eq!(sixth.headers()["retry-after"], "1");
}

#[tokio::test]
async fn more_than_twenty_failures_from_one_ip_block_that_ip() {
    // 127.0.0.1 is a trusted proxy here, so each request can name its client.
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.create_user("ann@example.com", Role::Customer).await;
    let attempt = |email: String, ip: &'static str, password: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": password}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // 21 failures spread over accounts, so that no account limit is reached.
    for i in 0..21 {
        assert_eq!(
            attempt(format!("user{}@example.com", i % 7), "203.0.113.7", "wrong guess").await,
            401
        );
    }
    assert_eq!(
        attempt("ann@example.com".into(), "203.0.113.7", PASSWORD).await,
        429,
        "the IP is blocked"
    );
    assert_eq!(
        attempt("ann@example.com".into(), "198.51.100.2", PASSWORD).await,
        200,
        "other IPs are not"
    );
}

#[tokio::test]
async fn a_spoofed_forwarded_for_does_not_escape_the_ip_limit() {
    let app = spawn_app().await;
    for i in 0..21 {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"email": format!("user{}@example.com", i % 7), "password": "wrong guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    assert_eq!(
        app.login("someone@example.com", "wrong guess").await.status(),
        429
    );
}

#[tokio::test]
async fn a_known_device_still_gets_in_during_an_attack_on_its_account() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let device_token = app.login_ok("ann@example.com").await["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another account's device, made before the attack: the throttle's first penalties last
    // a second or two, so the refusals below are asked at once, before any slow step.
    app.create_user("eve@example.com", Role::Customer).await;
    let eve_device = app.login_ok("eve@example.com").await["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..6 {
        app.login("ann@example.com", "attacker guess 1").await;
    }
    // A device token of another account does not help.
    let misuse = app
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD, "device_token": eve_device}),
        )
        .await;
    assert_eq!(misuse.status(), 429);
    assert_eq!(
        app.login("ann@example.com", PASSWORD).await.status(),
        429,
        "the account is throttled"
    );
    let owner = app
        .post_json(
            "/api/v1/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD, "device_token": device_token}),
        )
        .await;
    assert_eq!(owner.status(), 200, "the owner's device is not");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let first = app.login_ok("ann@example.com").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();

    let second: serde_json::Value = app
        .post_json("/api/v1/auth/refresh", json!({"refresh_token": r1}))
        .await
        .json()
        .await
        .unwrap();
    let (a2, r2) = (
        second["access_token"].as_str().unwrap(),
        second["refresh_token"].as_str().unwrap(),
    );
    assert_ne!(r2, r1);
    assert_eq!(app.get_with_token("/api/v1/me", a2).await.status(), 200);
    assert_eq!(
        app.get_with_token("/api/v1/me", first["access_token"].as_str().unwrap())
            .await
            .status(),
        401,
        "the old access token was replaced"
    );

    // A thief replays r1: refused, and the whole session ends, the newest tokens included.
    let replay = app
        .post_json("/api/v1/auth/refresh", json!({"refresh_token": r1}))
        .await;
    assert_eq!(replay.status(), 401);
    assert_eq!(
        replay.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_token"
    );
    assert_eq!(
        app.post_json("/api/v1/auth/refresh", json!({"refresh_token": r2}))
            .await
            .status(),
        401
    );
    assert_eq!(app.get_with_token("/api/v1/me", a2).await.status(), 401);

    let mails = app.wait_for_mail("ann@example.com", 1).await;
    assert_eq!(mails[0].subject, "We signed out one of your devices");
    let actions: Vec<String> = sunbridge::audit::recent(&app.db, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"auth.refresh_token_reused".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let tokens = app.login_ok("ann@example.com").await;
    let access = tokens["access_token"].as_str().unwrap();
    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(app.get_with_token("/api/v1/me", access).await.status(), 401);
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status(), 401);
}

#[tokio::test]
async fn access_tokens_expire() {
    let app = spawn_app_with(|s| s.access_token_ttl_secs = 2).await;
    app.create_user("ann@example.com", Role::Customer).await;
    let tokens = app.login_ok("ann@example.com").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.get_with_token("/api/v1/me", access).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(app.get_with_token("/api/v1/me", access).await.status(), 401);
    // The refresh token still works and gives a fresh access token.
    let renewed = app
        .post_json(
            "/api/v1/auth/refresh",
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(renewed.status(), 200);
}

#[tokio::test]
async fn users_list_and_end_their_own_sessions_only() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    app.create_user("bob@example.com", Role::Customer).await;
    let phone = app.login_ok("ann@example.com").await;
    let laptop = app.login_ok("ann@example.com").await;
    let bob = app.login_ok("bob@example.com").await;
    let phone_token = phone["access_token"].as_str().unwrap();
    let laptop_token = laptop["access_token"].as_str().unwrap();

    let list: serde_json::Value = app
        .get_with_token("/api/v1/me/sessions", laptop_token)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list["next_cursor"].is_null());
    let paged: serde_json::Value = app
        .get_with_token("/api/v1/me/sessions?limit=1", laptop_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    let cursor = paged["next_cursor"].as_str().unwrap();
    let rest: serde_json::Value = app
        .get_with_token(
            &format!("/api/v1/me/sessions?limit=1&cursor={cursor}"),
            laptop_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_ne!(rest["items"][0]["id"], paged["items"][0]["id"]);
    // A page size outside the documented 1 to 100 is refused, not quietly changed.
    for limit in ["0", "101", "9223372036854775808"] {
        let refused = app
            .get_with_token(&format!("/api/v1/me/sessions?limit={limit}"), laptop_token)
            .await;
        assert_eq!(refused.status(), 422, "limit={limit}");
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "limit");
    }

    // Bob's session id is not Ann's to end: 404, and Bob stays signed in.
    let bob_list: serde_json::Value = app
        .get_with_token("/api/v1/me/sessions", bob["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let bob_session = bob_list["items"][0]["id"].as_str().unwrap();
    let idor = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{bob_session}")))
        .bearer_auth(laptop_token)
        .send()
        .await
        .unwrap();
    assert_eq!(idor.status(), 404);
    assert_eq!(
        app.get_with_token("/api/v1/me", bob["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // Ending all others keeps the current one.
    let end_all = app
        .client
        .delete(app.url("/api/v1/me/sessions"))
        .bearer_auth(laptop_token)
        .send()
        .await
        .unwrap();
    assert_eq!(end_all.status(), 204);
    assert_eq!(app.get_with_token("/api/v1/me", phone_token).await.status(), 401);
    assert_eq!(app.get_with_token("/api/v1/me", laptop_token).await.status(), 200);
}

#[tokio::test]
async fn a_weaker_stored_hash_is_upgraded_at_sign_in() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let id = app.create_user("ann@example.com", Role::Customer).await;
    // The same password hashed with argon2id m=8 MiB, t=1 (weaker than S-CR-1 allows).
    let weak = {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let params = argon2::Params::new(8192, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    };
    let update = sea_orm::sea_query::Query::update()
        .table(sea_orm::sea_query::Alias::new("users"))
        .value(sea_orm::sea_query::Alias::new("password_hash"), weak.clone())
        .and_where(sea_orm::sea_query::ExprTrait::eq(
            sea_orm::sea_query::Expr::col(sea_orm::sea_query::Alias::new("id")),
            id.0,
        ))
        .to_owned();
    app.db.execute(&update).await.unwrap();

    app.login_ok("ann@example.com").await;
    let stored = crate::cli::password_hash_of(&app, "ann@example.com")
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert_eq!(
        app.login("ann@example.com", PASSWORD).await.status(),
        200,
        "still the same password"
    );
}

#[tokio::test]
async fn sign_in_secrets_never_reach_the_log() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    app.login("ann@example.com", "CANARY wrong password 9").await;
    let tokens = app.login_ok("ann@example.com").await;
    app.post_json(
        "/api/v1/auth/refresh",
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await;
    let log = logs().contents();
    assert!(!log.contains("CANARY"));
    assert!(!log.contains(PASSWORD));
    assert!(!log.contains(tokens["access_token"].as_str().unwrap()));
    assert!(!log.contains(tokens["refresh_token"].as_str().unwrap()));
    assert!(!log.contains(tokens["device_token"].as_str().unwrap()));
    assert!(
        log.contains("auth") || log.contains("sign"),
        "the sign-ins were logged"
    );
}

#[tokio::test]
async fn a_sign_in_from_a_new_device_is_told_to_the_owner_and_a_known_device_is_not() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", sunbridge::access::Role::Customer)
        .await;
    // The first sign-in of an account tells nobody: there is no other device to warn about.
    let first: serde_json::Value = app.login_ok("ann@example.com").await;
    let device = first["device_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.sent_mail().is_empty());
    // The same device again: silent.
    let known = app
        .post_json(
            "/api/v1/auth/login",
            serde_json::json!({"email": "ann@example.com", "password": crate::helpers::PASSWORD, "device_token": device}),
        )
        .await;
    assert_eq!(known.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.sent_mail().is_empty());
    // Another device: the owner is told, with the device name and the address, not a secret.
    let other = app
        .post_json(
            "/api/v1/auth/login",
            serde_json::json!({"email": "ann@example.com", "password": crate::helpers::PASSWORD, "device_name": "Pixel 9"}),
        )
        .await;
    assert_eq!(other.status(), 200);
    let mail = app.wait_for_mail("ann@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "New sign-in to your Sunbridge account");
    assert!(mail.body.contains("Pixel 9") && mail.body.contains("127.0.0.1"));
    assert!(!mail.body.contains(crate::helpers::PASSWORD));
    // At most three such notices an hour.
    for _ in 0..4 {
        app.login_ok("ann@example.com").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let notices = app
        .sent_mail()
        .into_iter()
        .filter(|m| m.subject == "New sign-in to your Sunbridge account")
        .count();
    assert_eq!(notices, 3);
}
