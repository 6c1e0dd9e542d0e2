//! Monitoring and automatic defence: metrics only on their own listener (with the security
//! signals the alert rules read), and addresses blocked after too many failures, then lifted.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::Member;
use crate::helpers::{TestApp, spawn_app_with};

#[tokio::test]
async fn metrics_are_served_on_their_own_address_only_with_the_security_signals() {
    let app = spawn_app_with(|s| {
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        s.metrics_token = Some("scrape-token-0123456789abcdef0123".to_string().into());
    })
    .await;
    // Not on the public port, under any name.
    for path in ["/metrics", "/api/v1/metrics", "/__metrics"] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    app.create_user("ann@example.com", Role::Customer).await;
    assert_eq!(
        app.login("ann@example.com", "wrong password entirely")
            .await
            .status(),
        401
    );
    app.login_ok("ann@example.com").await;
    let metrics = app.metrics_url().expect("a metrics address");
    let client = reqwest::Client::new();
    assert_eq!(
        client.get(&metrics).send().await.unwrap().status(),
        401,
        "the token is required"
    );
    let wrong = client.get(&metrics).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body = client
        .get(&metrics)
        .bearer_auth("scrape-token-0123456789abcdef0123")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"sunbridge_logins_total{outcome="failed"}"#,
        r#"sunbridge_logins_total{outcome="ok"}"#,
        "sunbridge_http_requests_total{",
        r#"route="/api/v1/auth/login""#,
        "sunbridge_http_request_duration_seconds_bucket",
    ] {
        assert!(body.contains(needle), "{needle} missing from:\n{body}");
    }
    // No personal data in the metrics.
    assert!(!body.contains("ann@example.com"));
}

impl TestApp {
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr.map(|a| format!("http://{a}/metrics"))
    }

    /// A request as if from `ip`, through the trusted proxy (the test client is it).
    async fn as_client(
        &self,
        ip: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .header("x-forwarded-for", ip);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

async fn blocking_app() -> TestApp {
    spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.block_authz_failures = 5;
        s.block_auth_failures = 8;
        s.block_secs = 3600;
    })
    .await
}

const ATTACKER: &str = "203.0.113.7";
const OFFICE: &str = "198.51.100.9";

#[tokio::test]
async fn an_address_reaching_for_what_is_not_its_own_is_blocked_and_an_admin_lifts_it() {
    let app = blocking_app().await;
    let mut admin: Member = app.member("admin@example.com", Role::Admin).await;
    let mallory = app.member("mallory@example.com", Role::Customer).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    // Four refusals: still served.
    for _ in 0..4 {
        let r = app
            .as_client(ATTACKER, "GET", "/api/v1/admin/staff", Some(&mallory.token), None)
            .await;
        assert_eq!(r.status(), 403);
    }
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/api/v1/me", Some(&mallory.token), None)
            .await
            .status(),
        200
    );
    // The fifth blocks the address, and Mallory's own token with it (her account raised the
    // alarms): every route, page or API, with no detail.
    app.as_client(ATTACKER, "GET", "/api/v1/admin/staff", Some(&mallory.token), None)
        .await;
    let blocked = app
        .as_client(ATTACKER, "GET", "/api/v1/me", Some(&mallory.token), None)
        .await;
    assert_eq!(blocked.status(), 403);
    let body: Value = blocked.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    assert!(body.get("detail").is_none());
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/", None, None).await.status(),
        403
    );
    // A neighbour on the same address with her own session is not punished (S-DE-4).
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/api/v1/me", Some(&ann.token), None)
            .await
            .status(),
        200
    );
    // The probes still answer, and other addresses are served.
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/healthz", None, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.as_client(OFFICE, "GET", "/api/v1/me", Some(&admin.token), None)
            .await
            .status(),
        200
    );
    // The admin sees the block, audited, and lifts it.
    let blocks: Value = app
        .as_client(OFFICE, "GET", "/api/v1/admin/ip-blocks", Some(&admin.token), None)
        .await
        .json()
        .await
        .unwrap();
    let block = &blocks["items"][0];
    assert_eq!(block["ip"], ATTACKER);
    assert_eq!(block["reason"], "authorization_failures");
    assert_eq!(block["active"], true);
    let audit: Value = app
        .as_client(
            OFFICE,
            "GET",
            "/api/v1/admin/audit?action=security.ip_blocked",
            Some(&admin.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1);
    // Mallory cannot lift it, from anywhere.
    assert_eq!(
        app.as_client(
            OFFICE,
            "DELETE",
            &format!("/api/v1/admin/ip-blocks/{}", block["id"].as_str().unwrap()),
            Some(&mallory.token),
            None
        )
        .await
        .status(),
        403
    );
    // On the page: a step that names the address and what lifting means, then the lift.
    let page = app.page_session(&mut admin).await;
    let path = format!("/admin/security/blocks/{}", block["id"].as_str().unwrap());
    let asked = app.page_post(&path, &page, &[]).await;
    assert_eq!(asked.status(), 200);
    let asked = asked.text().await.unwrap();
    assert!(
        asked.contains(&format!("Lift the block on {ATTACKER}?")),
        "{asked}"
    );
    assert!(asked.contains("Yes, lift the block") && asked.contains("Keep it blocked"));
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/api/v1/me", Some(&mallory.token), None)
            .await
            .status(),
        403,
        "still blocked until the yes"
    );
    let lifted = app.page_post(&path, &page, &[("confirmed", "yes")]).await;
    assert_eq!(lifted.status(), 303);
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/api/v1/me", Some(&mallory.token), None)
            .await
            .status(),
        200
    );
    let unblocked: Value = app
        .as_client(
            OFFICE,
            "GET",
            "/api/v1/admin/audit?action=security.ip_unblocked",
            Some(&admin.token),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unblocked["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn credential_stuffing_from_one_address_blocks_it_across_accounts() {
    let app = blocking_app().await;
    for i in 0..8 {
        app.create_user(&format!("user{i}@example.com"), Role::Customer)
            .await;
    }
    // One guess per account: no per-account throttle ever trips, the address does.
    for i in 0..8 {
        let r = app
            .as_client(
                ATTACKER,
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({"email": format!("user{i}@example.com"), "password": "Summer2026!!"})),
            )
            .await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = app
        .as_client(
            ATTACKER,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "user0@example.com", "password": crate::helpers::PASSWORD})),
        )
        .await;
    assert_eq!(
        r.status(),
        403,
        "even the right password is refused from a blocked address"
    );
    // Another address signs in as usual.
    let ok = app
        .as_client(
            OFFICE,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "user0@example.com", "password": crate::helpers::PASSWORD})),
        )
        .await;
    assert_eq!(ok.status(), 200);
}

/// Signs `email` in from `ip`; the token response (access, refresh and device tokens).
async fn sign_in_from(app: &TestApp, ip: &str, email: &str, device_token: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": email, "password": crate::helpers::PASSWORD});
    if let Some(device) = device_token {
        body["device_token"] = json!(device);
    }
    app.as_client(ip, "POST", "/api/v1/auth/login", None, Some(body))
        .await
}

/// Wrong passwords from `ip`, one per made-up account, until the address is blocked.
async fn fail_sign_ins(app: &TestApp, ip: &str, count: usize) {
    for i in 0..count {
        let r = app
            .as_client(
                ip,
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({"email": format!("guess{i}@example.com"), "password": "Summer2026!!"})),
            )
            .await;
        assert!(
            matches!(r.status().as_u16(), 401 | 403 | 429),
            "attempt {i}: {}",
            r.status()
        );
    }
}

#[tokio::test]
async fn a_blocked_address_spares_its_signed_in_neighbours_and_known_devices() {
    // The production rules, as in the attack that found this: 60 bad sign-ins in a second.
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.block_auth_failures = 50;
        s.block_authz_failures = 30;
    })
    .await;
    app.create_user("ann@example.com", Role::Customer).await;
    app.create_user("bob@example.com", Role::Customer).await;
    // Ann, on the same carrier address as the attacker, signed in before the attack.
    let ann: Value = sign_in_from(&app, ATTACKER, "ann@example.com", None)
        .await
        .json()
        .await
        .unwrap();
    let token = ann["access_token"].as_str().unwrap();
    fail_sign_ins(&app, ATTACKER, 60).await;
    let anonymous = app.as_client(ATTACKER, "GET", "/", None, None).await;
    assert_eq!(anonymous.status(), 403, "the address is blocked");

    // Ann's session goes on, on the API and through a refresh.
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/api/v1/me", Some(token), None)
            .await
            .status(),
        200
    );
    let refreshed = app
        .as_client(
            ATTACKER,
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": ann["refresh_token"]})),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    // Her known device signs in again despite the block and the address's throttle.
    let again = sign_in_from(&app, ATTACKER, "ann@example.com", ann["device_token"].as_str()).await;
    assert_eq!(again.status(), 200);
    // A new sign-in without a known device is refused like any anonymous request, even with
    // the right password, and a made-up bearer token buys nothing.
    let bob = sign_in_from(&app, ATTACKER, "bob@example.com", None).await;
    assert_eq!(bob.status(), 403);
    let forged = app
        .as_client(ATTACKER, "GET", "/api/v1/me", Some("not-a-token"), None)
        .await;
    assert_eq!(forged.status(), 403);
    // A device token of another account does not open Bob's.
    let borrowed = sign_in_from(&app, ATTACKER, "bob@example.com", ann["device_token"].as_str()).await;
    assert_eq!(borrowed.status(), 403);
}

#[tokio::test]
async fn lifting_a_block_forgets_the_failures_before_it() {
    let app = blocking_app().await;
    let admin: Member = app.member("admin@example.com", Role::Admin).await;
    fail_sign_ins(&app, ATTACKER, 8).await;
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/", None, None).await.status(),
        403
    );
    let blocks: Value = app
        .as_client(OFFICE, "GET", "/api/v1/admin/ip-blocks", Some(&admin.token), None)
        .await
        .json()
        .await
        .unwrap();
    let id = blocks["items"][0]["id"].as_str().unwrap().to_owned();
    let lifted = app
        .as_client(
            OFFICE,
            "DELETE",
            &format!("/api/v1/admin/ip-blocks/{id}"),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(lifted.status(), 204);
    // One more failure after the lift does not block again: the eight before it are forgiven.
    fail_sign_ins(&app, ATTACKER, 1).await;
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/", None, None).await.status(),
        200
    );
    // Seven more (eight since the lift) do.
    fail_sign_ins(&app, ATTACKER, 7).await;
    assert_eq!(
        app.as_client(ATTACKER, "GET", "/", None, None).await.status(),
        403
    );
}

#[tokio::test]
async fn an_ipv6_client_is_blocked_and_throttled_by_its_64() {
    let app = blocking_app().await;
    // Eight failures, each from another address of one /64 (any device there can pick any).
    for i in 0..8 {
        let ip = format!("2001:db8:0:7:{:x}::{:x}", i + 1, i + 3);
        fail_sign_ins(&app, &ip, 1).await;
    }
    let neighbour = app
        .as_client("2001:db8:0:7:ffff::1", "GET", "/", None, None)
        .await;
    assert_eq!(neighbour.status(), 403, "the whole /64 is blocked");
    let other = app.as_client("2001:db8:0:8::1", "GET", "/", None, None).await;
    assert_eq!(other.status(), 200, "the next /64 is someone else");
    let v4 = app.as_client(OFFICE, "GET", "/", None, None).await;
    assert_eq!(v4.status(), 200);

    // The per-address sign-in throttle (S-AU-3: more than 20 failures) counts the /64 too.
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    for i in 0..21 {
        let ip = format!("2001:db8:9:9::{:x}", i + 1);
        let r = app
            .as_client(
                &ip,
                "POST",
                "/api/v1/auth/login",
                None,
                Some(json!({"email": format!("guess{i}@example.com"), "password": "Summer2026!!"})),
            )
            .await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = app
        .as_client(
            "2001:db8:9:9:abcd::1",
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "guess99@example.com", "password": "Summer2026!!"})),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}
