//! The crew app through the front door: "Today" in the API, steps that wait for their booked
//! day and their photos, steps and photos sent twice (a phone replaying after lost signal)
//! recorded once, the access notes only the crew reads, and what makes the site installable.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::TestApp;
use crate::helpers::market::CrewFixture;
use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{spawn_app, spawn_app_with};

const ADDRESS: &str = "1200 Elm Street, Greensboro NC 27401";

/// A customer (with a phone) whose survey day a crew has confirmed; answers the customer,
/// the crew and the job id.
async fn confirmed_survey(app: &TestApp) -> (Member, CrewFixture, String) {
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Piedmont Crew", (36.08, -79.80), 2, &[]).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let phoned = app
        .api(
            "PATCH",
            "/api/v1/me",
            &ann.token,
            Some(json!({"name": "Ann Lindqvist", "phone": "+1 (336) 555-0188"})),
        )
        .await;
    assert_eq!(phoned.status(), 200);
    let home = json!({"label": "Home", "address": ADDRESS, "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (site, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let noted = app
        .api(
            "PUT",
            &format!("/api/v1/sites/{site}/access-notes"),
            &ann.token,
            Some(json!({"access_notes": "Side gate, code 2207. Park on the street."})),
        )
        .await;
    assert_eq!(noted.status(), 200);
    let order = app.accept(&ann, quote["id"].as_str().unwrap()).await;
    let (order_id, job) = (
        order["id"].as_str().unwrap().to_owned(),
        order["job_id"].as_str().unwrap().to_owned(),
    );
    app.pay_deposit(&ann, &order_id).await;
    app.book_first_slot(&ann, &order_id, "survey").await;
    app.accept_first_offer(&crew.installer).await;
    (ann, crew, job)
}

async fn transition(
    app: &TestApp,
    member: &Member,
    job: &str,
    to: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/jobs/{job}/transitions")))
        .bearer_auth(&member.token)
        .json(&json!({"to": to}));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

async fn detail(app: &TestApp, member: &Member, job: &str) -> Value {
    app.api("GET", &format!("/api/v1/jobs/{job}"), &member.token, None)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_survey_waits_for_its_day_and_its_photos_and_the_job_says_why() {
    let app = spawn_app().await;
    let (_, crew, job) = confirmed_survey(&app).await;

    // Before the booked day: refused, with the day in the reason.
    let early = transition(&app, &crew.installer, &job, "surveyed", None).await;
    assert_eq!(early.status(), 409);
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["code"], "too_early");
    assert!(
        body["detail"].as_str().unwrap().contains("survey is booked for"),
        "{body}"
    );
    let seen = detail(&app, &crew.installer, &job).await;
    assert_eq!(seen["readiness"]["step"], "surveyed");
    assert_eq!(seen["readiness"]["open"], false);
    assert!(
        seen["readiness"]["why_not"]
            .as_str()
            .unwrap()
            .starts_with("You can record this from")
    );

    // The day comes; without the photos it is still refused, naming them.
    app.day_comes(&job, "survey").await;
    let (status, code) = problem_code(transition(&app, &crew.installer, &job, "surveyed", None).await).await;
    assert_eq!((status, code.as_str()), (409, "photos_missing"));
    let (status, _) = app.photo(&crew.installer, &job, "roof", None).await;
    assert_eq!(status, 201);
    let refused = transition(&app, &crew.installer, &job, "surveyed", None).await;
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "photos_missing");
    assert!(body["detail"].as_str().unwrap().ends_with("meter"), "{body}");
    let seen = detail(&app, &crew.installer, &job).await;
    let photos: Vec<(String, bool)> = seen["readiness"]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["subject"].as_str().unwrap().to_owned(),
                p["taken"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(photos, [("roof".to_owned(), true), ("meter".to_owned(), false)]);

    // With the meter too, the step is open and recorded.
    app.photo(&crew.installer, &job, "meter", None).await;
    assert_eq!(
        detail(&app, &crew.installer, &job).await["readiness"]["open"],
        true
    );
    let done = transition(&app, &crew.installer, &job, "surveyed", None).await;
    assert_eq!(done.status(), 200);
}

#[tokio::test]
async fn a_step_sent_twice_with_one_key_is_recorded_once_even_when_the_copies_race() {
    let app = spawn_app().await;
    let (ann, crew, job) = confirmed_survey(&app).await;
    app.visit_done(&crew.installer, &job, "survey").await;

    // The phone's first send got through but its answer was lost; it sends again.
    let key = "0193b2c4-7f1e-7c3a-9d2e-5b8a1c4e6f70";
    let first = transition(&app, &crew.installer, &job, "surveyed", Some(key)).await;
    assert_eq!(first.status(), 200);
    let again = transition(&app, &crew.installer, &job, "surveyed", Some(key)).await;
    assert_eq!(again.status(), 200, "a replay is answered as a success");
    let surveyed = |d: &Value| {
        d["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["state"] == "surveyed")
            .count()
    };
    assert_eq!(surveyed(&detail(&app, &ann, &job).await), 1);
    // A new key for the same step is a new request: refused, the job has moved on.
    let (status, code) = problem_code(
        transition(
            &app,
            &crew.installer,
            &job,
            "surveyed",
            Some("0193b2c4-0000-7c3a-9d2e-5b8a1c4e6f70"),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "invalid_transition"));

    // Two copies of the customer's design approval racing: one step, two successes.
    let key = "race-7f1e-7c3a-9d2e";
    let (a, b) = tokio::join!(
        transition(&app, &ann, &job, "design_approved", Some(key)),
        transition(&app, &ann, &job, "design_approved", Some(key)),
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let approved = detail(&app, &ann, &job).await["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["state"] == "design_approved")
        .count();
    assert_eq!(approved, 1);

    // A key that is not a plain token is refused, not ignored.
    let (status, code) =
        problem_code(transition(&app, &ann, &job, "design_approved", Some("no spaces, please")).await).await;
    assert_eq!((status, code.as_str()), (422, "validation_failed"));
}

#[tokio::test]
async fn a_photo_sent_twice_with_one_key_is_stored_once() {
    let app = spawn_app().await;
    let (_, crew, job) = confirmed_survey(&app).await;
    let key = "photo-0193b2c4-7f1e";
    let (first, stored) = app.photo(&crew.installer, &job, "roof", Some(key)).await;
    assert_eq!(first, 201);
    let (again, replayed) = app.photo(&crew.installer, &job, "roof", Some(key)).await;
    assert_eq!(again, 200);
    assert_eq!(stored["id"], replayed["id"]);
    // Two copies at once: one photo.
    let key = "photo-race-7c3a-9d2e";
    let ((a, _), (b, _)) = tokio::join!(
        app.photo(&crew.installer, &job, "meter", Some(key)),
        app.photo(&crew.installer, &job, "meter", Some(key)),
    );
    let mut statuses = [a, b];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201]);
    let photos = detail(&app, &crew.installer, &job).await["photos"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(photos, 2, "one roof, one meter");
    assert_eq!(app.stored_files().await.len(), 2, "no orphan file from the race");
}

#[tokio::test]
async fn today_lists_the_crews_visit_with_what_it_needs_on_the_doorstep_and_nothing_for_others() {
    let app = spawn_app().await;
    let (ann, crew, job) = confirmed_survey(&app).await;
    app.day_comes(&job, "survey").await;
    let today: Value = app
        .api("GET", "/api/v1/installer/today", &crew.installer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(today["days"].as_array().unwrap().len(), 3);
    assert_eq!(today["days"][0]["title"], "Today");
    let visit = &today["days"][0]["visits"][0];
    assert_eq!(visit["job_id"], job.as_str());
    assert_eq!(visit["kind"], "survey");
    // The day moved to yesterday in UTC: today or yesterday on the home's own calendar; a past
    // day not recorded yet is overdue and still listed under today.
    let past = visit["date"].as_str().unwrap() < today["days"][0]["date"].as_str().unwrap();
    assert_eq!(visit["overdue"], past);
    assert_eq!(visit["town"], "Greensboro");
    assert_eq!(visit["address"], ADDRESS);
    assert_eq!(visit["customer_first_name"], "Ann");
    assert_eq!(visit["phone_uri"], "tel:+13365550188");
    assert!(
        visit["geo_uri"].as_str().unwrap().starts_with("geo:36."),
        "{visit}"
    );
    assert_eq!(visit["access_notes"], "Side gate, code 2207. Park on the street.");
    assert_eq!(
        visit["readiness"]["why_not"],
        "Take the roof, meter photos first."
    );

    // Another crew's installer sees none of it; a customer may not ask.
    let admin = app.member("admin2@example.com", Role::Admin).await;
    let other = app.crew(&admin, "Other Crew", (36.08, -79.80), 2, &[]).await;
    let theirs: Value = app
        .api("GET", "/api/v1/installer/today", &other.installer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        theirs["days"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["visits"].as_array().unwrap().is_empty())
    );
    assert!(!theirs.to_string().contains("2207"));
    let (status, _) = problem_code(app.api("GET", "/api/v1/installer/today", &ann.token, None).await).await;
    assert_eq!(status, 403);
    // Staff reading the job do not get the access notes; the owner does.
    assert!(detail(&app, &admin, &job).await["place"]["access_notes"].is_null());
    assert_eq!(
        detail(&app, &ann, &job).await["place"]["access_notes"],
        "Side gate, code 2207. Park on the street."
    );
}

#[tokio::test]
async fn access_notes_are_the_owners_to_set_and_bounded() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let bob = app.member("bob@example.com", Role::Customer).await;
    let home = json!({"label": "Home", "address": ADDRESS, "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (site, _) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let path = format!("/api/v1/sites/{site}/access-notes");
    let (status, _) = problem_code(
        app.api(
            "PUT",
            &path,
            &bob.token,
            Some(json!({"access_notes": "mine now"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "someone else's home does not exist");
    let long = "x".repeat(501);
    let (status, _) = problem_code(
        app.api("PUT", &path, &ann.token, Some(json!({"access_notes": long})))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    let cleared: Value = app
        .api("PUT", &path, &ann.token, Some(json!({"access_notes": "  "})))
        .await
        .json()
        .await
        .unwrap();
    assert!(cleared["access_notes"].is_null());
}

#[tokio::test]
async fn the_site_is_installable_a_manifest_a_worker_at_the_root_icons_and_an_offline_page() {
    let app = spawn_app().await;
    let manifest = app.get("/manifest.webmanifest").await;
    assert_eq!(manifest.status(), 200);
    assert_eq!(manifest.headers()["content-type"], "application/manifest+json");
    let manifest: Value = manifest.json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/start");
    let sizes: Vec<&str> = manifest["icons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sizes"].as_str().unwrap())
        .collect();
    assert!(sizes.contains(&"192x192") && sizes.contains(&"512x512"));
    for icon in manifest["icons"].as_array().unwrap() {
        let served = app.get(icon["src"].as_str().unwrap()).await;
        assert_eq!(served.status(), 200);
        assert_eq!(served.headers()["content-type"], "image/png");
        let png = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
        let side = icon["sizes"].as_str().unwrap().split('x').next().unwrap();
        assert_eq!(png.width().to_string(), side);
    }
    let worker = app.get("/sw.js").await;
    assert_eq!(worker.status(), 200);
    assert!(
        worker.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    let code = worker.text().await.unwrap();
    assert!(code.starts_with("const VERSION = \"") && code.contains("\"/offline\""));
    // Every asset the worker keeps is served.
    let assets = code.lines().nth(1).unwrap();
    let assets: Vec<String> =
        serde_json::from_str(assets.trim_start_matches("const ASSETS = ").trim_end_matches(';')).unwrap();
    for asset in &assets {
        assert_eq!(app.get(asset).await.status(), 200, "{asset}");
    }
    let offline = app.get("/offline").await;
    assert_eq!(offline.status(), 200);
    assert!(offline.text().await.unwrap().contains("No signal"));
    // Every page links the manifest and loads the app's script from a file (the CSP allows no
    // inline script).
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(r#"<link rel="manifest" href="/manifest.webmanifest">"#));
    assert!(home.contains(r#"<script src="/static/app."#) && !home.contains("<script>"));
}

#[tokio::test]
async fn pages_carry_the_sessions_deadlines_and_the_session_route_extends_the_idle_one() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let session = app.page_session(&mut ann).await;
    let page = app
        .page_get("/account", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<meta name="session-idle-deadline" content=""#));
    assert!(page.contains(r#"<meta name="session-absolute-deadline" content=""#));
    let deadlines: Value = app
        .page_get("/session", &session.cookie)
        .await
        .json()
        .await
        .unwrap();
    let idle = chrono::DateTime::parse_from_rfc3339(deadlines["idle_deadline"].as_str().unwrap()).unwrap();
    let absolute =
        chrono::DateTime::parse_from_rfc3339(deadlines["absolute_deadline"].as_str().unwrap()).unwrap();
    let now = chrono::Utc::now();
    // Customers: 30 minutes idle by default, and the absolute end later than that.
    let idle_left = (idle.with_timezone(&chrono::Utc) - now).num_minutes();
    assert!((28..=30).contains(&idle_left), "{idle_left}");
    assert!(absolute > idle);
    // Signed out: no deadlines on the page, and the route sends to sign-in.
    let public = app.get("/").await.text().await.unwrap();
    assert!(!public.contains("session-idle-deadline"));
}

/// The next event of a server-sent event stream within `wait`, as (name, data); keep-alive
/// comments are skipped. `None` when nothing came.
async fn next_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
    wait: std::time::Duration,
) -> Option<(String, String)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if data.is_empty() && name == "message" {
                continue; // a keep-alive comment
            }
            return Some((name, data));
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .ok()?
            .ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_offer_stream_tells_a_crew_its_own_offers_and_only_to_a_signed_in_installer() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let near = app.crew(&admin, "Near Crew", (36.08, -79.80), 2, &[]).await;
    // Based in Oregon: it serves no home in Greensboro.
    let far = app.crew(&admin, "Far Crew", (45.52, -122.68), 2, &[]).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let path = "/api/v1/installer/offers/stream";

    let anonymous = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, _) = problem_code(app.api("GET", path, &ann.token, None).await).await;
    assert_eq!(status, 403);

    let open = |member: &Member| app.client.get(app.url(path)).bearer_auth(&member.token).send();
    let mut near_stream = open(&near.installer).await.unwrap();
    let mut far_stream = open(&far.installer).await.unwrap();
    assert_eq!(near_stream.status(), 200);
    assert!(
        near_stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let (mut near_buf, mut far_buf) = (String::new(), String::new());
    let wait = std::time::Duration::from_secs(5);
    let (name, data) = next_event(&mut near_stream, &mut near_buf, wait).await.unwrap();
    assert_eq!((name.as_str(), data.as_str()), ("offers", r#"{"items":[]}"#));
    next_event(&mut far_stream, &mut far_buf, wait).await.unwrap();

    // A booking: the near crew's stream tells it, with the offer; the far crew hears nothing.
    let home = json!({"label": "Home", "address": ADDRESS, "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (_, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let order = app.accept(&ann, quote["id"].as_str().unwrap()).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    app.book_first_slot(&ann, order_id, "survey").await;
    let (name, data) = next_event(&mut near_stream, &mut near_buf, wait).await.unwrap();
    assert_eq!(name, "offers");
    let offers: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(offers["items"][0]["job_id"], order["job_id"]);
    assert!(!data.contains("Elm Street"), "no street address before accepting");
    assert_eq!(
        next_event(&mut far_stream, &mut far_buf, std::time::Duration::from_secs(3)).await,
        None,
        "another crew's offer is not told"
    );
}

#[tokio::test]
async fn an_installer_who_leaves_the_crew_stops_hearing_its_offers() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Near Crew", (36.08, -79.80), 2, &[]).await;
    let path = "/api/v1/installer/offers/stream";
    let mut stream = app
        .client
        .get(app.url(path))
        .bearer_auth(&crew.installer.token)
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let (name, _) = next_event(&mut stream, &mut buffer, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(name, "offers");
    let removed = app
        .api(
            "DELETE",
            &format!("/api/v1/admin/crews/{}/members/{}", crew.id, crew.installer.id),
            &admin.token,
            None,
        )
        .await;
    assert_eq!(removed.status(), 204);
    // Checked with the session, every 15 seconds.
    let (name, data) = next_event(&mut stream, &mut buffer, std::time::Duration::from_secs(25))
        .await
        .expect("the stream ends");
    assert_eq!((name.as_str(), data.as_str()), ("end", "crew_changed"));
}

#[tokio::test]
async fn the_offer_stream_ends_when_the_token_it_was_opened_with_does() {
    let app = spawn_app_with(|s| s.access_token_ttl_secs = 10).await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Near Crew", (36.08, -79.80), 2, &[]).await;
    let signed_in = std::time::Instant::now();
    // Most of the token's life gone: a stream opened now lives only for what is left of it,
    // not for a fresh token's ten seconds.
    tokio::time::sleep(std::time::Duration::from_secs(7).saturating_sub(signed_in.elapsed())).await;
    let mut stream = app
        .client
        .get(app.url("/api/v1/installer/offers/stream"))
        .bearer_auth(&crew.installer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut buffer = String::new();
    let wait = std::time::Duration::from_secs(6);
    let (name, _) = next_event(&mut stream, &mut buffer, wait).await.unwrap();
    assert_eq!(name, "offers");
    let (name, data) = next_event(&mut stream, &mut buffer, wait)
        .await
        .expect("the stream ends with the token, well before ten seconds");
    assert_eq!((name.as_str(), data.as_str()), ("end", "deadline"));
}
