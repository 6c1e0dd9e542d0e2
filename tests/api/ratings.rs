//! Customers rate the crew that installed their system: once per job, changeable for 14 days,
//! the crew seeing its average and never who gave what.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::TestApp;
use crate::helpers::market::CrewFixture;
use crate::helpers::roles::{Member, problem_code};
use crate::helpers::spawn_app;

/// A customer whose job `crew` has installed; answers the customer, the order and the job.
async fn installed(app: &TestApp, crew: &CrewFixture, email: &str) -> (Member, String, String) {
    let (customer, quote) = app.quoted_customer(email, &[]).await;
    let order = app.accept(&customer, &quote).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let job = order["job_id"].as_str().unwrap().to_owned();
    app.pay_deposit(&customer, &order_id).await;
    app.book_first_slot(&customer, &order_id, "survey").await;
    app.accept_first_offer(&crew.installer).await;
    app.step(&crew.installer, &job, "surveyed").await;
    app.step(&customer, &job, "design_approved").await;
    app.step(&crew.installer, &job, "permit_submitted").await;
    app.step(&crew.installer, &job, "permit_approved").await;
    app.book_first_slot(&customer, &order_id, "install").await;
    app.accept_first_offer(&crew.installer).await;
    app.step(&crew.installer, &job, "installed").await;
    (customer, order_id, job)
}

async fn rate(app: &TestApp, member: &Member, job: &str, body: Value) -> reqwest::Response {
    app.api(
        "PUT",
        &format!("/api/v1/jobs/{job}/rating"),
        &member.token,
        Some(body),
    )
    .await
}

async fn crew_rating(app: &TestApp, crew: &CrewFixture) -> Value {
    app.api("GET", "/api/v1/installer/rating", &crew.installer.token, None)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_customer_rates_the_crew_once_per_job_and_may_change_it_and_the_crew_sees_the_average() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Piedmont Crew", (36.10, -79.80), 2, &[]).await;

    // Not before the installation.
    let (early, quote) = app.quoted_customer("early@example.com", &[]).await;
    let early_order = app.accept(&early, &quote).await;
    let early_job = early_order["job_id"].as_str().unwrap();
    let (status, code) = problem_code(rate(&app, &early, early_job, json!({"stars": 5})).await).await;
    assert_eq!((status, code.as_str()), (409, "not_installed"));

    let (ann, _, job) = installed(&app, &crew, "ann@example.com").await;
    assert_eq!(crew_rating(&app, &crew).await["count"], 0);

    // Out of range and too long are refused, naming the field.
    for (body, field) in [
        (json!({"stars": 0}), "stars"),
        (json!({"stars": 6}), "stars"),
        (json!({"stars": 4, "comment": "a".repeat(1001)}), "comment"),
        (json!({"stars": 4, "comment": "bell\u{7}"}), "comment"),
    ] {
        let refused = rate(&app, &ann, &job, body).await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_eq!(
        app.api("GET", &format!("/api/v1/jobs/{job}/rating"), &ann.token, None)
            .await
            .status(),
        404,
        "no rating yet"
    );

    let given = rate(
        &app,
        &ann,
        &job,
        json!({"stars": 4, "comment": "<b>Tidy</b> and on time."}),
    )
    .await;
    assert_eq!(given.status(), 200);
    let given: Value = given.json().await.unwrap();
    assert_eq!(given["stars"], 4);
    assert_eq!(given["comment"], "<b>Tidy</b> and on time.");
    let seen = crew_rating(&app, &crew).await;
    assert_eq!(
        (seen["count"].clone(), seen["average"].clone()),
        (json!(1), json!(4.0))
    );
    assert_eq!(seen["ranks_dispatch"], false);
    // The crew sees figures only: no customer, no comment.
    assert!(!seen.to_string().contains("Tidy") && !seen.to_string().contains("ann@"));

    // A change replaces the rating: still one, the average moves.
    let changed: Value = rate(&app, &ann, &job, json!({"stars": 2}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["stars"], 2);
    assert_eq!(changed["created_at"], given["created_at"]);
    let seen = crew_rating(&app, &crew).await;
    assert_eq!(
        (seen["count"].clone(), seen["average"].clone()),
        (json!(1), json!(2.0))
    );
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
    assert_eq!(
        (detail["reviews"].clone(), detail["reviews_average"].clone()),
        (json!(1), json!(2.0))
    );
    // Admins read what customers said, with the job, never who.
    let latest = &detail["latest_reviews"];
    assert_eq!(latest.as_array().unwrap().len(), 1);
    assert_eq!(
        (latest[0]["stars"].clone(), latest[0]["job_id"].clone()),
        (json!(2), json!(job))
    );
    assert!(!latest.to_string().contains("ann@"));

    // Someone else's job is not found, and an installer cannot rate at all.
    let bob = app.member("bob@example.com", Role::Customer).await;
    assert_eq!(rate(&app, &bob, &job, json!({"stars": 1})).await.status(), 404);
    assert_eq!(
        rate(&app, &crew.installer, &job, json!({"stars": 5}))
            .await
            .status(),
        403
    );

    // After 14 days the rating stands as it is.
    {
        use sea_orm::ConnectionTrait;
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let mut update = Query::update();
        update
            .table(Alias::new("crew_ratings"))
            .value(
                Alias::new("created_at"),
                chrono::Utc::now() - chrono::TimeDelta::days(15),
            )
            .and_where(Expr::col(Alias::new("job_id")).eq(uuid::Uuid::parse_str(&job).unwrap()));
        app.db.execute(&update).await.unwrap();
    }
    let (status, code) = problem_code(rate(&app, &ann, &job, json!({"stars": 5})).await).await;
    assert_eq!((status, code.as_str()), (409, "rating_closed"));
    assert_eq!(crew_rating(&app, &crew).await["average"], 2.0);
}

#[tokio::test]
async fn ratings_sent_at_once_count_once() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Triad Crew", (36.10, -79.80), 2, &[]).await;
    let (ann, _, job) = installed(&app, &crew, "ann@example.com").await;
    // A double tap and a retry: six ratings of one job at the same moment.
    let answers = futures_util::future::join_all(
        (1..=6).map(|n| rate(&app, &ann, &job, json!({"stars": (n % 5) + 1}))),
    )
    .await;
    for answer in answers {
        assert!(
            [200, 409].contains(&answer.status().as_u16()),
            "{}",
            answer.status()
        );
    }
    let stored: Value = app
        .api("GET", &format!("/api/v1/jobs/{job}/rating"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    let seen = crew_rating(&app, &crew).await;
    assert_eq!(seen["count"], 1);
    assert_eq!(
        seen["average"].as_f64().unwrap(),
        stored["stars"].as_f64().unwrap()
    );
}

#[tokio::test]
async fn the_order_page_takes_the_rating_and_shows_the_comment_as_text() {
    let app = spawn_app().await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Piedmont Crew", (36.10, -79.80), 2, &[]).await;
    let (mut ann, order, job) = installed(&app, &crew, "ann@example.com").await;
    let page = app.page_session(&mut ann).await;
    let html = app
        .page_get(&format!("/orders/{order}"), &page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("How did Piedmont Crew"), "{html}");
    let saved = app
        .page_post(
            &format!("/jobs/{job}/rating"),
            &page,
            &[
                ("stars", "5"),
                ("comment", "<script>alert(1)</script>"),
                ("order", order.as_str()),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        saved.headers()["location"],
        format!("/orders/{order}?notice=rated#rating")
    );
    let html = app
        .page_get(&format!("/orders/{order}?notice=rated"), &page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("You gave 5 of 5 stars"));
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("alert(1)"));
    // The crew's page in the back office shows it too, as text.
    let mut admin = admin;
    let admin_page = app.page_session(&mut admin).await;
    let crew_html = app
        .page_get(&format!("/admin/crews/{}", crew.id), &admin_page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(crew_html.contains("What customers say") && crew_html.contains("5 of 5 stars"));
    assert!(!crew_html.contains("<script>alert(1)"), "{crew_html}");
    assert!(crew_html.contains("alert(1)"));
    assert!(html.contains("Change my rating"));
    // A missing choice comes back with the rule, nothing saved.
    let refused = app
        .page_post(
            &format!("/jobs/{job}/rating"),
            &page,
            &[("stars", ""), ("comment", ""), ("order", order.as_str())],
        )
        .await;
    assert_eq!(
        refused.headers()["location"],
        format!("/orders/{order}?notice=rating-invalid#rating")
    );
    assert_eq!(crew_rating(&app, &crew).await["average"], 5.0);
}
