//! The outbound guard through installer webhooks (S-SF-1, S-IT-2): deliveries are signed,
//! retried and logged; URLs that reach internal addresses, in any spelling, and redirects are
//! refused before any connection is made.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::market::CrewFixture;
use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{TestApp, spawn_app_with};

/// A listener that only counts the connections it is offered.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, seen)
}

/// A receiver that records each request and answers `status` (and `location`, if any).
async fn receiver(
    status: u16,
    location: Option<String>,
) -> (
    String,
    Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let record = record.clone();
            let location = location.clone();
            async move {
                record.lock().unwrap().push((headers, body));
                let mut response = axum::http::Response::builder().status(status);
                if let Some(location) = location {
                    response = response.header("location", location);
                }
                response.body(axum::body::Body::empty()).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn company_of(app: &TestApp, admin: &Member, crew: &CrewFixture) -> String {
    let detail: Value = app
        .api(
            "GET",
            &format!("/api/v1/admin/crews/{}", crew.id),
            &admin.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    detail["company_id"].as_str().unwrap().to_owned()
}

async fn set_webhook(app: &TestApp, admin: &Member, company: &str, url: &str) -> reqwest::Response {
    app.api(
        "PUT",
        &format!("/api/v1/admin/companies/{company}/webhook"),
        &admin.token,
        Some(json!({"url": url})),
    )
    .await
}

async fn deliveries(app: &TestApp, admin: &Member, company: &str) -> Vec<Value> {
    let state: Value = app
        .api(
            "GET",
            &format!("/api/v1/admin/companies/{company}/webhook"),
            &admin.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    state["deliveries"].as_array().unwrap().clone()
}

/// Waits until the newest delivery is no longer waiting for its first attempt.
async fn settled(app: &TestApp, admin: &Member, company: &str) -> Value {
    for _ in 0..100 {
        let list = deliveries(app, admin, company).await;
        if let Some(d) = list.first()
            && d["attempts"].as_i64().unwrap_or(0) > 0
        {
            return d.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no delivery was attempted");
}

#[tokio::test]
async fn offers_and_steps_reach_the_company_signed_and_failures_are_retried() {
    let app = spawn_app_with(|s| {
        s.outbound_allow_local = true;
        s.webhook_interval_secs = 1;
        s.webhook_retry_base_secs = 1;
    })
    .await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Hook Crew", (36.08, -79.80), 2, &[]).await;
    let company = company_of(&app, &admin, &crew).await;
    let (url, seen) = receiver(200, None).await;
    let set = set_webhook(&app, &admin, &company, &url).await;
    assert_eq!(set.status(), 200);
    let secret = set.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("whsec_"));

    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    app.book_first_slot(&ann, order_id, "survey").await;
    let delivered = settled(&app, &admin, &company).await;
    assert_eq!(delivered["status"], "delivered", "{delivered}");
    assert_eq!(delivered["event"], "offer.made");
    let (headers, body) = seen.lock().unwrap()[0].clone();
    // The signature is the payment scheme's, with the company's secret.
    let signature = headers["sunbridge-signature"].to_str().unwrap();
    assert!(
        sunbridge::payments::signature::verify(
            &secret::SecretString::from(secret.clone()),
            Some(signature),
            body.as_bytes(),
            chrono::Utc::now()
        )
        .is_ok()
    );
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "offer.made");
    assert_eq!(event["data"]["job_id"], order["job_id"]);
    assert!(
        !body.contains("Elm Street") && !body.contains("ann@"),
        "no personal data: {body}"
    );

    // A failing endpoint: the delivery stays pending, with its status, and is tried again.
    let (failing, failing_seen) = receiver(503, None).await;
    assert_eq!(set_webhook(&app, &admin, &company, &failing).await.status(), 200);
    app.accept_first_offer(&crew.installer).await;
    let first = settled(&app, &admin, &company).await;
    assert_eq!(first["event"], "job.step");
    assert_eq!(first["last_status"], 503);
    assert_eq!(first["status"], "pending");
    for _ in 0..60 {
        if failing_seen.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(failing_seen.lock().unwrap().len() >= 2, "retried with backoff");
}

mod secret {
    pub use secrecy::SecretString;
}

#[tokio::test]
async fn webhooks_to_internal_addresses_are_refused_before_any_connection() {
    let app = spawn_app_with(|s| s.webhook_interval_secs = 1).await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let company = company_of(&app, &admin, &crew).await;
    let (port, connections) = counting_listener().await;
    // Plain http is refused when the URL is set.
    let (status, _) =
        problem_code(set_webhook(&app, &admin, &company, &format!("http://127.0.0.1:{port}/")).await).await;
    assert_eq!(status, 422);
    let crew_id: sunbridge::ids::CrewId = crew.id.parse().unwrap();
    for url in [
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://[::1]:{port}/hook"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.0.0.1/hook".to_owned(),
        "https://100.64.0.1/hook".to_owned(),
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
        // A name that resolves to loopback.
        format!("https://localhost:{port}/hook"),
        // Decimal and octal spellings of 127.0.0.1.
        format!("https://2130706433:{port}/hook"),
        format!("https://0177.0.0.1:{port}/hook"),
    ] {
        assert_eq!(
            set_webhook(&app, &admin, &company, &url).await.status(),
            200,
            "{url}"
        );
        sunbridge::webhooks::enqueue_for_crew(&app.db, crew_id, "test.ping", json!({"url": url}))
            .await
            .unwrap();
        let d = settled(&app, &admin, &company).await;
        assert_eq!(d["status"], "refused", "{url}: {d}");
        assert!(
            d["last_error"].as_str().unwrap().contains("non-public address"),
            "{url}: {d}"
        );
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the local listener saw nothing"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    // Local stand-ins over http need the development allowance; the redirect itself is refused.
    let app = spawn_app_with(|s| {
        s.outbound_allow_local = true;
        s.webhook_interval_secs = 1;
        s.webhook_retry_base_secs = 60;
    })
    .await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let company = company_of(&app, &admin, &crew).await;
    let (target_port, target_connections) = counting_listener().await;
    let (redirecting, seen) = receiver(302, Some(format!("http://127.0.0.1:{target_port}/steal"))).await;
    assert_eq!(
        set_webhook(&app, &admin, &company, &redirecting).await.status(),
        200
    );
    let crew_id: sunbridge::ids::CrewId = crew.id.parse().unwrap();
    sunbridge::webhooks::enqueue_for_crew(&app.db, crew_id, "test.ping", json!({}))
        .await
        .unwrap();
    let d = settled(&app, &admin, &company).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "the endpoint itself was called");
    assert!(d["last_error"].as_str().unwrap().contains("redirect"), "{d}");
    assert_eq!(
        target_connections.load(Ordering::SeqCst),
        0,
        "the redirect target saw nothing"
    );
}

/// A stand-in for NREL's PVWatts API: records each query, answers 1 kW's production.
async fn fake_nrel() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/api/pvwatts/v8.json",
        axum::routing::get(move |query: axum::extract::RawQuery| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(query.0.unwrap_or_default());
                // 150 kWh a month; the hourly series sums to the same year.
                let hourly: Vec<f64> = (0..8760)
                    .map(|h| {
                        if (10..14).contains(&(h % 24)) {
                            1_232.876_712
                        } else {
                            0.0
                        }
                    })
                    .collect();
                axum::Json(json!({
                    "errors": [],
                    "outputs": {"ac_monthly": vec![150.0; 12], "ac_annual": 1800.0, "ac": hourly}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/pvwatts/v8.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn southwest_quote(app: &TestApp) -> Value {
    let ann = app.member("ann@example.com", Role::Customer).await;
    let home = json!({"label": "Home", "address": "1 Cactus Rd, Phoenix AZ", "latitude": 33.45, "longitude": -112.07,
        "region_id": "us-southwest", "roof_tilt_deg": 20.0, "roof_azimuth_deg": 180.0, "max_panels": 40});
    let (site, first) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    app.api(
        "POST",
        "/api/v1/quotes",
        &ann.token,
        Some(json!({"site_id": site, "offset_percent": 90})),
    )
    .await;
    first
}

#[tokio::test]
async fn regions_without_weather_use_the_pvwatts_api_for_the_homes_coordinates() {
    let (url, seen) = fake_nrel().await;
    let app = spawn_app_with(|s| {
        s.nrel_api_key = Some("nrel-test-key".to_string().into());
        s.nrel_api_url = url.parse().unwrap();
        s.outbound_allow_local = true;
    })
    .await;
    let quote = southwest_quote(&app).await;
    assert!(
        quote["assumptions"].to_string().contains("NREL's PVWatts API"),
        "{quote}"
    );
    let kw = quote["system_kw"].as_f64().unwrap();
    let january = quote["production_monthly_kwh"][0].as_f64().unwrap();
    assert!((january - 150.0 * kw).abs() < 1e-6, "{january} for {kw} kW");
    // A typed yearly figure has no hours to match the API's hourly series against: the
    // stated share is used, and said.
    assert!(
        quote["assumptions"]
            .to_string()
            .contains("of production, at most each month")
    );
    let queries = seen.lock().unwrap().clone();
    assert_eq!(
        queries.len(),
        1,
        "the second quote of the same roof used the kept answer"
    );
    for part in [
        "lat=33.4500",
        "lon=-112.0700",
        "tilt=20.0",
        "azimuth=180.0",
        "losses=14.08",
        "system_capacity=1",
    ] {
        assert!(queries[0].contains(part), "{part} in {}", queries[0]);
    }
}

#[tokio::test]
async fn without_the_api_quotes_fall_back_to_the_yield_and_say_why() {
    let (url, seen) = fake_nrel().await;
    // The stand-in is local; without the development allowance the guard refuses to call it.
    let app = spawn_app_with(|s| {
        s.nrel_api_key = Some("nrel-test-key".to_string().into());
        s.nrel_api_url = url.parse().unwrap();
    })
    .await;
    let quote = southwest_quote(&app).await;
    let assumptions = quote["assumptions"].to_string();
    assert!(
        assumptions.contains("1800 kWh per kW") && assumptions.contains("did not answer"),
        "{assumptions}"
    );
    assert!(seen.lock().unwrap().is_empty());
}
