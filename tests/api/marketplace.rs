//! The marketplace through the front door: the whole story from sign-up to the utility's
//! permission to operate, forged webhooks, the double-booking race, offers moving on, the
//! lifecycle's rules, and who may see which job.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::market::{HOME, WEBHOOK_SECRET, paid_event, sign};
use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_whole_story_runs_from_sign_up_to_the_system_switched_on() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Piedmont Crew", (36.10, -79.80), 2, &[]).await;

    // Sign up and confirm the address from the mailed link, like a new customer.
    let email = "dana@example.com";
    let signup = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": email, "name": "Dana Homeowner", "password": PASSWORD}),
        )
        .await;
    assert_eq!(signup.status(), 202);
    let token = app.wait_for_mail(email, 1).await[0].token("/verify-email");
    let verified = app
        .post_json("/api/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(verified.status(), 204);
    let login: Value = app.login_ok(email).await;
    let dana = Member {
        id: sunbridge::ids::UserId::new(),
        email: email.into(),
        role: Role::Customer,
        token: login["access_token"].as_str().unwrap().into(),
        totp_secret: None,
        recovery_codes: Vec::new(),
    };

    // Home, usage, quote.
    let site: Value = app
        .api(
            "POST",
            "/api/v1/sites",
            &dana.token,
            Some(
                json!({"label": "Home", "address": "1200 Elm Street, Greensboro NC 27401",
                "latitude": HOME.0, "longitude": HOME.1, "region_id": "us-nc-piedmont",
                "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30}),
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let site = site["id"].as_str().unwrap();
    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/sites/{site}/usage"),
            &dana.token,
            Some(json!({"annual_kwh": 9_000.0}))
        )
        .await
        .status(),
        201
    );
    let quote: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &dana.token,
            Some(json!({"site_id": site})),
        )
        .await
        .json()
        .await
        .unwrap();

    // Accept: the order carries the quote's exact figures.
    let order = app.accept(&dana, quote["id"].as_str().unwrap()).await;
    assert_eq!(order["price_cents"], quote["price_cents"]);
    assert_eq!(order["deposit_cents"], quote["deposit_cents"]);
    assert_eq!(order["state"], "accepted");
    let order_id = order["id"].as_str().unwrap();
    let job = order["job_id"].as_str().unwrap();

    // Deposit through a signed webhook.
    app.pay_deposit(&dana, order_id).await;
    assert_eq!(app.job_state(&dana, job).await, "deposit_paid");

    // Book the survey; the crew is offered it and accepts.
    let slot = app.first_slot(&dana, order_id, "survey").await;
    let booked = app
        .api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &dana.token,
            Some(json!({"slot_id": slot})),
        )
        .await;
    assert_eq!(booked.status(), 201);
    let offers = app.offers(&crew.installer).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0]["kind"], "survey");
    assert!(
        !offers[0].to_string().contains("Elm Street"),
        "no street address before the crew accepts"
    );
    let offer = offers[0]["id"].as_str().unwrap();
    let accepted = app
        .api(
            "POST",
            &format!("/api/v1/installer/offers/{offer}/accept"),
            &crew.installer.token,
            None,
        )
        .await;
    assert_eq!(accepted.status(), 204);
    assert_eq!(app.job_state(&dana, job).await, "survey_scheduled");

    // The crew now sees the job with the address; the price stays the customer's.
    let seen: Value = app
        .api("GET", &format!("/api/v1/jobs/{job}"), &crew.installer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(seen["place"]["address"].as_str().unwrap().contains("Elm Street"));
    assert!(seen["system"]["price_cents"].is_null());

    // The steps, each by its party.
    app.step(&crew.installer, job, "surveyed").await;
    app.step(&dana, job, "design_approved").await;
    app.step(&crew.installer, job, "permit_submitted").await;
    app.step(&crew.installer, job, "permit_approved").await;
    let slot = app.first_slot(&dana, order_id, "install").await;
    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &dana.token,
            Some(json!({"slot_id": slot}))
        )
        .await
        .status(),
        201
    );
    let install_offer = app.offers(&crew.installer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.api(
        "POST",
        &format!("/api/v1/installer/offers/{install_offer}/accept"),
        &crew.installer.token,
        None,
    )
    .await;
    assert_eq!(app.job_state(&dana, job).await, "install_scheduled");
    app.step(&crew.installer, job, "installed").await;
    app.step(&crew.installer, job, "inspection_passed").await;
    app.step(&admin, job, "pto_granted").await;
    let done = app.step(&dana, job, "active").await;

    // The customer's timeline has every step, in order, with who took it.
    let timeline: Vec<(String, String)> = done["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["state"].as_str().unwrap().to_owned(),
                e["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("accepted", "customer"),
        ("deposit_paid", "system"),
        ("survey_scheduled", "installer"),
        ("surveyed", "installer"),
        ("design_approved", "customer"),
        ("permit_submitted", "installer"),
        ("permit_approved", "installer"),
        ("install_scheduled", "installer"),
        ("installed", "installer"),
        ("inspection_passed", "installer"),
        ("pto_granted", "admin"),
        ("active", "customer"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(s, b)| ((*s).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(timeline, expected);
    assert!(done["next_steps"].as_array().unwrap().is_empty());

    // One email per step (plus the confirmation link) reached the customer.
    let mails = app.wait_for_mail(email, 13).await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("Permission to operate granted"))
    );
    // Each step is an audit row.
    assert_eq!(app.audit_actions(&admin, "job.transition").await.len(), 11);
}

#[tokio::test]
async fn forged_stale_replayed_and_tampered_webhooks_change_nothing() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let (order_id, job) = (order["id"].as_str().unwrap(), order["job_id"].as_str().unwrap());
    let (checkout, payment, amount) = app.start_deposit(&ann, order_id).await;
    // The deposit is the server's figure from the quote.
    assert_eq!(amount, order["deposit_cents"].as_i64().unwrap());
    let body = paid_event("evt_forgery_1", &checkout, &payment, amount);
    let now = Utc::now();

    // Each forgery first: none may pay the deposit.
    let forgeries = [
        ("no signature", body.clone(), None),
        (
            "another secret",
            body.clone(),
            Some(sign("whsec_attacker_0000000000000000000000", now, &body)),
        ),
        (
            "six minutes old",
            body.clone(),
            Some(sign(WEBHOOK_SECRET, now - TimeDelta::seconds(360), &body)),
        ),
        (
            "from the future",
            body.clone(),
            Some(sign(WEBHOOK_SECRET, now + TimeDelta::seconds(360), &body)),
        ),
        (
            "tampered amount after signing",
            body.replace(&format!("\"amount_total\":{amount}"), "\"amount_total\":1"),
            Some(sign(WEBHOOK_SECRET, now, &body)),
        ),
        (
            "a correctly signed event for one cent",
            paid_event("evt_forgery_2", &checkout, &payment, 1),
            Some(sign(
                WEBHOOK_SECRET,
                now,
                &paid_event("evt_forgery_2", &checkout, &payment, 1),
            )),
        ),
        ("garbage header", body.clone(), Some("t=abc,v1=xyz".into())),
    ];
    for (what, body, signature) in forgeries {
        let response = app.webhook(&body, signature).await;
        let (status, code) = problem_code(response).await;
        assert_eq!((status, code.as_str()), (400, "invalid_signature"), "{what}");
        assert_eq!(app.job_state(&ann, job).await, "accepted", "{what}");
    }
    assert_eq!(
        app.audit_actions(&admin, "payment.webhook_refused").await.len(),
        7
    );

    // The genuine event pays once; replaying it changes nothing.
    let genuine = app.webhook(&body, Some(sign(WEBHOOK_SECRET, now, &body))).await;
    assert_eq!(genuine.status(), 200);
    assert_eq!(genuine.json::<Value>().await.unwrap()["outcome"], "deposit_paid");
    assert_eq!(app.job_state(&ann, job).await, "deposit_paid");
    let replay = app
        .webhook(&body, Some(sign(WEBHOOK_SECRET, Utc::now(), &body)))
        .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["outcome"], "duplicate");
    assert_eq!(app.audit_actions(&admin, "payment.received").await.len(), 1);
    let timeline: Value = app
        .api("GET", &format!("/api/v1/jobs/{job}"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(timeline["timeline"].as_array().unwrap().len(), 2);
    // A paid order takes no second deposit.
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/orders/{order_id}/deposit"),
            &ann.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "not_payable"));
}

#[tokio::test]
async fn two_customers_racing_for_the_last_place_of_a_day_get_one_booking() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    // One crew, one job a day.
    app.crew(&admin, "Solo Crew", (36.10, -79.80), 1, &[]).await;
    let mut orders = Vec::new();
    for i in 0..6 {
        let (customer, quote) = app.quoted_customer(&format!("c{i}@example.com"), &[]).await;
        let order = app.accept(&customer, &quote).await;
        let id = order["id"].as_str().unwrap().to_owned();
        app.pay_deposit(&customer, &id).await;
        orders.push((customer, id));
    }
    // Three rounds of two customers racing for the same day.
    for round in 0..3 {
        let (a, a_order) = &orders[round * 2];
        let (b, b_order) = &orders[round * 2 + 1];
        let slot = app.first_slot(a, a_order, "survey").await;
        let (path_a, path_b) = (
            format!("/api/v1/orders/{a_order}/bookings"),
            format!("/api/v1/orders/{b_order}/bookings"),
        );
        let (ra, rb) = tokio::join!(
            app.api("POST", &path_a, &a.token, Some(json!({"slot_id": slot}))),
            app.api("POST", &path_b, &b.token, Some(json!({"slot_id": slot}))),
        );
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
        let loser = if ra.status() == 409 { ra } else { rb };
        assert_eq!(problem_code(loser).await.1, "slot_taken");
        // The day is gone from the list.
        let after = app.first_slot(a, a_order, "survey").await;
        assert_ne!(after, slot);
    }
}

#[tokio::test]
async fn an_offer_left_unanswered_moves_to_the_next_crew_and_then_back_to_the_customer() {
    let app = spawn_app_with(|s| {
        s.offer_timeout_secs = 1;
        s.dispatch_interval_secs = 1;
    })
    .await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    // The nearer crew is asked first.
    let near = app.crew(&admin, "Near Crew", (36.08, -79.80), 1, &[]).await;
    let far = app.crew(&admin, "Far Crew", (36.40, -79.60), 1, &[]).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    let slot = app.first_slot(&ann, order_id, "survey").await;
    let booked = app
        .api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &ann.token,
            Some(json!({"slot_id": slot})),
        )
        .await;
    assert_eq!(booked.status(), 201);
    let first = app.offers(&near.installer).await;
    assert_eq!(first.len(), 1, "the nearer crew is asked first");
    assert!(app.offers(&far.installer).await.is_empty());
    let stale = first[0]["id"].as_str().unwrap().to_owned();

    // Unanswered past its deadline: the worker moves it on.
    let mut moved = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if !app.offers(&far.installer).await.is_empty() {
            moved = true;
            break;
        }
    }
    assert!(moved, "the offer reached the next crew");
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/installer/offers/{stale}/accept"),
            &near.installer.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "offer_closed"));

    // The last crew declines: nobody is left, the customer is asked to pick another day.
    let offer = app.offers(&far.installer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let declined = app
        .api(
            "POST",
            &format!("/api/v1/installer/offers/{offer}/decline"),
            &far.installer.token,
            None,
        )
        .await;
    assert_eq!(declined.status(), 204);
    let mails = app.wait_for_mail("ann@example.com", 3).await;
    assert!(mails.iter().any(|m| m.subject == "Please choose another day"));
    let detail: Value = app
        .api("GET", &format!("/api/v1/orders/{order_id}"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["bookings"][0]["status"], "unassigned");
    // The day was given back to both crews, and the job can book again.
    let again = app
        .api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &ann.token,
            Some(json!({"slot_id": slot})),
        )
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(app.audit_actions(&admin, "offer.expired").await.len(), 1);
}

#[tokio::test]
async fn installers_see_only_their_crews_jobs_and_customers_only_their_own() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let a = app.crew(&admin, "Crew A", (36.08, -79.80), 2, &[]).await;
    let b = app.crew(&admin, "Crew B", (36.50, -79.20), 2, &[]).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let (order_id, job) = (order["id"].as_str().unwrap(), order["job_id"].as_str().unwrap());
    app.pay_deposit(&ann, order_id).await;
    app.book_first_slot(&ann, order_id, "survey").await;
    let offer = app.offers(&a.installer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Crew B cannot answer crew A's offer, nor read the job, before or after A accepts.
    let (status, _) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/installer/offers/{offer}/accept"),
            &b.installer.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    app.api(
        "POST",
        &format!("/api/v1/installer/offers/{offer}/accept"),
        &a.installer.token,
        None,
    )
    .await;
    for path in [
        format!("/api/v1/jobs/{job}"),
        format!("/api/v1/jobs/{job}/photos/{}", uuid::Uuid::now_v7()),
    ] {
        let (status, _) = problem_code(app.api("GET", &path, &b.installer.token, None).await).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/jobs/{job}/transitions"),
            &b.installer.token,
            Some(json!({"to": "surveyed"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    let b_jobs: Value = app
        .api("GET", "/api/v1/jobs", &b.installer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(b_jobs["items"].as_array().unwrap().is_empty());
    assert_eq!(app.job_state(&a.installer, job).await, "survey_scheduled");

    // Another customer: 404 on the order, its slots, its deposit, its job.
    let (bob, _) = app.quoted_customer("bob@example.com", &[]).await;
    for (method, path) in [
        ("GET", format!("/api/v1/orders/{order_id}")),
        ("GET", format!("/api/v1/orders/{order_id}/slots?kind=survey")),
        ("POST", format!("/api/v1/orders/{order_id}/deposit")),
        ("GET", format!("/api/v1/jobs/{job}")),
        ("POST", format!("/api/v1/quotes/{quote}/accept")),
    ] {
        let (status, _) = problem_code(app.api(method, &path, &bob.token, None).await).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    // Every refusal is an authorization failure in the trail.
    assert!(app.audit_actions(&admin, "access.object_denied").await.len() >= 8);
}

#[tokio::test]
async fn the_lifecycle_refuses_skipped_steps_and_other_parties_steps() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let support = app.member("sue@example.com", Role::Support).await;
    let engineer = app.member("eve@example.com", Role::Engineer).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let (order_id, job) = (order["id"].as_str().unwrap(), order["job_id"].as_str().unwrap());

    // Nobody pays a deposit by transition, and no one skips ahead.
    for (who, to) in [
        (&ann, "deposit_paid"),
        (&admin, "deposit_paid"),
        (&ann, "active"),
        (&admin, "installed"),
    ] {
        let (status, _) = problem_code(
            app.api(
                "POST",
                &format!("/api/v1/jobs/{job}/transitions"),
                &who.token,
                Some(json!({"to": to})),
            )
            .await,
        )
        .await;
        assert!(status == 403 || status == 409, "{} → {to}: {status}", who.email);
    }
    // Engineers neither read nor move jobs.
    let (status, _) = problem_code(
        app.api("GET", &format!("/api/v1/jobs/{job}"), &engineer.token, None)
            .await,
    )
    .await;
    assert_eq!(status, 403);
    // Booking before the deposit: wrong state.
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &ann.token,
            Some(json!({"slot_id": format!("survey:{}@08:00-12:00", (Utc::now() + TimeDelta::days(5)).format("%Y-%m-%d"))})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "wrong_state"));

    app.pay_deposit(&ann, order_id).await;
    let slot = app.first_slot(&ann, order_id, "survey").await;
    app.api(
        "POST",
        &format!("/api/v1/orders/{order_id}/bookings"),
        &ann.token,
        Some(json!({"slot_id": slot})),
    )
    .await;
    // A second survey booking for the same job: refused.
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &ann.token,
            Some(json!({"slot_id": slot})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "already_booked"));
    app.accept_first_offer(&crew.installer).await;
    // The survey is the crew's step, not the customer's; the customer can no longer cancel.
    for to in ["surveyed", "cancelled"] {
        let (status, _) = problem_code(
            app.api(
                "POST",
                &format!("/api/v1/jobs/{job}/transitions"),
                &ann.token,
                Some(json!({"to": to})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403, "customer → {to}");
    }
    // Staff cancel: the crew's day goes back.
    let cancelled = app.step(&support, job, "cancelled").await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["bookings"][0]["status"], "cancelled");
    assert!(cancelled["next_steps"].as_array().unwrap().is_empty());
    // The released day is free again for another customer.
    let (bob, bob_quote) = app.quoted_customer("bob@example.com", &[]).await;
    let bob_order = app.accept(&bob, &bob_quote).await;
    let bob_order = bob_order["id"].as_str().unwrap();
    app.pay_deposit(&bob, bob_order).await;
    assert_eq!(app.first_slot(&bob, bob_order, "survey").await, slot);
    // Notes are bounded.
    let (status, _) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/jobs/{job}/transitions"),
            &admin.token,
            Some(json!({"to": "accepted", "note": "x".repeat(1001)})),
        )
        .await,
    )
    .await;
    assert!(status == 409 || status == 422);
}

#[tokio::test]
async fn accepting_needs_a_confirmed_address_and_makes_one_order_per_home() {
    let app = spawn_app().await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    // An unconfirmed customer (signed up, link not used) cannot order.
    let signup = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "new@example.com", "name": "New Person", "password": PASSWORD}),
        )
        .await;
    assert_eq!(signup.status(), 202);
    let login = app.login("new@example.com", PASSWORD).await;
    let token = login.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let site: Value = app
        .api(
            "POST",
            "/api/v1/sites",
            &token,
            Some(json!({"label": "Home", "address": "1 Oak St", "latitude": HOME.0, "longitude": HOME.1,
                "region_id": "us-nc-piedmont", "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30})),
        )
        .await
        .json()
        .await
        .unwrap();
    let site = site["id"].as_str().unwrap();
    app.api(
        "POST",
        &format!("/api/v1/sites/{site}/usage"),
        &token,
        Some(json!({"annual_kwh": 8_000.0})),
    )
    .await;
    let unverified_quote: Value = app
        .api("POST", "/api/v1/quotes", &token, Some(json!({"site_id": site})))
        .await
        .json()
        .await
        .unwrap();
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!(
                "/api/v1/quotes/{}/accept",
                unverified_quote["id"].as_str().unwrap()
            ),
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "email_unverified"));

    // Accepting twice answers the same order; another version of the home's quote is refused.
    let first = app.accept(&ann, &quote).await;
    let again = app
        .api(
            "POST",
            &format!("/api/v1/quotes/{quote}/accept"),
            &ann.token,
            None,
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let site_of = first["site_id"].as_str().unwrap();
    let v2: Value = app
        .api(
            "POST",
            "/api/v1/quotes",
            &ann.token,
            Some(json!({"site_id": site_of, "offset_percent": 80})),
        )
        .await
        .json()
        .await
        .unwrap();
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/quotes/{}/accept", v2["id"].as_str().unwrap()),
            &ann.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "order_exists"));
    // After a cancellation, the home may order again.
    app.step(&ann, first["job_id"].as_str().unwrap(), "cancelled")
        .await;
    let second = app
        .api(
            "POST",
            &format!("/api/v1/quotes/{}/accept", v2["id"].as_str().unwrap()),
            &ann.token,
            None,
        )
        .await;
    assert_eq!(second.status(), 201);
    let orders: Value = app
        .api("GET", "/api/v1/orders", &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_battery_installation_goes_only_to_crews_with_that_skill() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let plain = app.crew(&admin, "Panels Only", (36.08, -79.80), 2, &[]).await;
    let skilled = app
        .crew(&admin, "Battery Crew", (36.30, -79.70), 2, &["battery"])
        .await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &["battery-13kwh"]).await;
    let order = app.accept(&ann, &quote).await;
    assert_eq!(order["needs_battery"], true);
    let (order_id, job) = (order["id"].as_str().unwrap(), order["job_id"].as_str().unwrap());
    app.pay_deposit(&ann, order_id).await;
    // The survey goes to the nearest crew…
    app.book_first_slot(&ann, order_id, "survey").await;
    app.accept_first_offer(&plain.installer).await;
    app.step(&plain.installer, job, "surveyed").await;
    app.step(&ann, job, "design_approved").await;
    app.step(&admin, job, "permit_submitted").await;
    app.step(&admin, job, "permit_approved").await;
    // …the battery installation to the crew that can fit one, although it is farther.
    app.book_first_slot(&ann, order_id, "install").await;
    assert!(app.offers(&plain.installer).await.is_empty());
    let offers = app.offers(&skilled.installer).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0]["battery"], true);
}

/// A JPEG carrying an EXIF block with GPS coordinates.
fn jpeg_with_gps() -> Vec<u8> {
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(120, 80, Rgb([30, 90, 160])));
    let mut plain = std::io::Cursor::new(Vec::new());
    img.write_to(&mut plain, ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 36.0726 N GPSLongitude 79.7920 W";
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

async fn upload(
    app: &crate::helpers::TestApp,
    who: &Member,
    job: &str,
    name: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().text("kind", "survey").part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    );
    app.client
        .post(app.url(&format!("/api/v1/jobs/{job}/photos")))
        .bearer_auth(&who.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn photos_are_checked_by_content_stripped_of_location_and_shown_only_to_the_parties() {
    let app = spawn_app_with(|s| s.photo_limit_bytes = 200_000).await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let support = app.member("sue@example.com", Role::Support).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let other = app.crew(&admin, "Other Crew", (36.50, -79.20), 2, &[]).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let (order_id, job) = (order["id"].as_str().unwrap(), order["job_id"].as_str().unwrap());
    app.pay_deposit(&ann, order_id).await;
    app.book_first_slot(&ann, order_id, "survey").await;
    app.accept_first_offer(&crew.installer).await;

    // Not an image, an SVG with a script, a GIF, and an image too large: refused.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>"#;
    for (name, bytes, mime, expected) in [
        ("notes.txt", b"just some text".to_vec(), "text/plain", 400),
        ("roof.svg", svg.to_vec(), "image/svg+xml", 400),
        ("roof.jpg", svg.to_vec(), "image/jpeg", 400),
        (
            "roof.gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            "image/gif",
            400,
        ),
        ("huge.jpg", vec![0xFF; 300_000], "image/jpeg", 413),
    ] {
        let response = upload(&app, &crew.installer, job, name, bytes, mime).await;
        assert_eq!(response.status(), expected, "{name}");
    }
    // Only the assigned crew uploads.
    for who in [&ann, &other.installer] {
        let response = upload(&app, who, job, "roof.jpg", jpeg_with_gps(), "image/jpeg").await;
        assert!(matches!(response.status().as_u16(), 403 | 404), "{}", who.email);
    }

    // A real photo with GPS: stored, and the served copy has no location in it.
    let original = jpeg_with_gps();
    assert!(original.windows(3).any(|w| w == b"GPS"));
    let stored = upload(
        &app,
        &crew.installer,
        job,
        "../../etc/passwd.jpg",
        original,
        "image/jpeg",
    )
    .await;
    assert_eq!(stored.status(), 201);
    let photo: Value = stored.json().await.unwrap();
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(120), Some(80))
    );
    let path = format!("/api/v1/jobs/{job}/photos/{}", photo["id"].as_str().unwrap());
    let served = app.api("GET", &path, &ann.token, None).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert!(
        served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"photo-")
    );
    let bytes = served.bytes().await.unwrap();
    assert!(!bytes.windows(3).any(|w| w == b"GPS") && !bytes.windows(4).any(|w| w == b"Exif"));
    assert!(image::load_from_memory(&bytes).is_ok());
    // The stored file sits under a random name in the file store, not under the upload's
    // name, and nothing was written to the data directory.
    let files = app.stored_files().await;
    assert_eq!(files.len(), 1);
    assert!(files[0].0.starts_with("photos/") && !files[0].0.contains("passwd"));
    assert!(walk(&app.data_dir.path().join("files")).is_empty());

    // The crew sees it; another crew and another customer do not; support needs a grant.
    assert_eq!(
        app.api("GET", &path, &crew.installer.token, None).await.status(),
        200
    );
    assert_eq!(
        app.api("GET", &path, &other.installer.token, None).await.status(),
        404
    );
    let (bob, _) = app.quoted_customer("bob@example.com", &[]).await;
    assert_eq!(app.api("GET", &path, &bob.token, None).await.status(), 404);
    let (status, code) = problem_code(app.api("GET", &path, &support.token, None).await).await;
    assert_eq!((status, code.as_str()), (403, "grant_required"));
    let opened = app
        .api(
            "POST",
            &format!("/api/v1/staff/customers/{}/access", ann.id),
            &support.token,
            Some(json!({"reason": "Ticket 4821: customer asks about roof photos"})),
        )
        .await;
    assert_eq!(opened.status(), 201);
    assert_eq!(app.api("GET", &path, &support.token, None).await.status(), 200);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn days_off_working_days_and_service_areas_shape_the_calendar() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Only Crew", (36.08, -79.80), 1, &[]).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    let first = app.first_slot(&ann, order_id, "survey").await;
    // `survey:2026-12-03@08:00-12:00`: the day is between the colon and the window.
    let day = first
        .split_once(':')
        .unwrap()
        .1
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    // A day off removes the day.
    let off = app
        .api(
            "PUT",
            &format!("/api/v1/admin/crews/{}/days-off/{day}", crew.id),
            &admin.token,
            None,
        )
        .await;
    assert_eq!(off.status(), 204);
    assert_ne!(app.first_slot(&ann, order_id, "survey").await, first);
    // Working Mondays only: every free day is a Monday.
    app.api(
        "PATCH",
        &format!("/api/v1/admin/crews/{}", crew.id),
        &admin.token,
        Some(json!({"working_days": ["mon"]})),
    )
    .await;
    let slots: Value = app
        .api(
            "GET",
            &format!("/api/v1/orders/{order_id}/slots?kind=survey"),
            &ann.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    for s in slots["items"].as_array().unwrap() {
        let date = chrono::NaiveDate::parse_from_str(s["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(chrono::Datelike::weekday(&date), chrono::Weekday::Mon);
    }
    // Out of its service area: no day at all.
    app.api(
        "PATCH",
        &format!("/api/v1/admin/crews/{}", crew.id),
        &admin.token,
        Some(json!({"base_latitude": 40.7, "base_longitude": -74.0})),
    )
    .await;
    let none: Value = app
        .api(
            "GET",
            &format!("/api/v1/orders/{order_id}/slots?kind=survey"),
            &ann.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(none["items"].as_array().unwrap().is_empty());
    // Admin bodies are typed; only installers join crews; customers cannot manage crews.
    let (status, _) = problem_code(
        app.api(
            "PATCH",
            &format!("/api/v1/admin/crews/{}", crew.id),
            &admin.token,
            Some(json!({"daily_capacity": 500})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/admin/crews/{}/members", crew.id),
            &admin.token,
            Some(json!({"user_id": ann.id.to_string()})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "validation_failed"));
    let (status, _) = problem_code(app.api("GET", "/api/v1/admin/crews", &ann.token, None).await).await;
    assert_eq!(status, 403);
}

/// A stand-in for Stripe's API: records each checkout request, answers a session.
async fn fake_stripe() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>,
) {
    use axum::http::HeaderMap;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/v1/checkout/sessions",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record
                    .lock()
                    .unwrap()
                    .push((header("authorization"), header("idempotency-key"), body));
                axum::Json(json!({"id": "cs_test_a1b2c3", "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn the_stripe_provider_asks_for_the_deposit_the_order_says_and_is_paid_by_its_webhook() {
    let (stripe_url, seen) = fake_stripe().await;
    let app = spawn_app_with(|s| {
        s.payment_provider = sunbridge::config::PaymentProvider::Stripe;
        s.stripe_api_key = Some("sk_test_51Example".to_string().into());
        s.stripe_api_url = stripe_url.parse().unwrap();
        // The stand-in listens on loopback over plain http.
        s.outbound_allow_local = true;
    })
    .await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let (order_id, job) = (order["id"].as_str().unwrap(), order["job_id"].as_str().unwrap());
    let (checkout, payment, amount) = app.start_deposit(&ann, order_id).await;
    assert_eq!(checkout, "cs_test_a1b2c3");
    {
        let requests = seen.lock().unwrap();
        assert_eq!(requests.len(), 1);
        let (auth, idempotency, body) = &requests[0];
        assert_eq!(auth, "Bearer sk_test_51Example");
        assert_eq!(idempotency, &payment);
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("line_items[0][price_data][unit_amount]"),
            Some(amount.to_string())
        );
        assert_eq!(get("client_reference_id"), Some(payment.clone()));
        assert_eq!(get("metadata[order_id]"), Some(order_id.to_owned()));
    }
    // Asking again while the checkout is open makes no second session.
    app.start_deposit(&ann, order_id).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    // The deposit form's redirect to Stripe's page is allowed by the CSP, and nothing else is.
    let csp = app.get("/").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.ends_with("form-action 'self' https://checkout.stripe.com"),
        "{csp}"
    );
    // There is no development payment page with Stripe.
    assert_eq!(app.get(&format!("/dev-payments/{checkout}")).await.status(), 404);
    let body = paid_event("evt_stripe_1", &checkout, &payment, amount);
    let paid = app
        .webhook(&body, Some(sign(WEBHOOK_SECRET, Utc::now(), &body)))
        .await;
    assert_eq!(paid.status(), 200);
    assert_eq!(app.job_state(&ann, job).await, "deposit_paid");
}

#[tokio::test]
async fn the_stripe_call_goes_through_the_outbound_guard() {
    let (stripe_url, seen) = fake_stripe().await;
    // The same stand-in, reachable, but without the development allowance: plain http to
    // loopback is refused before any connection (a client without the guard would post to it).
    let app = spawn_app_with(|s| {
        s.payment_provider = sunbridge::config::PaymentProvider::Stripe;
        s.stripe_api_key = Some("sk_test_51Example".to_string().into());
        s.stripe_api_url = stripe_url.parse().unwrap();
    })
    .await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/orders/{}/deposit", order["id"].as_str().unwrap()),
            &ann.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (502, "payment_provider_unavailable"));
    assert!(seen.lock().unwrap().is_empty(), "the stand-in saw no request");
}

#[tokio::test]
async fn the_sales_pipeline_counts_orders_without_payment_data() {
    let app = spawn_app().await;
    let sales = app.member("sasha@example.com", Role::Sales).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    app.quoted_customer("bob@example.com", &[]).await;
    // Ann quotes a second home: two quotes, one person.
    let home = serde_json::json!({
        "label": "Cabin", "address": "9 Lake Road, Greensboro NC 27401",
        "latitude": 36.07, "longitude": -79.79, "region_id": "us-nc-piedmont",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 20
    });
    app.quoted_home(&ann, home, 6_000.0, &[]).await;
    let order = app.accept(&ann, &quote).await;
    app.pay_deposit(&ann, order["id"].as_str().unwrap()).await;
    let pipeline: Value = app
        .api("GET", "/api/v1/staff/pipeline", &sales.token, None)
        .await
        .json()
        .await
        .unwrap();
    let count = |stage: &str| {
        pipeline["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == stage)
            .map(|s| s["count"].as_u64().unwrap())
    };
    assert_eq!(count("ordered"), Some(1));
    assert_eq!(count("quoted"), Some(1));
    let weeks = pipeline["weeks"].as_array().unwrap();
    assert_eq!(weeks.last().unwrap()["orders"], 1);
    // Quotes made and people quoted are told apart; the page charts people.
    assert_eq!(weeks.last().unwrap()["quotes"], 3);
    assert_eq!(weeks.last().unwrap()["first_quotes"], 2);
    assert_eq!(weeks.last().unwrap()["first_orders"], 1);
    let ann_lead = pipeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["customer_id"] == ann.id.to_string())
        .unwrap()
        .clone();
    assert_eq!(ann_lead["stage"], "ordered");
    let text = pipeline.to_string();
    for secret in ["deposit", "payment", "Elm Street", "ann@example.com", "checkout"] {
        assert!(!text.contains(secret), "{secret} in the pipeline");
    }
}

/// The survey days offered for the order.
async fn survey_days(app: &crate::helpers::TestApp, ann: &Member, order_id: &str) -> Vec<String> {
    let slots: Value = app
        .api(
            "GET",
            &format!("/api/v1/orders/{order_id}/slots?kind=survey"),
            &ann.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["date"].as_str().unwrap().to_owned())
        // A day has a slot per arrival window: the days, once each.
        .fold(Vec::new(), |mut days, day| {
            if days.last() != Some(&day) {
                days.push(day);
            }
            days
        })
}

/// Public holidays are never offered: the federal ones every region keeps, and a region's own
/// added by an admin on the catalog page; a holiday posted as a booking is refused.
#[tokio::test]
async fn holidays_are_excluded_from_free_days_and_refused_as_bookings() {
    let app = spawn_app().await;
    let mut admin = app.member("admin@example.com", Role::Admin).await;
    app.crew(&admin, "Only Crew", (36.08, -79.80), 1, &[]).await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    let before = survey_days(&app, &ann, order_id).await;
    // The seeded federal holidays: none is offered (Christmas and New Year's Day fall in the
    // window every December).
    for day in &before {
        assert!(
            !day.ends_with("-12-25") && !day.ends_with("-01-01") && !day.ends_with("-07-04"),
            "{day}"
        );
    }
    let (first, second) = (before[0].clone(), before[1].clone());

    // An admin adds a holiday for the home's region, and one for another region; the same
    // day twice is a conflict, and a region that does not exist is refused.
    let page = app.page_session(&mut admin).await;
    for (day, region, name, status) in [
        (first.as_str(), "us-nc-piedmont", "Local festival", 303),
        (second.as_str(), "us-southwest", "Somewhere else", 303),
        (first.as_str(), "us-nc-piedmont", "Twice", 409),
        (first.as_str(), "us-nowhere", "Nowhere", 422),
    ] {
        let added = app
            .page_post(
                "/admin/catalog/holidays",
                &page,
                &[("day", day), ("name", name), ("region_id", region)],
            )
            .await;
        assert_eq!(added.status(), status, "{day} {region} {name}");
    }
    let after = survey_days(&app, &ann, order_id).await;
    assert!(!after.contains(&first), "the region's holiday is not offered");
    assert!(
        after.contains(&second),
        "another region's holiday does not count here"
    );

    // Posting the holiday anyway is refused, and books nothing.
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/orders/{order_id}/bookings"),
            &ann.token,
            Some(json!({"slot_id": format!("survey:{first}@08:00-12:00")})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "validation_failed"));

    // The catalog page lists it, and removing it offers the day again.
    let catalog = app
        .page_get("/admin/catalog", &page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(catalog.contains("Local festival") && catalog.contains("Christmas Day"));
    let marker = "action=\"/admin/catalog/holidays/";
    let at = catalog
        .find("Local festival")
        .and_then(|i| catalog[i..].find(marker).map(|j| i + j + marker.len()))
        .unwrap();
    let id = &catalog[at..at + 36];
    let removed = app
        .page_post(&format!("/admin/catalog/holidays/{id}/remove"), &page, &[])
        .await;
    assert_eq!(removed.status(), 303);
    assert!(survey_days(&app, &ann, order_id).await.contains(&first));
}

/// A quote's price holds for `quote_valid_days`: the quote says until when, and accepting it
/// later is refused with `quote_expired` (an order already made from it is still answered).
#[tokio::test]
async fn an_expired_quote_cannot_be_accepted() {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let app = spawn_app().await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let (bob, kept) = app.quoted_customer("bob@example.com", &[]).await;
    let bob_order = app.accept(&bob, &kept).await;
    for id in [&quote, &kept] {
        let update = Query::update()
            .table(Alias::new("quotes"))
            .value(Alias::new("created_at"), Utc::now() - TimeDelta::days(31))
            .and_where(Expr::col(Alias::new("id")).eq(uuid::Uuid::parse_str(id).unwrap()))
            .to_owned();
        app.db.execute(&update).await.unwrap();
    }
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/quotes/{quote}/accept"),
            &ann.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "quote_expired"));
    // Accepting again what was accepted in time answers the order it made.
    let again = app
        .api("POST", &format!("/api/v1/quotes/{kept}/accept"), &bob.token, None)
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], bob_order["id"]);
}
