//! Injection (S-IN-1, S-IN-2): classic SQL injection payloads in every kind of string parameter
//! (JSON fields, query strings, path segments, form fields) give no 500 and no change of
//! behaviour: they are stored and searched as the text they are. Markup in user text shows as
//! text on every page that displays it.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::{TestApp, spawn_app};

const PAYLOADS: &[&str] = &[
    "' OR '1'='1",
    "' OR 1=1 --",
    "admin'--",
    "'; DROP TABLE users; --",
    "\" OR \"\"=\"",
    "1) OR (1=1",
    "' UNION SELECT password_hash FROM users --",
    "%' OR email LIKE '%",
    "\\'; SELECT pg_sleep(5); --",
    "%_%",
];

const MARKUP: &str = "<script>alert('x')</script><img src=x onerror=alert(1)>";

async fn count(app: &TestApp, table: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// A home in Greensboro with the given label and address.
fn home(label: &str, address: &str) -> Value {
    json!({
        "label": label,
        "address": address,
        "latitude": 36.07,
        "longitude": -79.79,
        "region_id": "us-nc-piedmont",
        "roof_tilt_deg": 25.0,
        "roof_azimuth_deg": 180.0,
        "max_panels": 24
    })
}

fn no_server_error(status: StatusCode, what: &str) {
    assert!(!status.is_server_error(), "{what} answered {status}");
}

#[tokio::test]
async fn sql_injection_payloads_are_only_ever_text() {
    let app = spawn_app().await;
    let support = app.member("sam@example.com", Role::Support).await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    // Bob's name and address share no word with any payload: a search that finds him was
    // turned into a clause.
    let bob = app.member("bob@example.com", Role::Customer).await;
    let users_before = count(&app, "users").await;

    for payload in PAYLOADS {
        // Sign-in with the payload as the identifier and as the password: an ordinary refusal.
        for body in [
            json!({"email": payload, "password": "violet glacier kestrel lantern"}),
            json!({"email": "ann@example.com", "password": payload}),
        ] {
            let response = app.post_json("/api/v1/auth/login", body).await;
            no_server_error(response.status(), "login");
            assert!(
                matches!(response.status().as_u16(), 401 | 422 | 429),
                "login with {payload:?} answered {}",
                response.status()
            );
        }
        let forgot = app
            .post_json("/api/v1/auth/password/forgot", json!({"email": payload}))
            .await;
        no_server_error(forgot.status(), "forgot");

        // Search and filters: the payload is words to match, not a wildcard or a clause. Only
        // Ann, whose name is the previous payload, may share a word with it.
        let mut search = reqwest::Url::parse(&app.url("/api/v1/staff/customers")).unwrap();
        search.query_pairs_mut().append_pair("query", payload);
        let found = app
            .client
            .get(search)
            .bearer_auth(&support.token)
            .send()
            .await
            .unwrap();
        no_server_error(found.status(), "customer search");
        if found.status() == 200 {
            let found: Value = found.json().await.unwrap();
            let ids: Vec<&str> = found["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap())
                .collect();
            let (ann_id, bob_id) = (ann.id.to_string(), bob.id.to_string());
            assert!(
                ids.iter().all(|id| *id == ann_id) && !ids.contains(&bob_id.as_str()),
                "search for {payload:?} found {found}"
            );
        }
        let mut audit = reqwest::Url::parse(&app.url("/api/v1/admin/audit")).unwrap();
        audit
            .query_pairs_mut()
            .append_pair("action", payload)
            .append_pair("target_kind", payload)
            .append_pair("target_id", payload);
        let filtered = app
            .client
            .get(audit)
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        no_server_error(filtered.status(), "audit filter");
        if filtered.status() == 200 {
            let filtered: Value = filtered.json().await.unwrap();
            assert_eq!(
                filtered["items"],
                json!([]),
                "filter {payload:?} matched {filtered}"
            );
        }
        let mut cursor = reqwest::Url::parse(&app.url("/api/v1/admin/audit")).unwrap();
        cursor.query_pairs_mut().append_pair("cursor", payload);
        let paged = app
            .client
            .get(cursor)
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap();
        no_server_error(paged.status(), "audit cursor");

        // Path segments.
        let encoded: String = url::form_urlencoded::byte_serialize(payload.as_bytes()).collect();
        for path in [
            format!("/api/v1/sites/{encoded}"),
            format!("/api/v1/quotes/{encoded}"),
            format!("/api/v1/orders/{encoded}"),
        ] {
            let response = app.api("GET", &path, &ann.token, None).await;
            no_server_error(response.status(), &path);
            assert!(
                matches!(response.status().as_u16(), 400 | 404),
                "{path} answered {}",
                response.status()
            );
        }
        let response = app
            .api(
                "GET",
                &format!("/api/v1/staff/customers/{encoded}"),
                &support.token,
                None,
            )
            .await;
        assert_eq!(response.status(), 404);

        // Stored text comes back exactly as sent.
        let changed = app
            .api("PATCH", "/api/v1/me", &ann.token, Some(json!({"name": payload})))
            .await;
        no_server_error(changed.status(), "profile change");
        if changed.status().is_success() {
            let me: Value = app
                .api("GET", "/api/v1/me", &ann.token, None)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(me["name"], *payload);
        }
        let site = app
            .api(
                "POST",
                "/api/v1/sites",
                &ann.token,
                Some(home(payload, &format!("12 Elm St {payload}"))),
            )
            .await;
        no_server_error(site.status(), "site creation");
        if site.status() == 201 {
            let site: Value = site.json().await.unwrap();
            let path = format!("/api/v1/sites/{}", site["id"].as_str().unwrap());
            let back: Value = app
                .api("GET", &path, &ann.token, None)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(back["label"], *payload);
            assert_eq!(back["address"], format!("12 Elm St {payload}"));
        }
    }

    // Nothing was dropped, added or widened.
    assert_eq!(count(&app, "users").await, users_before);
    let me: Value = app
        .api("GET", "/api/v1/me", &support.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "sam@example.com");
    // The audit trail stayed whole through all of it.
    let verify: Value = app
        .api("GET", "/api/v1/admin/audit/verify", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(verify["problem"].is_null(), "{verify}");
}

#[tokio::test]
async fn markup_in_user_text_shows_as_text_on_every_page() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let changed = app
        .api("PATCH", "/api/v1/me", &ann.token, Some(json!({"name": MARKUP})))
        .await;
    assert!(changed.status().is_success(), "{}", changed.status());
    let site: Value = app
        .api("POST", "/api/v1/sites", &ann.token, Some(home(MARKUP, MARKUP)))
        .await
        .json()
        .await
        .unwrap();
    let site_id = site["id"].as_str().unwrap().to_owned();
    let session = app.page_session(&mut ann).await;
    let mut support = app.member("sam@example.com", Role::Support).await;
    let staff = app.page_session(&mut support).await;
    let pages = [
        ("/account".to_owned(), &session.cookie),
        ("/sites".to_owned(), &session.cookie),
        (format!("/sites/{site_id}"), &session.cookie),
        ("/staff/customers?query=ann%40example".to_owned(), &staff.cookie),
        (format!("/staff/customers/{}", ann.id), &staff.cookie),
    ];
    for (path, cookie) in pages {
        let response = app.page_get(&path, cookie).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("<script>alert"),
            "{path} carries the script unescaped"
        );
        assert!(
            !html.contains("<img src=x"),
            "{path} carries the image tag unescaped"
        );
        // Shown as text: escaped (masked on staff pages until a grant, but escaped all the same).
        assert!(
            html.contains("&lt;") || html.contains("&#60;"),
            "{path} does not show the text: {html}"
        );
    }
}
