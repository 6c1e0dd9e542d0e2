//! Replicas sharing state through Redis: throttle counters seen by every replica, a sign-out on
//! one replica refused on another at once, and sign-in failing closed (503) while Redis is
//! away, recovering by itself. These need a Redis server: the CI's Redis stage runs them with
//! `SUNBRIDGE_TEST_REDIS_URL` (they are ignored otherwise).

use secrecy::SecretString;
use serde_json::Value;
use sunbridge::Settings;
use sunbridge::access::Role;

use crate::helpers::proxy::TcpProxy;
use crate::helpers::{PASSWORD, TestApp, fresh_database_url, spawn_with_settings, test_settings};

fn redis_url() -> String {
    std::env::var("SUNBRIDGE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Two replicas on one database and one Redis (`redis` overrides the URL for the second).
async fn replicas(configure: impl Fn(&mut Settings), redis: [String; 2]) -> (TestApp, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(&dir).await;
    let secret = SecretString::from(sunbridge::crypto::random_token());
    let master = SecretString::from(sunbridge::crypto::random_token());
    // Tests run at once on one Redis: each pair of replicas gets keys of its own.
    let prefix = format!("sbtest-{}", uuid::Uuid::new_v4().simple());
    let mut apps = Vec::new();
    for redis in redis {
        let data_dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(data_dir.path(), &database_url);
        settings.secret_key = Some(secret.clone());
        settings.master_key = Some(master.clone());
        settings.redis_url = Some(SecretString::from(redis));
        settings.redis_prefix = prefix.clone();
        configure(&mut settings);
        apps.push(spawn_with_settings(settings, data_dir, database_url.clone()).await);
    }
    // The SQLite file lives in this directory: keep it for the test.
    let _kept = dir.keep();
    let b = apps.pop().unwrap();
    let a = apps.pop().unwrap();
    (a, b)
}

/// A proxy in front of Redis (to take it away and bring it back) and the URL through it.
async fn redis_proxy() -> (TcpProxy, String) {
    let target = url::Url::parse(&redis_url()).unwrap();
    let proxy = TcpProxy::start(&format!(
        "{}:{}",
        target.host_str().unwrap(),
        target.port().unwrap_or(6379)
    ))
    .await;
    let through_proxy = format!("redis://127.0.0.1:{}/", proxy.port());
    (proxy, through_proxy)
}

async fn redis_cli(args: &[&str]) -> String {
    let url = url::Url::parse(&redis_url()).unwrap();
    let out = tokio::process::Command::new("redis-cli")
        .args([
            "-h",
            url.host_str().unwrap(),
            "-p",
            &url.port().unwrap_or(6379).to_string(),
        ])
        .args(args)
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
#[ignore = "needs Redis (SUNBRIDGE_TEST_REDIS_URL)"]
async fn throttle_counters_are_shared_by_the_replicas_through_redis() {
    let (a, b) = replicas(|_| {}, [redis_url(), redis_url()]).await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    a.create_user(&email, Role::Customer).await;
    // Failures spread over both replicas count together: the fifth blocks, on either.
    for app in [&a, &b, &a, &b] {
        assert_eq!(app.login(&email, "not the password at all").await.status(), 401);
    }
    assert_eq!(b.login(&email, "not the password at all").await.status(), 401);
    let sixth = a.login(&email, PASSWORD).await;
    assert_eq!(sixth.status(), 429);
    assert!(sixth.headers().contains_key("retry-after"));
    // The counters are in Redis, not in the database.
    use sea_orm::ConnectionTrait;
    let rows =
        a.db.query_one_raw(sea_orm::Statement::from_string(
            a.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM login_throttle".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(rows, 0);
    let keys = redis_cli(&["--scan", "--pattern", "sbtest-*:throttle:acct:*"]).await;
    assert!(!keys.is_empty());
}

#[tokio::test]
#[ignore = "needs Redis (SUNBRIDGE_TEST_REDIS_URL)"]
async fn a_sign_out_on_one_replica_is_refused_on_the_other_at_once() {
    // A long cache lifetime: only the published invalidation can make the other replica forget.
    let (a, b) = replicas(|s| s.auth_cache_ttl_ms = 60_000, [redis_url(), redis_url()]).await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    a.create_user(&email, Role::Customer).await;
    let tokens: Value = a.login_ok(&email).await;
    let token = tokens["access_token"].as_str().unwrap();
    // Warm replica B's cache.
    assert_eq!(b.get_with_token("/api/v1/me", token).await.status(), 200);
    assert_eq!(b.get_with_token("/api/v1/me", token).await.status(), 200);
    let out = a
        .client
        .post(a.url("/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let started = std::time::Instant::now();
    loop {
        if b.get_with_token("/api/v1/me", token).await.status() == 401 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "still accepted after 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[ignore = "needs Redis (SUNBRIDGE_TEST_REDIS_URL)"]
async fn without_redis_sign_in_fails_closed_and_recovers_by_itself() {
    let (proxy, through_proxy) = redis_proxy().await;
    let (a, _b) = replicas(|_| {}, [through_proxy.clone(), through_proxy]).await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    a.create_user(&email, Role::Customer).await;
    let token = a.login_ok(&email).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    proxy.set_enabled(false).await;
    // Sign-in is refused, never let through uncounted…
    let refused = a.login(&email, PASSWORD).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let wrong = a.login(&email, "not the password at all").await;
    assert_eq!(wrong.status(), 503, "not even a wrong password is checked");
    // …while everything else keeps working on the database.
    assert_eq!(a.get_with_token("/api/v1/me", &token).await.status(), 200);
    assert_eq!(a.get("/readyz").await.status(), 200);

    proxy.set_enabled(true).await;
    let mut recovered = false;
    for _ in 0..50 {
        if a.login(&email, PASSWORD).await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(recovered, "sign-in works again once Redis is back");
}

#[tokio::test]
#[ignore = "needs Redis (SUNBRIDGE_TEST_REDIS_URL)"]
async fn request_budgets_are_one_across_replicas_and_per_replica_while_redis_is_away() {
    let (proxy, through_proxy) = redis_proxy().await;
    let (a, b) = replicas(
        |s| {
            s.rate_read_per_min = 6;
            s.rate_read_burst = 6;
        },
        [through_proxy.clone(), through_proxy],
    )
    .await;
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    a.create_user(&email, Role::Customer).await;
    let token = a.login_ok(&email).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Three reads on each replica spend the one budget of six; the seventh is refused on
    // either.
    for app in [&a, &b, &a, &b, &a, &b] {
        assert_eq!(app.get_with_token("/api/v1/me", &token).await.status(), 200);
    }
    assert_eq!(a.get_with_token("/api/v1/me", &token).await.status(), 429);
    assert_eq!(b.get_with_token("/api/v1/me", &token).await.status(), 429);
    let keys = redis_cli(&["--scan", "--pattern", "sbtest-*:rate:read:caller:*"]).await;
    assert!(!keys.is_empty(), "the budget is kept in Redis");

    // Redis away: each replica keeps a budget of its own, never none.
    proxy.set_enabled(false).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(b.get_with_token("/api/v1/me", &token).await.status().as_u16());
    }
    assert!(
        statuses.contains(&429),
        "still limited without Redis: {statuses:?}"
    );
}
