//! People are not dropped between steps: a sign-in without a destination goes to the role's
//! start (a customer without a home to "add your home"); error pages keep the signed-in
//! navigation, a way back and, for a 413, the limit; what cannot be undone asks first and
//! then says what was done.

use serde_json::Value;
use sunbridge::access::Role;

use crate::helpers::{spawn_app, spawn_app_with};

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_start_page_is_each_role_s_next_step() {
    let app = spawn_app().await;
    let mut new_customer = app.member("new@example.com", Role::Customer).await;
    let page = app.page_session(&mut new_customer).await;
    let start = app.page_get("/start", &page.cookie).await;
    assert_eq!(start.status(), 303);
    assert_eq!(location(&start), "/sites");
    let homes = app.page_get("/sites", &page.cookie).await.text().await.unwrap();
    assert!(homes.contains("<h1>Add your home</h1>"), "{homes}");

    // With one order, the order is the customer's home page.
    let (mut buyer, quote) = app.quoted_customer("buyer@example.com", &[]).await;
    let order = app.accept(&buyer, &quote).await;
    let page = app.page_session(&mut buyer).await;
    let start = app.page_get("/start", &page.cookie).await;
    assert_eq!(
        location(&start),
        format!("/orders/{}", order["id"].as_str().unwrap())
    );

    for (email, role, to) in [
        ("ian@example.com", Role::Installer, "/installer"),
        ("sue@example.com", Role::Support, "/staff"),
        ("sam@example.com", Role::Sales, "/staff"),
    ] {
        let mut member = app.member(email, role).await;
        let page = app.page_session(&mut member).await;
        assert_eq!(
            location(&app.page_get("/start", &page.cookie).await),
            to,
            "{email}"
        );
    }
    // Signed out, the start page is a sign-in first.
    let signed_out = app.get("/start").await;
    assert_eq!(location(&signed_out), "/login");
}

#[tokio::test]
async fn error_pages_keep_the_signed_in_navigation_and_a_way_back() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let page = app.page_session(&mut ann).await;
    let host = app
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    let missing = app
        .client
        .get(app.url("/no-such-page"))
        .header("cookie", &page.cookie)
        .header("referer", app.url("/sites?from=list"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let html = missing.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(
        html.contains(">Sign out</button>") && html.contains(r#"href="/sites""#),
        "{html}"
    );
    assert!(
        !html.contains(r#"href="/login""#),
        "the signed-out navigation is gone"
    );
    assert!(html.contains(r#"<a class="button" href="/sites?from=list">Back to where you were</a>"#));
    assert!(html.contains(r#"href="/start">Go to my start page"#));

    // A refusal the handler gives (another customer's home) is drawn the same way.
    let other = app
        .client
        .get(app.url("/sites/0190a5f2-0000-7000-8000-000000000000"))
        .header("cookie", &page.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    assert!(other.text().await.unwrap().contains(">Sign out</button>"));

    // A Referer from elsewhere is no way back.
    for foreign in [
        "https://evil.example/sites".to_owned(),
        format!("http://{host}.evil.example/sites"),
        format!("http://{host}//evil.example"),
    ] {
        let html = app
            .client
            .get(app.url("/no-such-page"))
            .header("cookie", &page.cookie)
            .header("referer", &foreign)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("Back to where you were"), "{foreign}");
        assert!(!html.contains("evil"), "{foreign}");
    }

    // Signed out, the same page shows the signed-out navigation and the home page.
    let html = app.get("/no-such-page").await.text().await.unwrap();
    assert!(html.contains(r#"href="/login""#) && !html.contains("Sign out"));
    assert!(html.contains(r#"href="/">Go to the home page"#));
}

#[tokio::test]
async fn the_too_large_page_says_the_limit() {
    let app = spawn_app_with(|s| s.body_limit_bytes = 64 * 1024).await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let page = app.page_session(&mut ann).await;
    let too_large = app
        .client
        .post(app.url("/sites"))
        .header("cookie", &page.cookie)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'x'; 64 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    let html = too_large.text().await.unwrap();
    assert!(html.contains("at most <strong>64 KB</strong>"), "{html}");
    assert!(html.contains(">Sign out</button>"));
    // An API client still gets problem+json.
    let api = app
        .client
        .post(app.url("/api/v1/sites"))
        .bearer_auth(&ann.token)
        .body(vec![b'x'; 64 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 413);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn cancelling_an_order_asks_first_then_says_what_was_done() {
    let app = spawn_app().await;
    let (mut ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let id = order["id"].as_str().unwrap();
    let page = app.page_session(&mut ann).await;
    let path = format!("/orders/{id}/step");

    let asked = app.page_post(&path, &page, &[("to", "cancelled")]).await;
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.unwrap();
    assert!(
        html.contains("<h1 id=\"confirm-title\">Cancel your order?</h1>"),
        "{html}"
    );
    assert!(html.contains("refunded in full") && html.contains("Keep my order"));
    assert!(
        html.contains(r#"name="to" value="cancelled""#) && html.contains(r#"name="confirmed" value="yes""#)
    );
    let job = order["job_id"].as_str().unwrap();
    assert_ne!(
        app.job_state(&ann, job).await,
        "cancelled",
        "nothing happens before the yes"
    );

    // Any other value than yes is no confirmation.
    let not_yes = app
        .page_post(&path, &page, &[("to", "cancelled"), ("confirmed", "true")])
        .await;
    assert_eq!(not_yes.status(), 200);
    assert_ne!(app.job_state(&ann, job).await, "cancelled");

    let done = app
        .page_post(&path, &page, &[("to", "cancelled"), ("confirmed", "yes")])
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), format!("/orders/{id}?notice=cancelled"));
    assert_eq!(app.job_state(&ann, job).await, "cancelled");
    let after = app
        .page_get(&location(&done), &page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(after.contains("Your order is cancelled."), "{after}");
    // Times are in the home's time zone (Greensboro: US Eastern), named.
    assert!(
        after.contains(" EST</time>") || after.contains(" EDT</time>"),
        "{after}"
    );
}

#[tokio::test]
async fn signing_out_everywhere_else_asks_first_and_keeps_this_device() {
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let laptop = app.page_session(&mut ann).await;
    let phone = app.page_session(&mut ann).await;
    let account = app
        .page_get("/account", &laptop.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("Sign out everywhere else"));

    let asked = app.page_post("/account/sessions/end-others", &laptop, &[]).await;
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.unwrap();
    assert!(html.contains("Sign out everywhere else?") && html.contains("This device stays signed in."));
    assert_eq!(app.page_get("/account", &phone.cookie).await.status(), 200);
    assert_eq!(app.api("GET", "/api/v1/me", &ann.token, None).await.status(), 200);

    let done = app
        .page_post("/account/sessions/end-others", &laptop, &[("confirmed", "yes")])
        .await;
    assert_eq!(location(&done), "/account?notice=others");
    assert_eq!(app.page_get("/account", &phone.cookie).await.status(), 303);
    assert_eq!(app.api("GET", "/api/v1/me", &ann.token, None).await.status(), 401);
    let kept = app.page_get("/account?notice=others", &laptop.cookie).await;
    assert_eq!(kept.status(), 200);
    assert!(
        kept.text()
            .await
            .unwrap()
            .contains("Every other device was signed out.")
    );
}

#[tokio::test]
async fn support_sees_a_customer_s_homes_and_orders_with_streets_only_under_a_grant() {
    let app = spawn_app().await;
    let (ann, quote) = app.quoted_customer("ann@example.com", &[]).await;
    let order = app.accept(&ann, &quote).await;
    let mut sue = app.member("sue@example.com", Role::Support).await;
    let agent = app.page_session(&mut sue).await;
    let path = format!("/staff/customers/{}", ann.id);
    let reference = {
        let id = order["id"].as_str().unwrap().replace('-', "").to_uppercase();
        format!("O-{}-{}", &id[24..28], &id[28..32])
    };

    let masked = app.page_get(&path, &agent.cookie).await.text().await.unwrap();
    assert!(masked.contains("Homes and orders") && masked.contains("<strong>Home</strong>"));
    // Without a grant the house number is hidden (the street is kept, to confirm with a caller).
    assert!(
        masked.contains("*** Elm Street") && !masked.contains("1200 Elm"),
        "{masked}"
    );
    assert!(
        masked.contains(&reference) && masked.contains("Quote accepted"),
        "{masked}"
    );
    assert!(masked.contains(&format!(r#"href="/jobs/{}""#, order["job_id"].as_str().unwrap())));

    let opened = app
        .page_post(
            &format!("{path}/access"),
            &agent,
            &[("reason", "T-12: customer asked where her order stands")],
        )
        .await;
    assert_eq!(opened.status(), 303);
    let open = app.page_get(&path, &agent.cookie).await.text().await.unwrap();
    assert!(open.contains("1200 Elm Street"), "the street under a grant");

    // Signing the customer out everywhere asks first.
    let asked = app.page_post(&format!("{path}/sessions"), &agent, &[]).await;
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.unwrap().contains("out everywhere?"));
    assert_eq!(app.api("GET", "/api/v1/me", &ann.token, None).await.status(), 200);
    let done = app
        .page_post(&format!("{path}/sessions"), &agent, &[("confirmed", "yes")])
        .await;
    assert_eq!(location(&done), format!("{path}?notice=sessions"));
    assert_eq!(app.api("GET", "/api/v1/me", &ann.token, None).await.status(), 401);
}
