//! Sites and usage import through the front door: owner-only sites (S-AC-3), typed bodies
//! (S-AC-4), Green Button totals on every sample file, and the XML attacks (S-SF-2).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{TestApp, spawn_app};

fn site_body() -> Value {
    json!({
        "label": "Home",
        "address": "123 Main St, Greensboro NC 27401",
        "latitude": 36.07,
        "longitude": -79.79,
        "region_id": "us-nc-piedmont",
        "roof_tilt_deg": 25.0,
        "roof_azimuth_deg": 180.0,
        "max_panels": 24
    })
}

async fn new_site(app: &TestApp, owner: &Member) -> String {
    let response = app
        .api("POST", "/api/v1/sites", &owner.token, Some(site_body()))
        .await;
    assert_eq!(response.status(), 201);
    let site: Value = response.json().await.unwrap();
    site["id"].as_str().unwrap().to_owned()
}

async fn upload(app: &TestApp, owner: &Member, site: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/sites/{site}/usage")))
        .bearer_auth(&owner.token)
        .header("content-type", "application/xml")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/testdata/greenbutton/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn every_sample_file_imports_to_its_published_total() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = new_site(&app, &ann).await;
    for (file, total, interval) in [
        (
            "Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml",
            6_563.0,
            3600,
        ),
        (
            "Mountain_Single_family_Jan_1_2011_to_Jan_1_2012.xml",
            8_898.5,
            3600,
        ),
        ("MonthlyOnlyElectricData.xml", 9_567.0, 2_678_400),
        ("1hrLP_32Days.xml", 2_354.8, 3600),
        ("15minLP_15Days.xml", 1_397.7, 900),
    ] {
        let response = upload(&app, &ann, &site, sample(file)).await;
        assert_eq!(response.status(), 201, "{file}");
        let summary: Value = response.json().await.unwrap();
        let got = summary["delivered_kwh"].as_f64().unwrap();
        assert!((got - total).abs() <= 0.1, "{file}: {got} kWh, expected {total}");
        assert_eq!(summary["source"], "green_button");
        assert_eq!(summary["monthly_kwh"].as_array().unwrap().len(), 12);
        if file.contains("Monthly") {
            // Monthly billing periods vary in length; the most common one is reported.
            assert!(summary["interval_secs"].as_i64().unwrap() >= 2_592_000);
        } else {
            assert_eq!(summary["interval_secs"], interval, "{file}");
        }
        if file.contains("Days") {
            let notes = summary["notes"].to_string();
            assert!(
                notes.contains("scaled"),
                "a short file says it was scaled: {notes}"
            );
        }
    }
    // The latest import is the one a quote will use.
    let current: Value = app
        .api("GET", &format!("/api/v1/sites/{site}/usage"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!((current["delivered_kwh"].as_f64().unwrap() - 1_397.7).abs() <= 0.1);
}

#[tokio::test]
async fn gas_and_broken_files_get_a_400_that_says_why() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = new_site(&app, &ann).await;
    let response = upload(&app, &ann, &site, sample("Gas.xml")).await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("gas"), "{problem}");

    let file = sample("1hrLP_32Days.xml");
    for broken in [
        file[..file.len() / 3].to_vec(),
        b"not xml at all".to_vec(),
        Vec::new(),
    ] {
        let response = upload(&app, &ann, &site, broken).await;
        assert_eq!(response.status(), 400);
    }
}

#[tokio::test]
async fn xml_attacks_are_refused_fast_without_any_network_call() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = new_site(&app, &ann).await;
    // A listener the external entity points at: it must never be called.
    let bait = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bait_addr = bait.local_addr().unwrap();
    let xxe = format!(
        r#"<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "http://{bait_addr}/secret">]><feed><entry><content>&x;</content></entry></feed>"#
    );
    let mut laughs = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">"#);
    for i in 1..10 {
        laughs.push_str(&format!(
            r#"<!ENTITY lol{i} "{}">"#,
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]><feed>&lol9;</feed>");
    let deep = "<feed>".repeat(200_000);
    for (what, body) in [
        ("xxe", xxe.into_bytes()),
        ("laughs", laughs.into_bytes()),
        ("deep", deep.into_bytes()),
    ] {
        let started = Instant::now();
        let response = upload(&app, &ann, &site, body).await;
        assert_eq!(response.status(), 400, "{what}");
        // A generous bound: the refusal must not depend on the input's expansion.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what} took {:?}",
            started.elapsed()
        );
    }
    let called = tokio::time::timeout(Duration::from_millis(200), bait.accept()).await;
    assert!(called.is_err(), "the server fetched the external entity");
}

#[tokio::test]
async fn uploads_have_their_own_limit_and_other_routes_keep_theirs() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = new_site(&app, &ann).await;
    let huge = vec![b' '; 21 * 1024 * 1024];
    let response = upload(&app, &ann, &site, huge).await;
    assert_eq!(response.status(), 413);
    // The year file (1.7 MB) is over the ordinary 1 MB limit and goes through here…
    let year = sample("Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml");
    assert!(year.len() > 1024 * 1024);
    assert_eq!(upload(&app, &ann, &site, year.clone()).await.status(), 201);
    // …but not on an ordinary route.
    let response = app
        .client
        .post(app.url("/api/v1/sites"))
        .bearer_auth(&ann.token)
        .header("content-type", "application/json")
        .body(year)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn typed_usage_needs_one_annual_figure_or_twelve_monthly_ones() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = new_site(&app, &ann).await;
    let path = format!("/api/v1/sites/{site}/usage");
    let annual = app
        .api("POST", &path, &ann.token, Some(json!({"annual_kwh": 10_950.0})))
        .await;
    assert_eq!(annual.status(), 201);
    let annual: Value = annual.json().await.unwrap();
    assert_eq!(annual["annual_kwh"], 10_950.0);
    assert_eq!(annual["monthly_kwh"][0], 930.0);
    let months: Vec<f64> = (1..=12).map(|m| f64::from(m) * 100.0).collect();
    let monthly: Value = app
        .api("POST", &path, &ann.token, Some(json!({ "monthly_kwh": months })))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monthly["annual_kwh"], 7_800.0);
    for bad in [
        json!({}),
        json!({"annual_kwh": -5.0}),
        json!({"monthly_kwh": [1, 2, 3]}),
        json!({"annual_kwh": 1000.0, "monthly_kwh": months}),
        json!({"annual_kwh": 1000.0, "site_id": site}),
    ] {
        let (status, _) = problem_code(app.api("POST", &path, &ann.token, Some(bad.clone())).await).await;
        assert_eq!(status, 422, "{bad}");
    }
    let response = app
        .client
        .post(app.url(&path))
        .bearer_auth(&ann.token)
        .header("content-type", "text/csv")
        .body("month,kwh\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn a_customer_reaches_only_their_own_sites() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let bob = app.member("bob@example.com", Role::Customer).await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let annes = new_site(&app, &ann).await;
    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/sites/{annes}/usage"),
            &ann.token,
            Some(json!({"annual_kwh": 9000.0}))
        )
        .await
        .status(),
        201
    );

    for (method, path, body) in [
        ("GET", format!("/api/v1/sites/{annes}"), None),
        ("GET", format!("/api/v1/sites/{annes}/usage"), None),
        (
            "POST",
            format!("/api/v1/sites/{annes}/usage"),
            Some(json!({"annual_kwh": 1.0})),
        ),
    ] {
        let (status, code) = problem_code(app.api(method, &path, &bob.token, body).await).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{method} {path}");
    }
    let bobs: Value = app
        .api("GET", "/api/v1/sites", &bob.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["items"].as_array().unwrap().len(), 0);
    // Ann's usage is unchanged by Bob's attempt.
    let usage: Value = app
        .api("GET", &format!("/api/v1/sites/{annes}/usage"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["annual_kwh"], 9000.0);

    let refusals: Value = app
        .api(
            "GET",
            "/api/v1/admin/audit?action=access.object_denied",
            &admin.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = refusals["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{refusals}");
    assert!(
        items
            .iter()
            .all(|e| e["target_kind"] == "site" && e["actor_id"] == bob.id.to_string())
    );

    // Typed body: no owner, no id, no unknown region.
    let mut body = site_body();
    body["owner_id"] = json!(bob.id.to_string());
    let (status, _) = problem_code(app.api("POST", "/api/v1/sites", &ann.token, Some(body)).await).await;
    assert_eq!(status, 422);
    let mut body = site_body();
    body["region_id"] = json!("atlantis");
    let (status, _) = problem_code(app.api("POST", "/api/v1/sites", &ann.token, Some(body)).await).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn the_catalog_and_regions_are_public() {
    let app = spawn_app().await;
    let panels: Value = app.get("/api/v1/catalog/panels").await.json().await.unwrap();
    assert!(panels["items"].as_array().unwrap().len() >= 3);
    assert!(panels["items"][0]["watts"].as_i64().unwrap() > 300);
    let regions: Value = app.get("/api/v1/regions").await.json().await.unwrap();
    let items = regions["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|r| r["id"] == "us-nc-piedmont" && r["has_weather_file"] == true)
    );
    assert!(items.iter().all(|r| r.get("tmy_key").is_none()));
}

#[tokio::test]
async fn a_customer_adds_a_home_and_uploads_usage_on_the_pages() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let session = app.page_session(&mut ann).await;
    let list = app
        .page_get("/sites", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    // The form asks for what people know: an address and a ZIP code, the roof's direction
    // and pitch in words; no coordinates, degrees or region codes.
    assert!(list.contains("ZIP code") && list.contains("South-west") && list.contains("Standard"));
    for engineers in ["latitude", "azimuth", "us-nc-piedmont", "degrees"] {
        assert!(!list.contains(engineers), "the form asks for {engineers}");
    }
    // Every problem at once, and what was typed stays.
    let wrong = [
        ("label", "Home"),
        ("address", "12 Oak Lane"),
        ("postal_code", ""),
        ("direction", "up"),
        ("pitch", "standard"),
        ("max_panels", "lots"),
    ];
    let refused = app.page_post("/sites", &session, &wrong).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("There are 3 problems with the home"), "{page}");
    for field in ["#postal_code", "#direction", "#max_panels"] {
        assert!(
            page.contains(&format!("href=\"{field}\"")),
            "{field} not in the summary"
        );
    }
    assert!(page.contains("value=\"12 Oak Lane\"") && page.contains("value=\"lots\""));
    // A ZIP code nobody serves yet: said beside the field, not a generic error.
    let elsewhere = [
        ("label", "Home"),
        ("address", "350 Fifth Avenue"),
        ("postal_code", "10118"),
        ("direction", "s"),
        ("pitch", "standard"),
    ];
    let refused = app.page_post("/sites", &session, &elsewhere).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("We do not install in ZIP code 10118 yet"), "{page}");
    assert!(page.contains("value=\"350 Fifth Avenue\""));

    let fields = [
        ("label", "Home"),
        ("address", "123 Main St"),
        ("postal_code", "27401"),
        ("direction", "sw"),
        ("pitch", "standard"),
        ("max_panels", ""),
    ];
    let created = app.page_post("/sites", &session, &fields).await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let site_path = location.split('?').next().unwrap().to_owned();
    let home = app
        .page_get(&location, &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("Home added"), "{home}");
    assert!(home.contains("Duke Energy Carolinas (North Carolina Piedmont)"));
    assert!(home.contains("A standard roof facing south-west, about 24 panels (our estimate"));

    let upload_to = format!("{site_path}/usage/file");
    let form = |csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(sample("Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml"))
                    .file_name("usage.xml")
                    .mime_str("text/xml")
                    .unwrap(),
            )
    };
    // Without the session's token, or from another site: refused.
    let forged = app
        .client
        .post(app.url(&upload_to))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(form("0".repeat(64).as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let cross = app
        .client
        .post(app.url(&upload_to))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "cross-site")
        .multipart(form(&session.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);

    let uploaded = app
        .client
        .post(app.url(&upload_to))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(form(&session.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 303);
    let page = app
        .page_get(&site_path, &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("6563 kWh"), "the year of usage is shown");
    assert!(
        page.contains("hourly") && page.contains("<svg"),
        "interval and monthly chart"
    );

    // A gas file is explained on the page, not a bare error.
    let gas = reqwest::multipart::Form::new()
        .text("csrf", session.csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(sample("Gas.xml")).file_name("gas.xml"),
        );
    let refused = app
        .client
        .post(app.url(&upload_to))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(gas)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("gas usage file"));

    // Another customer cannot open it.
    let mut bob = app.member("bob@example.com", Role::Customer).await;
    let bobs = app.page_session(&mut bob).await;
    assert_eq!(app.page_get(&site_path, &bobs.cookie).await.status(), 404);
}

#[tokio::test]
async fn usage_files_upload_as_multipart_forms_too() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let site = new_site(&app, &ann).await;
    let path = format!("/api/v1/sites/{site}/usage");
    let post = |form: reqwest::multipart::Form| {
        app.client
            .post(app.url(&path))
            .bearer_auth(&ann.token)
            .multipart(form)
            .send()
    };
    // What a phone's share sheet or a web form sends: a note part, then the file.
    let form = reqwest::multipart::Form::new()
        .text("note", "from my utility")
        .part(
            "file",
            reqwest::multipart::Part::bytes(sample("Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml"))
                .file_name("usage.xml")
                .mime_str("application/xml")
                .unwrap(),
        );
    let response = post(form).await.unwrap();
    assert_eq!(response.status(), 201);
    let summary: Value = response.json().await.unwrap();
    assert!((summary["delivered_kwh"].as_f64().unwrap() - 6_563.0).abs() <= 0.1);
    // The same refusals as the raw file: gas, no file part, and the upload limit.
    let gas =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(sample("Gas.xml")));
    assert_eq!(post(gas).await.unwrap().status(), 400);
    let none = reqwest::multipart::Form::new().text("note", "forgot the file");
    let refused = post(none).await.unwrap();
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "file");
    let huge = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![b' '; 21 * 1024 * 1024]),
    );
    assert_eq!(post(huge).await.unwrap().status(), 413);
}

/// A home from its ZIP code: the gazetteer places it and the region that serves the ZIP code
/// takes it; coordinates and a region sent by an app are kept; an unknown ZIP code and one no
/// region serves are refused on the `postal_code` field, each with its own code.
#[tokio::test]
async fn a_home_is_placed_from_its_zip_code() {
    let app = spawn_app().await;
    let customer = app.member("zoe@example.com", Role::Customer).await;
    let add = |body: Value| {
        let app = &app;
        let token = customer.token.clone();
        async move { app.api("POST", "/api/v1/sites", &token, Some(body)).await }
    };
    let home = |zip: &str| {
        json!({"label": "Home", "address": "1200 Elm Street", "postal_code": zip,
               "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0})
    };

    let placed = add(home("27401-1234")).await;
    assert_eq!(placed.status(), 201);
    let site: Value = placed.json().await.unwrap();
    assert_eq!(site["region_id"], "us-nc-piedmont");
    assert!(
        (site["latitude"].as_f64().unwrap() - 36.0708).abs() < 0.001,
        "{site}"
    );
    assert!(
        (site["longitude"].as_f64().unwrap() + 79.7677).abs() < 0.001,
        "{site}"
    );
    assert_eq!(
        (
            site["max_panels"].as_i64(),
            site["max_panels_estimated"].as_bool()
        ),
        (Some(24), Some(true))
    );

    // Phoenix (Arizona Public Service); a single ZIP code on a region's list (Unalaska).
    for (zip, region) in [("85004", "us-southwest"), ("99685", "us-ak-aleutians")] {
        let site: Value = add(home(zip)).await.json().await.unwrap();
        assert_eq!(site["region_id"], region, "{zip}");
    }

    // A phone's GPS and a chosen region are kept; the panel count given is not an estimate.
    let mut gps = home("27401");
    gps["latitude"] = json!(36.1);
    gps["longitude"] = json!(-79.8);
    gps["max_panels"] = json!(18);
    let site: Value = add(gps).await.json().await.unwrap();
    assert_eq!(
        (site["latitude"].as_f64(), site["longitude"].as_f64()),
        (Some(36.1), Some(-79.8))
    );
    assert_eq!(site["max_panels_estimated"], false);

    // Not a ZIP code; a ZIP code that does not exist; one no region serves yet (New York).
    for (zip, code) in [
        ("2740", "invalid"),
        ("27401-12", "invalid"),
        ("00000", "unknown"),
        ("10118", "not_served"),
    ] {
        let refused = add(home(zip)).await;
        assert_eq!(refused.status(), 422, "{zip}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "postal_code", "{zip}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{zip}: {problem}");
    }
    // Neither a ZIP code nor coordinates: the ZIP code is asked for.
    let mut bare = home("");
    bare.as_object_mut().unwrap().remove("postal_code");
    let problem: Value = add(bare).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "postal_code", "{problem}");

    // An admin extends a region to New York: the same ZIP code is now served.
    let admin = app.member("ada@example.com", Role::Admin).await;
    let extended = app
        .api(
            "PATCH",
            "/api/v1/admin/regions/us-northeast",
            &admin.token,
            Some(json!({"zip_codes": "010-027, 030-038,060-069,100-102"})),
        )
        .await;
    assert_eq!(extended.status(), 200);
    let region: Value = extended.json().await.unwrap();
    assert_eq!(region["zip_codes"], "010-027,030-038,060-069,100-102");
    let site: Value = add(home("10118")).await.json().await.unwrap();
    assert_eq!(site["region_id"], "us-northeast");
    let refused = app
        .api(
            "PATCH",
            "/api/v1/admin/regions/us-northeast",
            &admin.token,
            Some(json!({"zip_codes": "10-20"})),
        )
        .await;
    assert_eq!(refused.status(), 422);

    // Each region has a time zone: seeded, changed by an admin, checked against the IANA names.
    assert_eq!(region["time_zone"], "America/New_York");
    let zoned: Value = app
        .api(
            "PATCH",
            "/api/v1/admin/regions/us-northeast",
            &admin.token,
            Some(json!({"time_zone": "America/Chicago"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zoned["time_zone"], "America/Chicago");
    for bad in ["Mars/Olympus_Mons", "", "EST5EDT; DROP TABLE regions"] {
        let (status, _) = problem_code(
            app.api(
                "PATCH",
                "/api/v1/admin/regions/us-northeast",
                &admin.token,
                Some(json!({"time_zone": bad})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{bad}");
    }
    let southwest: Value = app.get("/api/v1/regions").await.json().await.unwrap();
    let phoenix = southwest["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "us-southwest")
        .unwrap();
    assert_eq!(phoenix["time_zone"], "America/Phoenix");
}

/// Before a home is added, a ZIP code can be looked up without signing in: a known one
/// answers its place and the region that serves it, one we do not serve yet says so, and a
/// malformed or unknown one is a 422 on `postal_code`.
#[tokio::test]
async fn a_zip_code_lookup_names_the_place_and_the_region_or_says_not_yet() {
    let app = spawn_app().await;
    let greensboro: Value = app.get("/api/v1/zip-codes/27401").await.json().await.unwrap();
    assert_eq!(greensboro["postal_code"], "27401");
    assert_eq!(greensboro["served"], true);
    assert_eq!(greensboro["region"]["id"], "us-nc-piedmont");
    assert_eq!(greensboro["region"]["utility"], "Duke Energy Carolinas");
    let (lat, lon) = (
        greensboro["latitude"].as_f64().unwrap(),
        greensboro["longitude"].as_f64().unwrap(),
    );
    assert!(
        (36.0..36.2).contains(&lat) && (-79.9..-79.7).contains(&lon),
        "{greensboro}"
    );
    // ZIP+4 is the same place.
    let plus_four: Value = app
        .get("/api/v1/zip-codes/27401-1234")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plus_four["postal_code"], "27401");

    let new_york = app.get("/api/v1/zip-codes/10118").await;
    assert_eq!(new_york.status(), 200);
    let new_york: Value = new_york.json().await.unwrap();
    assert_eq!(new_york["served"], false);
    assert!(new_york["region"].is_null());

    for (zip, code) in [("2740", "invalid"), ("abcde", "invalid"), ("00000", "unknown")] {
        let refused = app.get(&format!("/api/v1/zip-codes/{zip}")).await;
        assert_eq!(refused.status(), 422, "{zip}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "postal_code", "{zip}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{zip}: {problem}");
    }
}
