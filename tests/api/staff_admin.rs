//! Staff administration (S-AC-7, S-AC-4): invitations that lead to a password and a second
//! factor, role changes and disabling that act on the very next request, typed bodies that
//! refuse what a caller may not set, the access review, the pipeline and the audit trail.

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

fn staff_path(member: &Member) -> String {
    format!("/api/v1/admin/staff/{}", member.id)
}

#[tokio::test]
async fn an_invited_staff_member_sets_a_password_then_must_enrol_a_second_factor() {
    let app = spawn_app().await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let response = app
        .api(
            "POST",
            "/api/v1/admin/staff",
            &admin.token,
            Some(json!({"email": "Sam@Example.com", "name": "Sam Support", "role": "support"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let invited: Value = response.json().await.unwrap();
    assert_eq!(invited["invited"], true);
    assert_eq!(invited["role"], "support");

    // No password yet: signing in is impossible.
    assert_eq!(app.login("sam@example.com", PASSWORD).await.status(), 401);

    let mail = &app.wait_for_mail("sam@example.com", 1).await[0];
    assert!(mail.body.contains("support"), "{}", mail.body);
    let token = mail.token("/welcome");
    let form = app
        .client
        .get(app.url(&format!("/welcome?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.headers()["referrer-policy"], "no-referrer");
    let set = app
        .client
        .post(app.url("/welcome"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("token", token.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(set.text().await.unwrap().contains("Your password is set"));

    // The link works once.
    let again = app
        .client
        .post(app.url("/welcome"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("token", token.as_str()),
            ("password", "another fine long passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert!(again.text().await.unwrap().contains("does not work"));

    // Signed in, a new staff member can do nothing but enrol.
    let tokens = app.login_ok("sam@example.com").await;
    let token = tokens["access_token"].as_str().unwrap();
    let (status, code) = problem_code(
        app.api("GET", "/api/v1/staff/customers?query=abc", token, None)
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "mfa_enrolment_required"));

    let review: Value = app
        .api("GET", "/api/v1/admin/access-review", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    let sam = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["email"] == "sam@example.com")
        .unwrap();
    assert_eq!(sam["flags"], json!(["no_mfa"]), "{sam}");
    assert!(sam["last_login_at"].as_str().is_some());
    assert_eq!(review["staff_without_mfa"], 1);
}

#[tokio::test]
async fn staff_changes_need_a_fresh_reauthentication() {
    let app = spawn_app_with(|s| s.reauth_window_secs = 1).await;
    let mut admin = app.member("ada@example.com", Role::Admin).await;
    let support = app.member("sam@example.com", Role::Support).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let patch = json!({"role": "sales"});
    let (status, code) = problem_code(
        app.api("PATCH", &staff_path(&support), &admin.token, Some(patch.clone()))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (401, "reauth_required"));

    let code = admin.recovery_codes.pop().unwrap();
    let reauth = app
        .api(
            "POST",
            "/api/v1/auth/reauth",
            &admin.token,
            Some(json!({"password": PASSWORD, "code": code})),
        )
        .await;
    assert_eq!(reauth.status(), 204);
    let changed = app
        .api("PATCH", &staff_path(&support), &admin.token, Some(patch))
        .await;
    assert_eq!(changed.status(), 200);
}

#[tokio::test]
async fn a_role_change_and_a_disable_act_on_the_very_next_request() {
    let app = spawn_app().await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let mut support = app.member("sam@example.com", Role::Support).await;
    let page = app.page_session(&mut support).await;
    // Warm every cache: the next request must not be served from it.
    assert_eq!(
        app.api("GET", "/api/v1/staff/customers?query=abc", &support.token, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.api("GET", "/api/v1/staff/pipeline", &support.token, None)
            .await
            .status(),
        403
    );

    let changed = app
        .api(
            "PATCH",
            &staff_path(&support),
            &admin.token,
            Some(json!({"role": "sales"})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(
        app.api("GET", "/api/v1/staff/customers?query=abc", &support.token, None)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.api("GET", "/api/v1/staff/pipeline", &support.token, None)
            .await
            .status(),
        200
    );
    let me: Value = app
        .api("GET", "/api/v1/me", &support.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "sales");
    assert_eq!(app.page_get("/staff/customers", &page.cookie).await.status(), 403);
    assert_eq!(app.page_get("/staff/pipeline", &page.cookie).await.status(), 200);

    let disabled = app
        .api(
            "PATCH",
            &staff_path(&support),
            &admin.token,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        app.api("GET", "/api/v1/me", &support.token, None).await.status(),
        401
    );
    let page_now = app.page_get("/staff/pipeline", &page.cookie).await;
    assert_eq!(page_now.status(), 303);
    assert_eq!(page_now.headers()["location"], "/login?next=%2Fstaff%2Fpipeline");
    assert_eq!(
        app.login(&support.email, PASSWORD).await.status(),
        401,
        "a disabled account cannot sign in"
    );

    // Enabled again: the old sessions stay ended; a new sign-in works.
    let enabled = app
        .api(
            "PATCH",
            &staff_path(&support),
            &admin.token,
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(
        app.api("GET", "/api/v1/me", &support.token, None).await.status(),
        401
    );
    let login: Value = app.login(&support.email, PASSWORD).await.json().await.unwrap();
    assert_eq!(login["mfa_required"], true);

    let review: Value = app
        .api(
            "GET",
            "/api/v1/admin/audit?action=staff.disabled",
            &admin.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(review["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        review["items"][0]["details"]["sessions"], 2,
        "API and page sessions ended"
    );
}

#[tokio::test]
async fn request_bodies_accept_only_what_the_caller_may_set() {
    let app = spawn_app().await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let customer = app.member("cat@example.com", Role::Customer).await;
    let support = app.member("sam@example.com", Role::Support).await;

    // A customer cannot make themselves staff, verified or anyone else.
    for body in [
        json!({"role": "admin"}),
        json!({"email_verified": true}),
        json!({"id": admin.id.to_string()}),
        json!({"name": "Cat", "mfa_enabled": true}),
    ] {
        let (status, code) = problem_code(
            app.api("PATCH", "/api/v1/me", &customer.token, Some(body.clone()))
                .await,
        )
        .await;
        assert_eq!((status, code.as_str()), (422, "validation_failed"), "{body}");
    }
    let me: Value = app
        .api("GET", "/api/v1/me", &customer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "customer");
    let signup = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve", "role": "admin"}),
        )
        .await;
    assert_eq!(signup.status(), 422);

    // An invitation sets email, name and role; not a password, a verified flag or a factor.
    for extra in [
        json!({"password": PASSWORD}),
        json!({"email_verified": true}),
        json!({"mfa_enabled": true}),
    ] {
        let mut body = json!({"email": "new@example.com", "name": "New", "role": "support"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, _) = problem_code(
            app.api("POST", "/api/v1/admin/staff", &admin.token, Some(body))
                .await,
        )
        .await;
        assert_eq!(status, 422);
    }
    // A staff change sets role and disabled; not an email or a password.
    for body in [
        json!({"email": "x@example.com"}),
        json!({"password_hash": "x"}),
        json!({"role": "root"}),
    ] {
        let (status, _) = problem_code(
            app.api("PATCH", &staff_path(&support), &admin.token, Some(body))
                .await,
        )
        .await;
        assert_eq!(status, 422);
    }
    // Nobody is made a customer, and no customer is made staff, through this route.
    let (status, _) = problem_code(
        app.api(
            "PATCH",
            &staff_path(&support),
            &admin.token,
            Some(json!({"role": "customer"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = problem_code(
        app.api(
            "PATCH",
            &staff_path(&customer),
            &admin.token,
            Some(json!({"role": "admin"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    let me: Value = app
        .api("GET", "/api/v1/me", &customer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "customer");

    // An admin cannot lock themselves out.
    let (status, code) = problem_code(
        app.api(
            "PATCH",
            &staff_path(&admin),
            &admin.token,
            Some(json!({"disabled": true})),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "own_account"));
}

#[tokio::test]
async fn sales_sees_its_pipeline_without_contact_details() {
    let app = spawn_app().await;
    let sales = app.member("sal@example.com", Role::Sales).await;
    let jane = app.member("jane@example.com", Role::Customer).await;
    app.api(
        "PATCH",
        "/api/v1/me",
        &jane.token,
        Some(json!({"phone": "+1 555 123 4589"})),
    )
    .await;
    let pipeline: Value = app
        .api("GET", "/api/v1/staff/pipeline", &sales.token, None)
        .await
        .json()
        .await
        .unwrap();
    let text = pipeline.to_string();
    // The phone in any form it could leak in (a bare "4589" can occur inside a random id).
    assert!(
        !text.contains("jane@example.com") && !text.contains("555 123") && !text.contains("5551234589"),
        "{text}"
    );
    assert_eq!(pipeline["items"][0]["customer_id"], jane.id.to_string());
    assert_eq!(pipeline["items"][0]["stage"], "confirmed");
    let weeks = pipeline["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks.last().unwrap()["new_customers"], 1);

    let page = {
        let mut sales = sales;
        let session = app.page_session(&mut sales).await;
        app.page_get("/staff/pipeline", &session.cookie)
            .await
            .text()
            .await
            .unwrap()
    };
    assert!(
        page.contains("<svg") && page.contains("Test Person"),
        "chart and names"
    );
    assert!(!page.contains("jane@example.com"));
}

#[tokio::test]
async fn engineers_read_the_audit_trail_without_personal_data() {
    let app = spawn_app().await;
    let engineer = app.member("eng@example.com", Role::Engineer).await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let _jane = app.member("jane.doe@example.com", Role::Customer).await;
    let trail: Value = app
        .api("GET", "/api/v1/admin/audit?limit=100", &engineer.token, None)
        .await
        .json()
        .await
        .unwrap();
    let items = trail["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["action"] == "auth.login_succeeded"));
    assert!(
        items.iter().all(|e| e["client_ip"].is_null()),
        "engineers see no addresses"
    );
    assert!(!trail.to_string().contains("jane.doe"), "no emails in the trail");
    let as_admin: Value = app
        .api("GET", "/api/v1/admin/audit?limit=5", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        as_admin["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["client_ip"] == "127.0.0.1")
    );
}

#[tokio::test]
async fn the_staff_page_asks_for_a_fresh_confirmation_before_any_change() {
    let app = spawn_app_with(|s| s.reauth_window_secs = 2).await;
    let mut admin = app.member("ada@example.com", Role::Admin).await;
    let support = app.member("sam@example.com", Role::Support).await;
    let mut session = app.page_session(&mut admin).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let page = app
        .page_get("/admin/staff", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Confirm it is you") && !page.contains("Send invitation"));
    let refused = app
        .page_post(
            "/admin/staff",
            &session,
            &[
                ("name", "New Person"),
                ("email", "new@example.com"),
                ("role", "sales"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 401);

    let code = admin.recovery_codes.pop().unwrap();
    let confirmed = app
        .page_post(
            "/admin/reauth",
            &session,
            &[("password", PASSWORD), ("code", code.as_str())],
        )
        .await;
    assert_eq!(confirmed.status(), 303);
    // The confirmation replaces the session cookie.
    session.cookie = confirmed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-sunbridge-session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = app
        .page_get("/admin/staff", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Send invitation"));

    // Every problem of the invitation at once, with what was typed kept.
    let refused = app
        .page_post(
            "/admin/staff",
            &session,
            &[("name", ""), ("email", "not-an-address"), ("role", "wizard")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("There are 3 problems with the invitation"),
        "{refused}"
    );
    for field in ["invite-name", "invite-email", "invite-role"] {
        assert!(refused.contains(&format!(r#"id="{field}-error""#)), "{field}");
    }
    assert!(refused.contains(r#"value="not-an-address""#));
    // An address already in use is named beside the address.
    let taken = app
        .page_post(
            "/admin/staff",
            &session,
            &[
                ("name", "Sam Again"),
                ("email", "sam@example.com"),
                ("role", "sales"),
            ],
        )
        .await;
    assert_eq!(taken.status(), 422);
    let taken = taken.text().await.unwrap();
    assert!(taken.contains(r#"id="invite-email-error""#) && taken.contains(r#"value="Sam Again""#));

    let invited = app
        .page_post(
            "/admin/staff",
            &session,
            &[
                ("name", "New Person"),
                ("email", "new@example.com"),
                ("role", "sales"),
            ],
        )
        .await;
    assert_eq!(invited.status(), 303);
    app.wait_for_mail("new@example.com", 1).await;
    let changed = app
        .page_post(
            &format!("/admin/staff/{}", support.id),
            &session,
            &[("role", "engineer"), ("action", "role")],
        )
        .await;
    assert_eq!(changed.status(), 303);
    let me: Value = app
        .api("GET", "/api/v1/me", &support.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "engineer");

    let review = app
        .page_get("/admin/access-review", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(review.contains("new@example.com") && review.contains("Invitation pending"));

    // Disabling names the person and what follows, and waits for the yes.
    let staff_path = format!("/admin/staff/{}", support.id);
    let asked = app
        .page_post(&staff_path, &session, &[("action", "disable")])
        .await;
    assert_eq!(asked.status(), 200);
    let asked = asked.text().await.unwrap();
    assert!(
        asked.contains("account?</h1>") && asked.contains(&support.email),
        "{asked}"
    );
    assert_eq!(
        app.api("GET", "/api/v1/me", &support.token, None).await.status(),
        200
    );
    let disabled = app
        .page_post(
            &staff_path,
            &session,
            &[("action", "disable"), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(disabled.status(), 303);
    assert_eq!(disabled.headers()["location"], "/admin/staff?notice=disabled");
    assert_eq!(
        app.api("GET", "/api/v1/me", &support.token, None).await.status(),
        401
    );

    // The trail says it in words: staff by name and role, details as a list, no raw JSON.
    let trail = app
        .page_get("/admin/audit", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        trail.contains("Test Person (admin) disabled the account of Test Person."),
        "{trail}"
    );
    assert!(trail.contains("Test Person (admin) changed the role of Test Person."));
    assert!(trail.contains("<dt>Action</dt><dd>staff.disabled</dd>"));
    assert!(!trail.contains("{&quot;") && !trail.contains("{\""));
    // Narrowed to one kind of row.
    let only = app
        .page_get("/admin/audit?action=staff.disabled", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        only.contains("(admin) disabled the account of") && !only.contains("(admin) changed the role of")
    );
    assert!(only.contains(r#"<option value="staff.disabled" selected>"#));
}

#[tokio::test]
async fn an_invitation_dies_with_a_disabled_account() {
    let app = spawn_app().await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let invited: Value = app
        .api(
            "POST",
            "/api/v1/admin/staff",
            &admin.token,
            Some(json!({"email": "sam@example.com", "name": "Sam Support", "role": "support"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = app.wait_for_mail("sam@example.com", 1).await[0].token("/welcome");
    let path = format!("/api/v1/admin/staff/{}", invited["id"].as_str().unwrap());
    let disabled = app
        .api("PATCH", &path, &admin.token, Some(json!({"disabled": true})))
        .await;
    assert_eq!(disabled.status(), 200);
    let page = app
        .client
        .post(app.url("/welcome"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("token", token.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("does not work"),
        "a disabled account's invitation is dead"
    );
    assert_eq!(app.login("sam@example.com", PASSWORD).await.status(), 401);
}
