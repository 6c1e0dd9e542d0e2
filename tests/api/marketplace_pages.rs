//! The marketplace in the browser's pages: a customer accepts, pays on the development
//! checkout page, books from the calendar; the crew answers in its portal and uploads a photo;
//! staff see jobs masked; admins set up crews.

use serde_json::Value;
use sunbridge::access::Role;

use crate::helpers::roles::PageSession;
use crate::helpers::spawn_app;

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn first_value_after(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

async fn multipart_post(
    app: &crate::helpers::TestApp,
    path: &str,
    session: &PageSession,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("cookie", &session.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_customer_orders_pays_and_books_on_the_pages_and_the_crew_answers_in_its_portal() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let mut crew = app.crew(&admin, "Page Crew", (36.08, -79.80), 2, &[]).await;
    let (mut ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let ann_page = app.page_session(&mut ann).await;

    // The quote page offers to accept; accepting leads to the order page.
    let quote_page = app
        .page_get(&format!("/quotes/{quote}"), &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(quote_page.contains("Accept this quote"));
    let accepted = app
        .page_post(&format!("/quotes/{quote}/accept"), &ann_page, &[])
        .await;
    assert_eq!(accepted.status(), 303);
    let order_path = location(&accepted);
    assert!(order_path.starts_with("/orders/"));
    let order_page = app
        .page_get(&order_path, &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(order_page.contains("Pay the deposit") && order_page.contains("Quote accepted"));

    // Paying: to the provider's page (the development stand-in), then back.
    let deposit = app
        .page_post(&format!("{order_path}/deposit"), &ann_page, &[])
        .await;
    assert_eq!(deposit.status(), 303);
    let checkout = location(&deposit);
    assert!(checkout.starts_with("/dev-payments/cs_dev_"), "{checkout}");
    let checkout_path = checkout.trim_start_matches("http://127.0.0.1:8080");
    let pay_page = app
        .page_get(checkout_path, &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(pay_page.contains("no money moves"));
    // Like the provider's hosted page, the link is the permission: it opens on a phone with
    // no web session, is never passed on as a referrer, and a made-up link opens nothing.
    let phone = app.get(checkout_path).await;
    assert_eq!(phone.status(), 200);
    assert_eq!(phone.headers()["referrer-policy"], "no-referrer");
    assert!(phone.text().await.unwrap().contains("Pay $"));
    assert_eq!(app.get("/dev-payments/cs_dev_made-up").await.status(), 404);
    // Paid from the phone, without a session; the browser goes back to the order, which asks
    // the phone to sign in and then returns to it.
    let paid = app
        .client
        .post(app.url(checkout_path))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(location(&paid), format!("{order_path}?paid=1"));
    let back = app.get(&location(&paid)).await;
    assert_eq!(back.status(), 303);
    assert_eq!(
        location(&back),
        format!("/login?next={}", order_path.replace('/', "%2F") + "%3Fpaid%3D1")
    );
    // Once paid, the link is spent: it says so, and paying again does nothing.
    let spent = app.get(checkout_path).await.text().await.unwrap();
    assert!(spent.contains("This deposit is paid") && !spent.contains("<form"));
    let again = app.page_post(checkout_path, &ann_page, &[]).await;
    assert_eq!(location(&again), checkout_path);
    let (mut bob, _) = app.quoted_customer("bob@example.com", &[]).await;
    let bob_page = app.page_session(&mut bob).await;

    // The calendar: book the first free day.
    let order_page = app
        .page_get(&order_path, &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(order_page.contains("Deposit paid") && order_page.contains("Choose a day for your site survey"));
    let slot = first_value_after(&order_page, r#"name="slot_id" value=""#);
    // Choosing a day first says what booking it means; nothing is booked yet.
    let asked = app
        .page_post(
            &format!("{order_path}/bookings"),
            &ann_page,
            &[("slot_id", &slot)],
        )
        .await;
    assert_eq!(asked.status(), 200);
    let asked = asked.text().await.unwrap();
    assert!(asked.contains("Book your site survey on") && asked.contains(r#"name="confirmed" value="yes""#));
    assert!(asked.contains(&format!(r#"name="slot_id" value="{slot}""#)));
    let unbooked = app
        .page_get(&order_path, &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        unbooked.contains("Choose a day for your site survey") && !unbooked.contains("waiting for a crew")
    );
    let booked = app
        .page_post(
            &format!("{order_path}/bookings"),
            &ann_page,
            &[("slot_id", &slot), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(booked.status(), 303);
    assert_eq!(location(&booked), format!("{order_path}?notice=booked"));
    let order_page = app
        .page_get(&order_path, &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(order_page.contains("waiting for a crew to confirm"));

    // The crew's portal shows the offer without the street; accepting shows the job.
    let crew_page = app.page_session(&mut crew.installer).await;
    let portal = app
        .page_get("/installer", &crew_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(portal.contains("Site survey · ") && !portal.contains("Elm Street"));
    assert!(portal.contains("Answer within"), "the time left to answer shows");
    let offer_action = first_value_after(&portal, r#"<form method="post" action=""#);
    // Declining asks first; without the yes, the offer stays open.
    let asked = app
        .page_post(&offer_action, &crew_page, &[("answer", "decline")])
        .await;
    assert_eq!(asked.status(), 200);
    let asked = asked.text().await.unwrap();
    assert!(asked.contains("Decline this job offer?") && asked.contains("Keep the offer"));
    // Accepting asks too: one tap, then a yes.
    let asked = app
        .page_post(&offer_action, &crew_page, &[("answer", "accept")])
        .await;
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.unwrap().contains("Take this job?"));
    let answered = app
        .page_post(
            &offer_action,
            &crew_page,
            &[("answer", "accept"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(answered.status(), 303);
    assert_eq!(location(&answered), "/installer?notice=accepted");
    let portal = app
        .page_get("/installer", &crew_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    let job_path = first_value_after(&portal, r#"<a class="card-target" href="/jobs/"#);
    let job_path = format!("/jobs/{job_path}");
    let job_page = app
        .page_get(&job_path, &crew_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(job_page.contains("1200 Elm Street") && job_page.contains("Add a photo"));
    // Before the booked day the survey cannot be recorded, and the page says why; its button
    // is in the form, hidden, with the day and the photos it waits for, for the phone to show
    // on the day even from a page kept offline the evening before.
    assert!(job_page.contains("You can record this from"));
    let gated = first_value_after(&job_page, r#"value="surveyed" data-requires=""#);
    assert_eq!(gated, "roof meter");
    let from = first_value_after(&job_page, r#"data-requires="roof meter" data-from=""#);
    assert!(
        chrono::NaiveDate::parse_from_str(&from, "%Y-%m-%d").unwrap()
            > chrono::Utc::now().date_naive() - chrono::TimeDelta::days(1)
    );
    assert!(job_page.contains(&format!(r#"data-from="{from}" hidden>Site surveyed</button>"#)));
    assert!(!job_page.contains("Price"), "crews do not see the price");

    // A photo from the phone: CSRF token first, then the kind and the file.
    let photo = {
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(40, 30));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let form = |csrf: &str, subject: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .text("subject", subject.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(photo.clone())
                    .file_name("IMG_0001.png")
                    .mime_str("image/png")
                    .unwrap(),
            )
    };
    let forged = multipart_post(
        &app,
        &format!("{job_path}/photos"),
        &crew_page,
        form(&"0".repeat(64), "roof"),
    )
    .await;
    assert_eq!(forged.status(), 403);
    app.day_comes(job_path.trim_start_matches("/jobs/"), "survey")
        .await;
    for subject in ["roof", "meter"] {
        let uploaded = multipart_post(
            &app,
            &format!("{job_path}/photos"),
            &crew_page,
            form(&crew_page.csrf, subject),
        )
        .await;
        assert_eq!(uploaded.status(), 303);
    }
    let job_page = app
        .page_get(&job_path, &crew_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        job_page.contains(r#"value="surveyed""#),
        "the day has come and the photos are in"
    );
    // The surveyed step with a note.
    let stepped = app
        .page_post(
            &format!("{job_path}/step"),
            &crew_page,
            &[
                ("to", "surveyed"),
                ("note", "South roof sound; <b>no</b> shading."),
            ],
        )
        .await;
    assert_eq!(stepped.status(), 303);

    // The customer sees the step, the note as text, and the photo; then approves the design.
    let order_page = app
        .page_get(&order_path, &ann_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(order_page.contains("Site surveyed"));
    assert!(
        order_page.contains("&#60;b&#62;no&#60;/b&#62;") && !order_page.contains("<b>no</b>"),
        "notes are shown as text"
    );
    let img = first_value_after(&order_page, r#"<img src=""#);
    let served = app.page_get(&img, &ann_page.cookie).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(app.page_get(&img, &bob_page.cookie).await.status(), 404);
    let approved = app
        .page_post(
            &format!("{order_path}/step"),
            &ann_page,
            &[("to", "design_approved")],
        )
        .await;
    assert_eq!(approved.status(), 303);
    // A step that is not the customer's is explained, not taken.
    let refused = app
        .page_post(
            &format!("{order_path}/step"),
            &ann_page,
            &[("to", "permit_submitted")],
        )
        .await;
    assert_eq!(refused.status(), 409);
    // Cross-site posts are refused on every new form.
    for path in [
        format!("{order_path}/step"),
        format!("{order_path}/bookings"),
        format!("{order_path}/deposit"),
        format!("/quotes/{quote}/accept"),
    ] {
        let cross = app
            .client
            .post(app.url(&path))
            .header("cookie", &ann_page.cookie)
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", ann_page.csrf.as_str()), ("to", "cancelled")])
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403, "{path}");
    }
}

#[tokio::test]
async fn staff_see_jobs_masked_and_admins_set_up_crews_on_the_pages() {
    let app = spawn_app().await;
    let mut admin = app.member("admin@example.com", Role::Admin).await;
    let admin_page = app.page_session(&mut admin).await;
    let mut support = app.member("sue@example.com", Role::Support).await;
    let support_page = app.page_session(&mut support).await;
    let installer = app.member("ian@example.com", Role::Installer).await;

    // A company, a crew, and a member added by email.
    let company = app
        .page_post(
            "/admin/crews/companies",
            &admin_page,
            &[("name", "Bright Roofs LLC")],
        )
        .await;
    assert_eq!(company.status(), 303);
    let crews_page = app
        .page_get("/admin/crews", &admin_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    let company_id = first_value_after(&crews_page, r#"<option value=""#);
    // A crew form with four problems (no working day ticked among them) shows all four, each
    // beside its field, and keeps what was typed.
    let refused = app
        .page_post(
            "/admin/crews",
            &admin_page,
            &[
                ("company_id", &company_id),
                ("name", "Bright Crew 1"),
                ("base_zip", "2740"),
                ("service_radius_km", "900"),
                ("daily_capacity", "two"),
                ("skills", "battery"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("There are 4 problems with the crew"),
        "{refused}"
    );
    for field in ["base_zip", "radius", "capacity", "working_days"] {
        assert!(refused.contains(&format!(r##"href="#{field}""##)), "{field}");
        assert!(refused.contains(&format!(r#"id="{field}-error""#)), "{field}");
    }
    assert!(refused.contains(r#"value="Bright Crew 1""#));
    assert!(refused.contains(r#"value="900""#) && refused.contains(r#"value="two""#));
    assert!(refused.contains(r#"value="battery" checked"#));
    assert!(!refused.contains(r#"value="mon" checked"#));
    let created = app
        .page_post(
            "/admin/crews",
            &admin_page,
            &[
                ("company_id", &company_id),
                ("name", "Bright Crew 1"),
                ("base_zip", "27401"),
                ("service_radius_km", "60"),
                ("daily_capacity", "2"),
                ("skills", "battery"),
                ("working_days", "mon"),
                ("working_days", "tue"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let crew_path = location(&created);
    let crew_path = crew_path.split('?').next().unwrap().to_owned();
    let member = app
        .page_post(
            &format!("{crew_path}/members"),
            &admin_page,
            &[("email", "ian@example.com"), ("action", "add")],
        )
        .await;
    assert_eq!(member.status(), 303);
    let crew_id = crew_path.rsplit('/').next().unwrap();
    let detail: Value = app
        .api(
            "GET",
            &format!("/api/v1/admin/crews/{crew_id}"),
            &admin.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["skills"], serde_json::json!(["battery"]));
    // The base is the ZIP code's place (Greensboro, NC).
    assert!(
        (detail["base_latitude"].as_f64().unwrap() - 36.07).abs() < 0.01,
        "{detail}"
    );
    assert!(
        (detail["base_longitude"].as_f64().unwrap() + 79.77).abs() < 0.01,
        "{detail}"
    );
    assert_eq!(detail["working_days"], serde_json::json!(["mon", "tue"]));
    assert_eq!(detail["members"][0]["user_id"], installer.id.to_string());

    // A base set exactly through the API survives a save of the page that leaves its ZIP code
    // as shown; the page shows the nearest ZIP code and keeps a refused rating as typed.
    let exact = app
        .api(
            "PATCH",
            &format!("/api/v1/admin/crews/{crew_id}"),
            &admin.token,
            Some(serde_json::json!({"base_latitude": 36.0812, "base_longitude": -79.8034})),
        )
        .await;
    assert_eq!(exact.status(), 200);
    let shown = app
        .page_get(&crew_path, &admin_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    let zip = first_value_after(&shown, r#"name="base_zip_was" value=""#);
    assert!(zip.starts_with("274"), "{zip}");
    let mut fields = vec![
        ("name", "Bright Crew One"),
        ("base_zip", zip.as_str()),
        ("base_zip_was", zip.as_str()),
        ("service_radius_km", "60"),
        ("daily_capacity", "2"),
        ("rating", "7"),
        ("active", "true"),
        ("skills", "battery"),
        ("working_days", "mon"),
    ];
    let refused = app.page_post(&crew_path, &admin_page, &fields).await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("There is a problem with the crew"));
    assert!(refused.contains(r#"id="rating-error""#) && refused.contains(r#"value="7""#));
    assert!(refused.contains(r#"value="Bright Crew One""#));
    fields[5] = ("rating", "4.5");
    let saved = app.page_post(&crew_path, &admin_page, &fields).await;
    assert_eq!(saved.status(), 303);
    let detail: Value = app
        .api(
            "GET",
            &format!("/api/v1/admin/crews/{crew_id}"),
            &admin.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["name"], "Bright Crew One");
    assert_eq!(detail["rating"], 4.5);
    assert_eq!(detail["base_latitude"], 36.0812);
    assert_eq!(detail["base_longitude"], -79.8034);
    // A customer cannot join a crew.
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let refused = app
        .page_post(
            &format!("{crew_path}/members"),
            &admin_page,
            &[("email", "ann@example.com"), ("action", "add")],
        )
        .await;
    assert_eq!(refused.status(), 422);

    // Support sees the job in the list, with the address masked until the customer is opened.
    let order = app.accept(&ann, &quote).await;
    let list = app
        .page_get("/staff/jobs", &support_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    let job = order["job_id"].as_str().unwrap();
    assert!(list.contains(job));
    // A row names the town and the crew, never the street or the customer.
    assert!(
        list.contains("Quote accepted · Greensboro</a></h2>\n  <p>Not assigned yet</p>"),
        "{list}"
    );
    assert!(!list.contains("Elm Street") && !list.contains("Test Person"));
    let job_page = app
        .page_get(&format!("/jobs/{job}"), &support_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(!job_page.contains("1200 Elm Street") && job_page.contains("Personal data is masked"));
    // Sales has no job pages.
    let mut sales = app.member("sam@example.com", Role::Sales).await;
    let sales_page = app.page_session(&mut sales).await;
    assert_eq!(
        app.page_get("/staff/jobs", &sales_page.cookie).await.status(),
        403
    );
}
