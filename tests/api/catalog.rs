//! The catalog admins manage: weather files uploaded for new regions, options priced onto
//! quotes, and the admin page that does both; the site page's monthly form and its usage
//! against production chart.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{Member, PageSession, problem_code};
use crate::helpers::{TestApp, spawn_app};

const GREENSBORO: &str = include_str!("../../weather/723170TYA.CSV");

/// The Greensboro year under another station id, as a new station's file would arrive.
fn weather_file(station_id: &str) -> String {
    let (first, rest) = GREENSBORO.split_once('\n').unwrap();
    let (_, after_id) = first.split_once(',').unwrap();
    format!("{station_id},{after_id}\n{rest}")
}

async fn upload(app: &TestApp, token: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/admin/weather"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn site(app: &TestApp, owner: &Member, region: &str, annual_kwh: f64) -> String {
    let body = json!({
        "label": "Home", "address": "1 Elm St", "latitude": 36.07, "longitude": -79.79,
        "region_id": region, "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 40
    });
    let created = app.api("POST", "/api/v1/sites", &owner.token, Some(body)).await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let usage = app
        .api(
            "POST",
            &format!("/api/v1/sites/{id}/usage"),
            &owner.token,
            Some(json!({"annual_kwh": annual_kwh})),
        )
        .await;
    assert_eq!(usage.status(), 201);
    id
}

async fn quote(app: &TestApp, owner: &Member, body: Value) -> reqwest::Response {
    app.api("POST", "/api/v1/quotes", &owner.token, Some(body)).await
}

#[tokio::test]
async fn an_uploaded_weather_file_drives_the_quotes_of_the_region_that_uses_it() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let ann = app.member("ann@example.com", Role::Customer).await;

    let stored = upload(&app, &admin.token, weather_file("999001")).await;
    assert_eq!(stored.status(), 201);
    let file: Value = stored.json().await.unwrap();
    assert_eq!(file["key"], "tmy3-999001");
    assert_eq!(file["built_in"], false);
    // The same station again is a conflict: a key's weather never changes under it.
    assert_eq!(
        upload(&app, &admin.token, weather_file("999001")).await.status(),
        409
    );
    let listed: Value = app
        .api("GET", "/api/v1/admin/weather", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["723170TYA", "703165TY", "tmy3-999001"]);

    // A new region simulated with it, from an unknown key refused first.
    let region = json!({"id": "us-nc-triad", "name": "NC Triad", "utility": "Duke Energy",
        "specific_yield": 1400.0, "price_per_watt_cents": 250, "deposit_percent": 10,
        "retail_rate": 0.14, "export_rate": 0.04, "escalation_percent": 3.0,
        "weather_key": "tmy3-nowhere"});
    let (status, _) = problem_code(
        app.api(
            "POST",
            "/api/v1/admin/regions",
            &admin.token,
            Some(region.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let mut region = region;
    region["weather_key"] = json!("tmy3-999001");
    let created = app
        .api("POST", "/api/v1/admin/regions", &admin.token, Some(region))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.json::<Value>().await.unwrap()["weather_key"],
        "tmy3-999001"
    );

    // The same weather, roof and prices as the built-in Greensboro region: the same quote.
    let triad = site(&app, &ann, "us-nc-triad", 10_000.0).await;
    let piedmont = site(&app, &ann, "us-nc-piedmont", 10_000.0).await;
    let a: Value = quote(&app, &ann, json!({"site_id": triad}))
        .await
        .json()
        .await
        .unwrap();
    let b: Value = quote(&app, &ann, json!({"site_id": piedmont}))
        .await
        .json()
        .await
        .unwrap();
    assert!(a["assumptions"].to_string().contains("PVWatts v5"), "{a}");
    assert_eq!(a["panels"], b["panels"]);
    assert_eq!(a["production_monthly_kwh"], b["production_monthly_kwh"]);

    // Taking the weather away: the region's yield, and the quote says so.
    let cleared = app
        .api(
            "PATCH",
            "/api/v1/admin/regions/us-nc-triad",
            &admin.token,
            Some(json!({"weather_key": ""})),
        )
        .await;
    assert_eq!(cleared.status(), 200);
    let c: Value = quote(&app, &ann, json!({"site_id": triad}))
        .await
        .json()
        .await
        .unwrap();
    assert!(c["assumptions"].to_string().contains("no hourly weather file"));

    // Every change is in the trail.
    let targets: Vec<String> = app
        .audit_actions(&admin, "catalog.changed")
        .await
        .iter()
        .map(|row| row["target_kind"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        targets.iter().filter(|t| *t == "weather_file").count(),
        1,
        "{targets:?}"
    );
    assert_eq!(
        targets.iter().filter(|t| *t == "region").count(),
        2,
        "{targets:?}"
    );
}

#[tokio::test]
async fn a_weather_file_that_cannot_be_used_is_refused_with_the_place_to_look() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let support = app.member("sue@example.com", Role::Support).await;

    // A value no weather station measures: the line and column are named.
    let mut lines: Vec<String> = weather_file("999002").lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[100].split(',').map(str::to_owned).collect();
    fields[4] = "9999".into(); // GHI
    lines[100] = fields.join(",");
    let damaged = upload(&app, &admin.token, lines.join("\n")).await;
    assert_eq!(damaged.status(), 400);
    let body: Value = damaged.json().await.unwrap();
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("line 101") && detail.contains("GHI"), "{detail}");

    // Half a year, not text, the wrong media type, and a Green Button file.
    let half: String = weather_file("999003")
        .lines()
        .take(4000)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(upload(&app, &admin.token, half).await.status(), 400);
    let binary = app
        .client
        .post(app.url("/api/v1/admin/weather"))
        .bearer_auth(&admin.token)
        .header("content-type", "text/csv")
        .body(vec![0xff, 0xfe, 0x00, 0x41])
        .send()
        .await
        .unwrap();
    assert_eq!(binary.status(), 400);
    let json_body = app
        .api(
            "POST",
            "/api/v1/admin/weather",
            &admin.token,
            Some(json!({"csv": "x"})),
        )
        .await;
    assert_eq!(json_body.status(), 415);
    assert_eq!(
        upload(&app, &admin.token, "<feed></feed>".into()).await.status(),
        400
    );
    // Not an admin: refused before anything is read.
    assert_eq!(
        upload(&app, &support.token, weather_file("999004"))
            .await
            .status(),
        403
    );
    let listed: Value = app
        .api("GET", "/api/v1/admin/weather", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "nothing was stored");
}

#[tokio::test]
async fn options_are_priced_onto_a_quote_from_the_catalog_and_kept_when_prices_change() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let options: Value = app.get("/api/v1/catalog/options").await.json().await.unwrap();
    let ids: Vec<&str> = options["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"battery-13kwh") && ids.contains(&"critter-guard"),
        "{ids:?}"
    );

    let site = site(&app, &ann, "us-southwest", 9_000.0).await;
    let plain: Value = quote(&app, &ann, json!({"site_id": site}))
        .await
        .json()
        .await
        .unwrap();
    let response = quote(
        &app,
        &ann,
        json!({"site_id": site, "options": ["critter-guard", "battery-13kwh"]}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let with: Value = response.json().await.unwrap();
    let panels = with["panels"].as_i64().unwrap();
    // $25 a panel and $12,000 once, on top of the same system.
    assert_eq!(with["system_price_cents"], plain["price_cents"]);
    assert_eq!(
        with["price_cents"].as_i64().unwrap(),
        plain["price_cents"].as_i64().unwrap() + panels * 2_500 + 1_200_000
    );
    assert_eq!(with["options"][0]["quantity"].as_i64().unwrap(), panels);
    assert_eq!(
        with["years"], plain["years"],
        "options are priced, not counted as savings"
    );
    assert!(
        with["assumptions"]
            .to_string()
            .contains("Critter guard at $25.00 per panel")
    );

    // Unknown, repeated or smuggled prices: refused.
    for bad in [
        json!({"site_id": site, "options": ["gold-plating"]}),
        json!({"site_id": site, "options": ["critter-guard", "critter-guard"]}),
        json!({"site_id": site, "options": [{"id": "battery-13kwh", "price_cents": 1}]}),
    ] {
        let (status, _) = problem_code(quote(&app, &ann, bad.clone()).await).await;
        assert_eq!(status, 422, "{bad}");
    }

    // A price change and a retirement apply to new quotes only.
    let changed = app
        .api(
            "PATCH",
            "/api/v1/admin/options/battery-13kwh",
            &admin.token,
            Some(json!({"price_cents": 1_500_000})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let kept: Value = app
        .api(
            "GET",
            &format!("/api/v1/quotes/{}", with["id"].as_str().unwrap()),
            &ann.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["price_cents"], with["price_cents"]);
    let retired = app
        .api(
            "PATCH",
            "/api/v1/admin/options/critter-guard",
            &admin.token,
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(retired.status(), 200);
    let (status, _) =
        problem_code(quote(&app, &ann, json!({"site_id": site, "options": ["critter-guard"]})).await).await;
    assert_eq!(status, 422);
    // Customers cannot manage the catalog; new options need a sane price.
    let (status, _) = problem_code(
        app.api(
            "PATCH",
            "/api/v1/admin/options/battery-13kwh",
            &ann.token,
            Some(json!({"price_cents": 1})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = problem_code(
        app.api(
            "POST",
            "/api/v1/admin/options",
            &admin.token,
            Some(json!({"id": "x", "name": "X", "description": "X", "price_cents": -5, "per_panel": false})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
}

async fn admin_page_session(app: &TestApp) -> PageSession {
    let mut admin = app.member("admin@example.com", Role::Admin).await;
    app.page_session(&mut admin).await
}

#[tokio::test]
async fn admins_manage_regions_options_and_weather_on_the_catalog_page() {
    let app = spawn_app().await;
    let session = admin_page_session(&app).await;
    let page = app
        .page_get("/admin/catalog", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("North Carolina Piedmont") && page.contains("Critter guard"));

    // A region's price from the page, then a quote-bound check through the API.
    let saved = app
        .page_post(
            "/admin/catalog/regions/us-southwest",
            &session,
            &[
                ("price_per_watt_cents", "275"),
                ("deposit_percent", "15"),
                ("retail_rate", "0.16"),
                ("export_rate", "0.05"),
                ("escalation_percent", "3"),
                ("specific_yield", "1800"),
                ("weather_key", ""),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let regions: Value = app.get("/api/v1/regions").await.json().await.unwrap();
    let sw = regions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "us-southwest")
        .unwrap()
        .clone();
    assert_eq!(sw["price_per_watt_cents"], 275);
    assert_eq!(sw["deposit_percent"], 15);
    // A typo is explained on the page, and nothing changes.
    let refused = app
        .page_post(
            "/admin/catalog/regions/us-southwest",
            &session,
            &[
                ("price_per_watt_cents", "2.75"),
                ("deposit_percent", "80"),
                ("retail_rate", "0.16"),
                ("export_rate", "0.05"),
                ("escalation_percent", "3"),
                ("specific_yield", "1800"),
                ("zip_codes", "850-86"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    // Every problem at once, each beside its field, with what was typed kept.
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("There are 3 problems with the region"),
        "{refused}"
    );
    assert!(refused.contains(
        r#"<p class="field-error" id="region-us-southwest-price_per_watt_cents-error">Enter the price in cents per watt as a whole number from 50 to 1,000.</p>"#
    ));
    assert!(refused.contains(
        r#"<p class="field-error" id="region-us-southwest-deposit_percent-error">Enter the deposit in % as a whole number from 0 to 50.</p>"#
    ));
    assert!(refused.contains(r#"id="region-us-southwest-zip_codes-error""#));
    assert!(refused.contains(r#"value="2.75""#) && refused.contains(r#"value="850-86""#));
    // The limits are stated before they are hit.
    assert!(refused.contains("Price (cents per watt), 50 to 1,000"));
    let regions: Value = app.get("/api/v1/regions").await.json().await.unwrap();
    let sw = regions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "us-southwest")
        .unwrap()
        .clone();
    assert_eq!(sw["price_per_watt_cents"], 275);

    // A new option with two problems comes back open, as typed.
    let refused = app
        .page_post(
            "/admin/catalog/options",
            &session,
            &[
                ("id", "snow-guard"),
                ("name", ""),
                ("description", "Stops snow sliding off the array onto the path."),
                ("price", "twelve"),
                ("per_panel", "true"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("There are 2 problems with the option"),
        "{refused}"
    );
    assert!(
        refused.contains(r#"id="new-option-name-error""#)
            && refused.contains(r#"id="new-option-price-error""#)
    );
    assert!(
        refused.contains(r#"value="twelve""#)
            && refused.contains(r#"<option value="true" selected>per panel"#)
    );

    // An option from the page, in dollars.
    let added = app
        .page_post(
            "/admin/catalog/options",
            &session,
            &[
                ("id", "snow-guard"),
                ("name", "Snow guard"),
                ("description", "Stops snow sliding off the array onto the path."),
                ("price", "1,250.50"),
                ("per_panel", "false"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let options: Value = app.get("/api/v1/catalog/options").await.json().await.unwrap();
    assert!(
        options["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == "snow-guard" && o["price_cents"] == 125_050)
    );

    // A weather file through the file form: the CSRF token first, like every upload.
    let form = |csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::text(weather_file("999005"))
                    .file_name("999005TYA.CSV")
                    .mime_str("text/csv")
                    .unwrap(),
            )
    };
    let forged = app
        .client
        .post(app.url("/admin/catalog/weather"))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(form(&"0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let uploaded = app
        .client
        .post(app.url("/admin/catalog/weather"))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(form(&session.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 303);
    let page = app
        .page_get("/admin/catalog?notice=weather", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("tmy3-999005") && page.contains("Weather file stored"));
}

#[tokio::test]
async fn the_site_page_takes_twelve_monthly_figures_and_charts_usage_against_production() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let session = app.page_session(&mut ann).await;
    let site = site(&app, &ann, "us-nc-piedmont", 1.0).await;
    let path = format!("/sites/{site}");
    let months = [
        "1,200", "1100", "900", "700", "650", "800", "1000", "1050", "800", "650", "700", "1050",
    ];
    let mut fields: Vec<(&str, &str)> = months.iter().map(|m| ("monthly_kwh", *m)).collect();
    let recorded = app
        .page_post(&format!("{path}/usage/typed"), &session, &fields)
        .await;
    assert_eq!(recorded.status(), 303);
    let usage: Value = app
        .api("GET", &format!("/api/v1/sites/{site}/usage"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["source"], "monthly");
    assert_eq!(usage["annual_kwh"].as_f64().unwrap(), 10_600.0);
    assert_eq!(usage["monthly_kwh"][0].as_f64().unwrap(), 1_200.0);

    // Before any quote: an estimate for a system covering the year, said to be one.
    let page = app.page_get(&path, &session.cookie).await.text().await.unwrap();
    assert!(
        page.contains("kWh produced") && page.contains("an estimate for a"),
        "{page}"
    );
    // After a quote: that quote's system.
    let q: Value = quote(&app, &ann, json!({"site_id": site}))
        .await
        .json()
        .await
        .unwrap();
    let page = app.page_get(&path, &session.cookie).await.text().await.unwrap();
    assert!(page.contains(&format!(
        "the {:.2} kW system of quote version 1",
        q["system_kw"].as_f64().unwrap()
    )));

    // Eleven months, or words where numbers go: every problem beside its month and in the
    // summary, what was typed kept, nothing recorded.
    fields.pop();
    let short = app
        .page_post(&format!("{path}/usage/typed"), &session, &fields)
        .await;
    assert_eq!(short.status(), 422);
    let html = short.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#month-12">Enter a number for December usage.</a>"##),
        "{html}"
    );
    assert!(
        html.contains(r#"id="month-1" name="monthly_kwh" type="text" inputmode="decimal" value="1,200""#)
    );
    fields.push(("monthly_kwh", "lots"));
    fields[2] = ("monthly_kwh", "nine hundred");
    let wordy = app
        .page_post(&format!("{path}/usage/typed"), &session, &fields)
        .await;
    assert_eq!(wordy.status(), 422);
    let html = wordy.text().await.unwrap();
    assert!(html.contains("2 figures need fixing"), "{html}");
    assert!(html.contains(r#"id="month-3-error">Enter a number for March usage."#));
    assert!(html.contains(r#"value="nine hundred""#) && html.contains(r#"value="lots""#));

    // Options are offered on the quote form and priced on the quote page.
    let quoted = app
        .page_post(
            &format!("{path}/quote"),
            &session,
            &[
                ("offset_percent", "100"),
                ("options", "critter-guard"),
                ("options", "ev-charger"),
            ],
        )
        .await;
    assert_eq!(quoted.status(), 303);
    let quote_page = app
        .page_get(quoted.headers()["location"].to_str().unwrap(), &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(quote_page.contains("× Critter guard at $25.00") && quote_page.contains("EV charger"));
}

#[tokio::test]
async fn admins_keep_the_holiday_list_through_the_api() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let listed: Value = app
        .api("GET", "/api/v1/admin/holidays", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    // Seeded with the US federal holidays, every region keeping them.
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"].as_str().unwrap().contains("Christmas") && h["region_id"] == ""),
        "{listed}"
    );
    let day = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(40)).to_string();
    let body = json!({"day": day, "name": "Piedmont Founders' Day", "region_id": "us-nc-piedmont"});
    let added = app
        .api("POST", "/api/v1/admin/holidays", &admin.token, Some(body.clone()))
        .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    assert_eq!(added["region_id"], "us-nc-piedmont");
    let again = app
        .api("POST", "/api/v1/admin/holidays", &admin.token, Some(body))
        .await;
    assert_eq!(again.status(), 409);
    let past = json!({"day": "2020-01-01", "name": "Long ago"});
    assert_eq!(
        app.api("POST", "/api/v1/admin/holidays", &admin.token, Some(past))
            .await
            .status(),
        422
    );
    assert_eq!(
        app.api("GET", "/api/v1/admin/holidays", &ann.token, None)
            .await
            .status(),
        403
    );
    let path = format!("/api/v1/admin/holidays/{}", added["id"].as_str().unwrap());
    assert_eq!(app.api("DELETE", &path, &admin.token, None).await.status(), 204);
    assert_eq!(app.api("DELETE", &path, &admin.token, None).await.status(), 404);
}
