//! Request budgets (S-DE-3): per token and per client address, by class of route, answered
//! with 429 problem+json, `Retry-After` and the `RateLimit` headers; made-up tokens buy no
//! fresh budget; sustained abuse is audited and counted.

use serde_json::Value;
use sunbridge::access::Role;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Small budgets, so a test can spend them: five reads at once, then one a second.
fn small(s: &mut sunbridge::Settings) {
    s.rate_read_per_min = 60;
    s.rate_read_burst = 5;
    s.rate_address_factor = 2;
    s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

async fn get(app: &TestApp, path: &str, token: Option<&str>, from: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path)).header("x-forwarded-for", from);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn one_token_over_its_budget_gets_429_with_retry_after_and_others_do_not() {
    let app = spawn_app_with(small).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let bob = app.member("bob@example.com", Role::Customer).await;
    for left in (0..5).rev() {
        let r = get(&app, "/api/v1/me", Some(&ann.token), "203.0.113.5").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["ratelimit-policy"], "\"read\";q=5;w=5");
        let state = r.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(state.starts_with(&format!("\"read\";r={left};t=")), "{state}");
    }
    let refused = get(&app, "/api/v1/me", Some(&ann.token), "203.0.113.5").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    assert_eq!(refused.headers()["retry-after"], "1");
    assert!(
        refused.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with("\"read\";r=0;t=")
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["status"], 429);
    // Bob, on the same address, has his own budget.
    assert_eq!(
        get(&app, "/api/v1/me", Some(&bob.token), "203.0.113.5")
            .await
            .status(),
        200
    );
    // A change is another class: Ann can still write.
    let renamed = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&ann.token)
        .json(&serde_json::json!({"name": "Ann Lee"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    // The budget refills: a second later Ann reads again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        get(&app, "/api/v1/me", Some(&ann.token), "203.0.113.5")
            .await
            .status(),
        200
    );
    // The probes are never counted.
    for _ in 0..20 {
        assert_eq!(get(&app, "/healthz", None, "203.0.113.5").await.status(), 200);
    }
}

#[tokio::test]
async fn made_up_tokens_buy_no_fresh_budget_and_spare_a_proved_neighbour() {
    let app = spawn_app_with(small).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    // Ann's token proves itself once from the shared address.
    assert_eq!(
        get(&app, "/api/v1/me", Some(&ann.token), "198.51.100.20")
            .await
            .status(),
        200
    );
    // A stream of made-up tokens from that address: each is a new "caller", but each is also
    // charged to the address (whose budget is 10), and each 401 once more.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let forged = format!("made-up-token-{i}");
        statuses.push(
            get(&app, "/api/v1/me", Some(&forged), "198.51.100.20")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.contains(&401) && statuses.ends_with(&[429, 429]),
        "{statuses:?}"
    );
    // Anonymous requests from the address are refused too (its budget is spent)…
    assert_eq!(
        get(&app, "/api/v1/regions", None, "198.51.100.20").await.status(),
        429
    );
    // …but Ann, proved, is charged to her own budget alone.
    assert_eq!(
        get(&app, "/api/v1/me", Some(&ann.token), "198.51.100.20")
            .await
            .status(),
        200
    );
    // Another address is untouched.
    assert_eq!(
        get(&app, "/api/v1/regions", None, "198.51.100.21").await.status(),
        200
    );
}

#[tokio::test]
async fn pages_answer_a_429_page_and_the_defaults_stop_a_flood_of_one_token() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    // The finding: one token made 149,389 requests to /api/v1/me in 5 s, all 200.
    let mut ok = 0;
    let mut refused = 0;
    for _ in 0..300 {
        match app
            .get_with_token("/api/v1/me", &ann.token)
            .await
            .status()
            .as_u16()
        {
            200 => ok += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused > 0, "the default budget refuses a flood");
    assert!(ok >= 120, "the default burst ({ok} served) lets a person work");

    let app = spawn_app_with(small).await;
    for _ in 0..10 {
        get(&app, "/faq", None, "192.0.2.44").await;
    }
    let page = get(&app, "/faq", None, "192.0.2.44").await;
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("wait"), "the page says what to do");
}

#[tokio::test]
async fn sustained_abuse_is_audited_and_counted() {
    let app = spawn_app_with(|s| {
        small(s);
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        s.metrics_token = Some("scrape-token-0123456789abcdef0123".to_string().into());
    })
    .await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    // 5 served, then 50 refusals: sustained.
    for _ in 0..55 {
        get(&app, "/api/v1/me", Some(&ann.token), "203.0.113.77").await;
    }
    let audit: Value = app
        .client
        .get(app.url("/api/v1/admin/audit?action=security.rate_limited"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "audited once, not once per refusal: {audit}");
    assert_eq!(items[0]["client_ip"], "203.0.113.77");
    assert_eq!(items[0]["details"]["class"], "read");
    let metrics = reqwest::Client::new()
        .get(app.metrics_url().unwrap())
        .bearer_auth("scrape-token-0123456789abcdef0123")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sunbridge_rate_limited_total{") && l.contains("class=\"read\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn expensive_work_has_the_smallest_budget() {
    let app = spawn_app_with(|s| {
        s.rate_expensive_per_min = 6;
        s.rate_expensive_burst = 2;
    })
    .await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    // Quotes for a home that does not exist: cheap to refuse, but charged as quotes.
    let body = serde_json::json!({"site_id": uuid::Uuid::now_v7()});
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            app.api("POST", "/api/v1/quotes", &ann.token, Some(body.clone()))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses[2], 429, "{statuses:?}");
    // Reading the quotes is another class.
    assert_eq!(
        app.get_with_token("/api/v1/quotes", &ann.token).await.status(),
        200
    );
}
