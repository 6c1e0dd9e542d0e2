//! Quotes through the front door: sized from the imported usage and the roof's simulated
//! production, immutable versions, owner-only, typed requests.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn site_with_usage(app: &TestApp, owner: &Member, region: &str, annual_kwh: Option<f64>) -> String {
    let body = json!({
        "label": "Home",
        "address": "123 Main St, Greensboro NC 27401",
        "latitude": 36.07,
        "longitude": -79.79,
        "region_id": region,
        "roof_tilt_deg": 25.0,
        "roof_azimuth_deg": 180.0,
        "max_panels": 30
    });
    let site: Value = app
        .api("POST", "/api/v1/sites", &owner.token, Some(body))
        .await
        .json()
        .await
        .unwrap();
    let id = site["id"].as_str().unwrap().to_owned();
    if let Some(kwh) = annual_kwh {
        let response = app
            .api(
                "POST",
                &format!("/api/v1/sites/{id}/usage"),
                &owner.token,
                Some(json!({"annual_kwh": kwh})),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    id
}

#[tokio::test]
async fn a_quote_is_sized_from_usage_and_simulated_production_and_lists_its_assumptions() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(10_000.0)).await;
    let response = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let quote: Value = response.json().await.unwrap();
    assert_eq!(quote["version"], 1);
    let kw = quote["system_kw"].as_f64().unwrap();
    let panels = quote["panels"].as_u64().unwrap();
    // 410 W panels (the first of the catalog): the size is a whole number of them.
    assert!((kw - panels as f64 * 0.41).abs() < 1e-9);
    // Price: $2.50 per watt in this region.
    assert_eq!(
        quote["price_cents"].as_i64().unwrap(),
        (panels * 410 * 250) as i64
    );
    assert_eq!(
        quote["deposit_cents"].as_i64().unwrap(),
        (panels * 410 * 25) as i64
    );
    // Sized for 100 %: just enough panels, so production is at least the usage and one panel
    // less would fall short.
    let production = quote["annual_production_kwh"].as_f64().unwrap();
    assert!(production >= 10_000.0 && production - 10_000.0 < production / panels as f64 + 1e-6);
    let monthly: f64 = quote["production_monthly_kwh"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((monthly - production).abs() < 1e-6);
    assert_eq!(quote["years"].as_array().unwrap().len(), 25);
    let text = quote["assumptions"].to_string();
    assert!(text.contains("PVWatts") && text.contains("GREENSBORO"), "{text}");
    assert!(quote["payback_year"].as_u64().is_some());
    // Until when the price holds: 30 days after it was made, in every answer.
    let made = chrono::DateTime::parse_from_rfc3339(quote["created_at"].as_str().unwrap()).unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(quote["valid_until"].as_str().unwrap()).unwrap();
    assert_eq!(until - made, chrono::TimeDelta::days(30), "{quote}");

    // A region without a weather file uses its yield, and says so.
    let southwest = site_with_usage(&app, &ann, "us-southwest", Some(10_000.0)).await;
    let quote: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": southwest})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(quote["assumptions"].to_string().contains("1800 kWh per kW"));
    // 10,000 ÷ 1,800 = 5.56 kW → 14 panels of 410 W.
    assert_eq!(quote["panels"], 14);
}

#[tokio::test]
async fn quotes_are_immutable_versions_and_need_usage_first() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", None).await;
    let (status, code) = problem_code(
        app.api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "usage_required"));
    app.api(
        "POST",
        &format!("/api/v1/sites/{site}/usage"),
        &ann.token,
        Some(json!({"annual_kwh": 8000.0})),
    )
    .await;
    let first: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();
    // New usage and a different choice make version 2; version 1 is unchanged.
    app.api(
        "POST",
        &format!("/api/v1/sites/{site}/usage"),
        &ann.token,
        Some(json!({"annual_kwh": 12000.0})),
    )
    .await;
    let second: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site, "offset_percent": 80, "panel_id": "rec-alpha-pure-r-430"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["version"], 2);
    let again: Value = app
        .api(
            "GET",
            &format!("/api/v1/quotes/{}", first["id"].as_str().unwrap()),
            &ann.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, first, "what was quoted stays exactly as it was");
    let list: Value = app
        .api("GET", "/api/v1/quotes", &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    // Nothing edits a quote.
    for method in ["PUT", "PATCH", "DELETE"] {
        let status = app
            .api(
                method,
                &format!("/api/v1/quotes/{}", first["id"].as_str().unwrap()),
                &ann.token,
                Some(json!({})),
            )
            .await
            .status();
        assert_eq!(status, 405, "{method}");
    }
}

#[tokio::test]
async fn a_customer_cannot_quote_or_read_someone_elses_site_or_set_the_price() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let bob = app.member("bob@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(9000.0)).await;
    let quote: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();
    let (status, _) = problem_code(
        app.api(
            "POST",
            "/api/v1/quotes",
            &bob.token,
            Some(json!({"site_id": site})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = problem_code(
        app.api(
            "GET",
            &format!("/api/v1/quotes/{}", quote["id"].as_str().unwrap()),
            &bob.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    for body in [
        json!({"site_id": site, "price_per_watt_cents": 1}),
        json!({"site_id": site, "retail_rate": 5.0}),
        json!({"site_id": site, "offset_percent": 1000}),
        json!({"site_id": site, "panel_id": "no-such-panel"}),
    ] {
        let (status, _) = problem_code(
            app.api("POST", "/api/v1/quotes", &ann.token, Some(body.clone()))
                .await,
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }
}

#[tokio::test]
async fn the_quote_page_shows_the_charts_and_the_assumptions_and_prints() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(10_000.0)).await;
    let session = app.page_session(&mut ann).await;
    let made = app
        .page_post(
            &format!("/sites/{site}/quote"),
            &session,
            &[("offset_percent", "100"), ("panel_id", "")],
        )
        .await;
    assert_eq!(made.status(), 303);
    let location = made.headers()["location"].to_str().unwrap().to_owned();
    let page = app
        .page_get(&location, &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    for needle in [
        "Usage and production by month",
        "Savings by year",
        "Assumptions",
        "PVWatts",
        "<svg",
        "payback",
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    let css_url = page
        .split("href=\"/static/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let css = app.get(&format!("/static/{css_url}")).await.text().await.unwrap();
    assert!(css.contains("@media print"));
}

#[tokio::test]
async fn sales_sees_quoted_leads_with_size_and_price_but_no_contact_details() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let sales = app.member("sal@example.com", Role::Sales).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(10_000.0)).await;
    let quote: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();
    let pipeline: Value = app
        .api("GET", "/api/v1/staff/pipeline", &sales.token, None)
        .await
        .json()
        .await
        .unwrap();
    let lead = &pipeline["items"][0];
    assert_eq!(lead["stage"], "quoted");
    assert_eq!(lead["quoted_kw"], quote["system_kw"]);
    assert_eq!(lead["quoted_price_cents"], quote["price_cents"]);
    assert_eq!(pipeline["weeks"].as_array().unwrap().last().unwrap()["quotes"], 1);
    let quoted = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "quoted")
        .unwrap();
    assert_eq!(quoted["count"], 1);
    let text = pipeline.to_string();
    assert!(
        !text.contains("ann@example.com") && !text.contains("Main St"),
        "no contact data: {text}"
    );
}

#[tokio::test]
async fn admins_manage_the_catalog_and_old_quotes_keep_their_figures() {
    let app = spawn_app().await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(10_000.0)).await;
    let before: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();

    let panel = json!({"id": "acme-500", "manufacturer": "Acme", "model": "Sun 500", "watts": 500,
        "efficiency_percent": 23.0, "width_mm": 1134, "height_mm": 1900, "warranty_years": 30});
    assert_eq!(
        app.api("POST", "/api/v1/admin/panels", &admin.token, Some(panel.clone()))
            .await
            .status(),
        201
    );
    assert_eq!(
        app.api("POST", "/api/v1/admin/panels", &admin.token, Some(panel))
            .await
            .status(),
        409
    );
    let catalog: Value = app.get("/api/v1/catalog/panels").await.json().await.unwrap();
    assert!(
        catalog["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "acme-500")
    );

    let changed = app
        .api(
            "PATCH",
            "/api/v1/admin/regions/us-nc-piedmont",
            &admin.token,
            Some(json!({"price_per_watt_cents": 300})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    for bad in [
        json!({"price_per_watt_cents": 1}),
        json!({"retail_rate": 40.0}),
        json!({"name": "x"}),
    ] {
        let (status, _) = problem_code(
            app.api(
                "PATCH",
                "/api/v1/admin/regions/us-nc-piedmont",
                &admin.token,
                Some(bad.clone()),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{bad}");
    }
    let after: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site, "panel_id": "acme-500"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let panels = after["panels"].as_i64().unwrap();
    assert_eq!(after["price_cents"].as_i64().unwrap(), panels * 500 * 300);
    let old: Value = app
        .api(
            "GET",
            &format!("/api/v1/quotes/{}", before["id"].as_str().unwrap()),
            &ann.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        old["price_cents"], before["price_cents"],
        "version 1 keeps its price"
    );

    let retired = app
        .api(
            "PATCH",
            "/api/v1/admin/panels/acme-500",
            &admin.token,
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(retired.status(), 204);
    let catalog: Value = app.get("/api/v1/catalog/panels").await.json().await.unwrap();
    assert!(
        !catalog["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "acme-500")
    );
    let (status, _) = problem_code(
        app.api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site, "panel_id": "acme-500"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "a retired panel is not quoted");
}

#[tokio::test]
async fn a_year_of_hourly_readings_is_matched_hour_by_hour_with_production() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", None).await;
    let file = std::fs::read(format!(
        "{}/testdata/greenbutton/Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let uploaded = app
        .client
        .post(app.url(&format!("/api/v1/sites/{site}/usage")))
        .bearer_auth(&ann.token)
        .header("content-type", "application/xml")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let hourly: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        hourly["assumptions"].to_string().contains("hour by hour"),
        "{}",
        hourly["assumptions"]
    );
    let production = hourly["annual_production_kwh"].as_f64().unwrap();
    let own_use = hourly["self_consumed_kwh"].as_f64().unwrap();
    assert!(own_use > 0.0 && own_use < production && own_use < 6_563.0);
    assert!((own_use + hourly["exported_kwh"].as_f64().unwrap() - production).abs() < 1e-6);

    // The same yearly total typed in has no hours: the stated share is used instead.
    app.api(
        "POST",
        &format!("/api/v1/sites/{site}/usage"),
        &ann.token,
        Some(json!({"annual_kwh": 6563.0})),
    )
    .await;
    let typed: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(typed["assumptions"].to_string().contains("30 % of production"));
}

#[tokio::test]
async fn support_and_sales_read_a_customers_quotes_engineers_do_not() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let support = app.member("sam@example.com", Role::Support).await;
    let sales = app.member("sal@example.com", Role::Sales).await;
    let engineer = app.member("eng@example.com", Role::Engineer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(9000.0)).await;
    let quote: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/staff/customers/{}/quotes", ann.id);
    for reader in [&support, &sales] {
        let list: Value = app
            .api("GET", &path, &reader.token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"][0]["id"], quote["id"]);
        assert_eq!(list["items"][0]["price_cents"], quote["price_cents"]);
        assert!(!list.to_string().contains("Main St"), "no address in a quote");
    }
    let (status, code) = problem_code(app.api("GET", &path, &engineer.token, None).await).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    // A staff account is not a customer: nothing to read there.
    let (status, _) = problem_code(
        app.api(
            "GET",
            &format!("/api/v1/staff/customers/{}/quotes", sales.id),
            &support.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
}

/// Many quotes asked for one home at once (a double-clicking customer, a retrying app) each get
/// their own version, on every database: no 500, no gap, no duplicate.
#[tokio::test]
async fn concurrent_quotes_for_one_home_each_get_the_next_version() {
    // Twelve at once is over one caller's burst of quotes: this is about the database, so the
    // budget is widened.
    let app = spawn_app_with(|s| s.rate_expensive_burst = 20).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = site_with_usage(&app, &ann, "us-nc-piedmont", Some(10_950.0)).await;
    let body = json!({"site_id": site});
    let requests = (0..12).map(|_| app.api("POST", "/api/v1/quotes", &ann.token, Some(body.clone())));
    let mut versions = Vec::new();
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.status(), 201);
        let quote: Value = response.json().await.unwrap();
        versions.push(quote["version"].as_i64().unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=12).collect::<Vec<i64>>());
}
