//! Personal data only with a reason (S-AC-5), customers see who looked (S-AC-6), and someone
//! else's object answers 404 with an audited refusal (S-AC-3).

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const CUSTOMER: &str = "jane.doe@example.com";

/// A customer with a name and phone number worth masking.
async fn customer(app: &TestApp) -> Member {
    let member = app.member(CUSTOMER, Role::Customer).await;
    let patched = app
        .api(
            "PATCH",
            "/api/v1/me",
            &member.token,
            Some(json!({"name": "Jane Doe", "phone": "+1 555 123 4589"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    member
}

async fn view(app: &TestApp, staff: &Member, customer: &Member) -> Value {
    let response = app
        .api(
            "GET",
            &format!("/api/v1/staff/customers/{}", customer.id),
            &staff.token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn open(app: &TestApp, staff: &Member, customer: &Member, reason: &str) -> reqwest::Response {
    app.api(
        "POST",
        &format!("/api/v1/staff/customers/{}/access", customer.id),
        &staff.token,
        Some(json!({ "reason": reason })),
    )
    .await
}

#[tokio::test]
async fn staff_see_masked_data_until_they_open_it_with_a_reason_and_the_customer_sees_it() {
    let app = spawn_app().await;
    let jane = customer(&app).await;
    let support = app.member("sam@example.com", Role::Support).await;
    let admin = app.member("ada@example.com", Role::Admin).await;

    let masked = view(&app, &support, &jane).await;
    assert_eq!(masked["masked"], true);
    assert_eq!(masked["name"], "J*** D***");
    assert_eq!(masked["email"], "j***@e***.com");
    assert_eq!(masked["phone"], "+1 *** *** **89");
    assert!(!masked.to_string().contains("jane.doe"), "{masked}");

    // A reason is required, and a short one is not a reason.
    let (status, _) = problem_code(open(&app, &support, &jane, "").await).await;
    assert_eq!(status, 422);
    let (status, _) = problem_code(open(&app, &support, &jane, "ticket").await).await;
    assert_eq!(status, 422);
    let response = open(&app, &support, &jane, "T-1042: customer asks to change her phone").await;
    assert_eq!(response.status(), 201);
    let grant: Value = response.json().await.unwrap();

    let full = view(&app, &support, &jane).await;
    assert_eq!(full["masked"], false);
    assert_eq!(full["name"], "Jane Doe");
    assert_eq!(full["email"], CUSTOMER);
    assert_eq!(full["phone"], "+1 555 123 4589");
    assert_eq!(full["grant"]["id"], grant["id"]);

    // Another agent without a grant of their own still sees the masked view.
    let other = app.member("ola@example.com", Role::Support).await;
    assert_eq!(view(&app, &other, &jane).await["masked"], true);

    // The customer sees who looked, their role, when and why, and how often.
    let accesses: Value = app
        .api("GET", "/api/v1/me/data-access", &jane.token, None)
        .await
        .json()
        .await
        .unwrap();
    let items = accesses["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{accesses}");
    assert_eq!(items[0]["staff_name"], "Test Person");
    assert_eq!(items[0]["role"], "support");
    assert_eq!(items[0]["reason"], "T-1042: customer asks to change her phone");
    assert_eq!(items[0]["views"], 1);
    assert!(items[0]["at"].as_str().is_some());

    // Ended early: masked again, and the customer sees it closed.
    let end = app
        .api(
            "DELETE",
            &format!("/api/v1/staff/grants/{}", grant["id"].as_str().unwrap()),
            &support.token,
            None,
        )
        .await;
    assert_eq!(end.status(), 204);
    assert_eq!(view(&app, &support, &jane).await["masked"], true);
    let accesses: Value = app
        .api("GET", "/api/v1/me/data-access", &jane.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(accesses["items"][0]["ended_at"].as_str().is_some());

    // The trail has the opening, the view and the end, without the reason's free text.
    for action in ["access.grant_opened", "customer.pii_viewed", "access.grant_ended"] {
        let events = app.audit_actions(&admin, action).await;
        assert_eq!(events.len(), 1, "{action}: {events:?}");
        assert_eq!(events[0]["target_id"], jane.id.to_string());
        assert_eq!(events[0]["actor_id"], support.id.to_string());
        assert!(
            !events[0].to_string().contains("T-1042"),
            "free text kept out of the trail"
        );
    }
}

#[tokio::test]
async fn an_expired_grant_masks_the_data_again() {
    let app = spawn_app_with(|s| s.access_grant_ttl_secs = 1).await;
    let jane = customer(&app).await;
    let support = app.member("sam@example.com", Role::Support).await;
    assert_eq!(
        open(&app, &support, &jane, "T-7: address check for the survey")
            .await
            .status(),
        201
    );
    assert_eq!(view(&app, &support, &jane).await["masked"], false);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let after = view(&app, &support, &jane).await;
    assert_eq!(after["masked"], true);
    assert_eq!(after["name"], "J*** D***");
}

#[tokio::test]
async fn staff_and_installers_are_not_customers_whose_data_can_be_opened() {
    let app = spawn_app().await;
    let support = app.member("sam@example.com", Role::Support).await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    for target in [&admin.id, &support.id] {
        let (status, code) = problem_code(
            app.api(
                "POST",
                &format!("/api/v1/staff/customers/{target}/access"),
                &support.token,
                Some(json!({"reason": "T-1: just curious about a colleague"})),
            )
            .await,
        )
        .await;
        assert_eq!((status, code.as_str()), (404, "not_found"));
        let (status, _) = problem_code(
            app.api(
                "GET",
                &format!("/api/v1/staff/customers/{target}"),
                &support.token,
                None,
            )
            .await,
        )
        .await;
        assert_eq!(status, 404);
    }
    assert_eq!(app.audit_actions(&admin, "access.object_denied").await.len(), 4);
}

#[tokio::test]
async fn someone_elses_objects_answer_not_found_and_the_attempt_is_audited() {
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let bob = app.member("bob@example.com", Role::Customer).await;
    let support = app.member("sam@example.com", Role::Support).await;
    let other_support = app.member("ola@example.com", Role::Support).await;
    let admin = app.member("ada@example.com", Role::Admin).await;

    // Sessions: Ann cannot end Bob's.
    let bobs: Value = app
        .api("GET", "/api/v1/me/sessions", &bob.token, None)
        .await
        .json()
        .await
        .unwrap();
    let bob_session = bobs["items"][0]["id"].as_str().unwrap();
    let (status, _) = problem_code(
        app.api(
            "DELETE",
            &format!("/api/v1/me/sessions/{bob_session}"),
            &ann.token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.api("GET", "/api/v1/me", &bob.token, None).await.status(),
        200,
        "Bob is still signed in"
    );

    // Data access: each customer sees only the accesses to their own data.
    let grant = open(&app, &support, &bob, "T-2: Bob asked about his booking").await;
    let grant: Value = grant.json().await.unwrap();
    let anns: Value = app
        .api("GET", "/api/v1/me/data-access", &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anns["items"].as_array().unwrap().len(), 0);

    // Grants: only their holder (or an admin) ends them.
    let grant_path = format!("/api/v1/staff/grants/{}", grant["id"].as_str().unwrap());
    let (status, _) = problem_code(app.api("DELETE", &grant_path, &other_support.token, None).await).await;
    assert_eq!(status, 404);
    assert_eq!(view(&app, &support, &bob).await["masked"], false, "still open");

    // Support ends a customer's sessions, but not an admin's.
    let path = format!("/api/v1/admin/users/{}/sessions/revoke", admin.id);
    let (status, _) = problem_code(app.api("POST", &path, &support.token, None).await).await;
    assert_eq!(status, 404);
    assert_eq!(
        app.api("GET", "/api/v1/me", &admin.token, None).await.status(),
        200
    );
    let path = format!("/api/v1/admin/users/{}/sessions/revoke", bob.id);
    assert_eq!(app.api("POST", &path, &support.token, None).await.status(), 204);
    assert_eq!(app.api("GET", "/api/v1/me", &bob.token, None).await.status(), 401);

    let refusals = app.audit_actions(&admin, "access.object_denied").await;
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(
        refusals
            .iter()
            .any(|e| e["target_kind"] == "session" && e["actor_id"] == ann.id.to_string())
    );
    assert!(refusals.iter().any(|e| e["target_kind"] == "grant"));
    assert!(refusals.iter().any(|e| e["target_id"] == admin.id.to_string()));
}

#[tokio::test]
async fn customer_search_is_masked_and_takes_wildcards_literally() {
    let app = spawn_app().await;
    let _jane = customer(&app).await;
    app.create_user("john.smith@example.com", Role::Customer).await;
    let support = app.member("sam@example.com", Role::Support).await;

    let found: Value = app
        .api(
            "GET",
            "/api/v1/staff/customers?query=JANE.DOE",
            &support.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["name"], "J*** D***");
    assert_eq!(items[0]["email"], "j***@e***.com");

    // `%25` is `%`: "%%%", "___" and "j%e" match nothing, though every address has letters.
    for wildcard in ["%25%25%25", "___", "j%25e"] {
        let found: Value = app
            .api(
                "GET",
                &format!("/api/v1/staff/customers?query={wildcard}"),
                &support.token,
                None,
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found["items"].as_array().unwrap().len(), 0, "{wildcard}: {found}");
    }
    let (status, _) = problem_code(
        app.api("GET", "/api/v1/staff/customers?query=ja", &support.token, None)
            .await,
    )
    .await;
    assert_eq!(status, 422, "two characters are too few to search");
}

#[tokio::test]
async fn a_support_agent_opens_a_customer_on_the_pages_and_the_customer_sees_it_on_theirs() {
    let app = spawn_app().await;
    let mut jane = customer(&app).await;
    let mut support = app.member("sam@example.com", Role::Support).await;
    let agent = app.page_session(&mut support).await;

    let search = app
        .page_get("/staff/customers?query=jane", &agent.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        search.contains("J*** D***") && !search.contains("Jane Doe"),
        "masked list"
    );
    let page = app
        .page_get(&format!("/staff/customers/{}", jane.id), &agent.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("+1 *** *** **89") && page.contains("Open with reason"));

    let path = format!("/staff/customers/{}/access", jane.id);
    let refused = app.page_post(&path, &agent, &[("reason", "T-88")]).await;
    assert_eq!(refused.status(), 422);
    // The reason comes back as typed, with its problem beside the field and in the summary.
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("There is a problem with the reason"),
        "{refused}"
    );
    assert!(refused.contains(r#"id="reason-error""#) && refused.contains(">T-88</textarea>"));
    let opened = app
        .page_post(
            &path,
            &agent,
            &[("reason", "T-88: customer called about her phone number")],
        )
        .await;
    assert_eq!(opened.status(), 303);
    let page = app
        .page_get(&format!("/staff/customers/{}", jane.id), &agent.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Jane Doe") && page.contains("+1 555 123 4589"),
        "unmasked"
    );

    // A cross-site post cannot open anyone's data.
    let forged = app
        .client
        .post(app.url(&path))
        .header("cookie", &agent.cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf", agent.csrf.as_str()),
            ("reason", "T-1: forged by another site"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let own = app.page_session(&mut jane).await;
    let account = app.page_get("/account", &own.cookie).await.text().await.unwrap();
    assert!(account.contains("Who looked at your data"));
    assert!(account.contains("T-88: customer called about her phone number"));
    assert!(account.contains("support"));
}

#[tokio::test]
async fn an_agent_cannot_hold_more_than_ten_customers_open_and_leaving_the_role_closes_them() {
    let app = spawn_app().await;
    let support = app.member("sam@example.com", Role::Support).await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let jane = customer(&app).await;
    assert_eq!(
        open(&app, &support, &jane, "T-1: first ticket of the day")
            .await
            .status(),
        201
    );
    for i in 0..9 {
        let id = app
            .create_user(&format!("c{i}@example.com"), Role::Customer)
            .await;
        let response = app
            .api(
                "POST",
                &format!("/api/v1/staff/customers/{id}/access"),
                &support.token,
                Some(json!({"reason": format!("T-{i}: routine help")})),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let eleventh = app.create_user("c10@example.com", Role::Customer).await;
    let (status, code) = problem_code(
        app.api(
            "POST",
            &format!("/api/v1/staff/customers/{eleventh}/access"),
            &support.token,
            Some(json!({"reason": "T-11: one customer too many"})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "too_many_grants"));

    // Moved to sales: every open grant closes with the role change.
    let changed = app
        .api(
            "PATCH",
            &format!("/api/v1/admin/staff/{}", support.id),
            &admin.token,
            Some(json!({"role": "sales"})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let accesses: Value = app
        .api("GET", "/api/v1/me/data-access", &jane.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(accesses["items"][0]["ended_at"].as_str().is_some(), "{accesses}");
    let events = app.audit_actions(&admin, "staff.role_changed").await;
    assert_eq!(events[0]["details"]["grants"], 10);
}
