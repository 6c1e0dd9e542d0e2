//! Browser sessions (S-AU-5, S-AC-8): `__Host-` cookie, idle and absolute timeouts by role,
//! CSRF tokens on signed-in forms, and the sign-in pages.

use std::time::Duration;

use sunbridge::access::Role;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use serde_json::Value;

/// Signs in through the page; returns the session cookie (`name=value`).
async fn page_sign_in(app: &TestApp, email: &str) -> String {
    let response = app
        .client
        .post(app.url("/login"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    assert_eq!(response.headers()["location"], "/start");
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-sunbridge-session="))
        .expect("session cookie");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(session.contains(attribute), "{attribute} missing from {session}");
    }
    assert!(!session.contains("Domain="), "__Host- cookies have no Domain");
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-sunbridge-device=")),
        "known-device cookie"
    );
    session.split(';').next().unwrap().to_owned()
}

async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

fn csrf_from(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("a CSRF field") + r#"name="csrf" value=""#.len();
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn signing_in_on_the_page_sets_a_host_cookie_that_opens_the_account() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    assert_eq!(
        app.get("/account").await.headers()["location"],
        "/login?next=%2Faccount",
        "signed out: to the sign-in page, and back"
    );

    let cookie = page_sign_in(&app, "ann@example.com").await;
    let account = get_with_cookie(&app, "/account", &cookie).await;
    assert_eq!(account.status(), 200);
    assert_eq!(account.headers()["cache-control"], "no-store");
    let html = account.text().await.unwrap();
    assert!(html.contains("ann@example.com"));
    assert!(
        html.contains("This device"),
        "the session list marks the current session"
    );
    // The cookie is not an API credential.
    assert_eq!(get_with_cookie(&app, "/api/v1/me", &cookie).await.status(), 401);
}

#[tokio::test]
async fn wrong_passwords_on_the_page_are_throttled_like_the_api() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    for _ in 0..5 {
        let response = app
            .client
            .post(app.url("/login"))
            .header("sec-fetch-site", "same-origin")
            .form(&[("email", "ann@example.com"), ("password", "not my password")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Wrong email or password.")
        );
    }
    let blocked = app
        .client
        .post(app.url("/login"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", "ann@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 429);
}

#[tokio::test]
async fn signed_in_forms_need_the_csrf_token_and_the_same_origin() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let cookie = page_sign_in(&app, "ann@example.com").await;
    let csrf = csrf_from(
        &get_with_cookie(&app, "/account", &cookie)
            .await
            .text()
            .await
            .unwrap(),
    );
    let logout = |site: &'static str, token: String| {
        app.client
            .post(app.url("/logout"))
            .header("cookie", cookie.clone())
            .header("sec-fetch-site", site)
            .form(&[("csrf", token)])
            .send()
    };
    assert_eq!(
        logout("same-origin", String::new()).await.unwrap().status(),
        403,
        "no token"
    );
    assert_eq!(
        logout("same-origin", "0".repeat(64)).await.unwrap().status(),
        403,
        "wrong token"
    );
    assert_eq!(
        logout("cross-site", csrf.clone()).await.unwrap().status(),
        403,
        "cross-site"
    );
    assert_eq!(
        get_with_cookie(&app, "/account", &cookie).await.status(),
        200,
        "still signed in"
    );

    let done = logout("same-origin", csrf).await.unwrap();
    assert_eq!(done.status(), 303);
    assert!(
        done.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        get_with_cookie(&app, "/account", &cookie).await.status(),
        303,
        "the session ended on the server"
    );
}

#[tokio::test]
async fn a_csrf_token_of_another_session_is_refused() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    app.create_user("eve@example.com", Role::Customer).await;
    let ann = page_sign_in(&app, "ann@example.com").await;
    let eve = page_sign_in(&app, "eve@example.com").await;
    let eve_csrf = csrf_from(
        &get_with_cookie(&app, "/account", &eve)
            .await
            .text()
            .await
            .unwrap(),
    );
    let forged = app
        .client
        .post(app.url("/logout"))
        .header("cookie", ann.clone())
        .form(&[("csrf", eve_csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn staff_sessions_idle_out_sooner_than_customer_sessions() {
    let app = spawn_app_with(|s| {
        s.staff_session_idle_secs = 2;
        s.session_idle_secs = 60;
    })
    .await;
    app.create_user("sam@example.com", Role::Support).await;
    app.create_user("ann@example.com", Role::Customer).await;
    let customer = page_sign_in(&app, "ann@example.com").await;
    let staff = page_sign_in(&app, "sam@example.com").await;
    assert_eq!(get_with_cookie(&app, "/account", &staff).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        get_with_cookie(&app, "/account", &staff).await.status(),
        303,
        "staff idled out"
    );
    assert_eq!(
        get_with_cookie(&app, "/account", &customer).await.status(),
        200,
        "customer still in"
    );
}

#[tokio::test]
async fn browser_sessions_end_at_the_absolute_timeout_however_active() {
    let app = spawn_app_with(|s| s.session_absolute_secs = 3).await;
    app.create_user("ann@example.com", Role::Customer).await;
    let cookie = page_sign_in(&app, "ann@example.com").await;
    for _ in 0..3 {
        assert_eq!(get_with_cookie(&app, "/account", &cookie).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(get_with_cookie(&app, "/account", &cookie).await.status(), 303);
}

#[tokio::test]
async fn a_staff_member_without_a_second_factor_sees_only_the_enrolment() {
    let app = spawn_app().await;
    app.create_user("sam@example.com", Role::Support).await;
    let cookie = page_sign_in(&app, "sam@example.com").await;
    let html = get_with_cookie(&app, "/account", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Staff accounts need two-step sign-in"));
    assert!(!html.contains("Change password"), "nothing but enrolment");
    let csrf = csrf_from(&html);
    let change = app
        .client
        .post(app.url("/account/password"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "amber quartz heron meadow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 403);
}

#[tokio::test]
async fn the_sign_up_page_creates_an_account_and_mails_the_link() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/signup"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", "new@example.com"),
            ("name", "New Person"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Check your email"));
    app.wait_for_mail("new@example.com", 1).await;

    let weak = app
        .client
        .post(app.url("/signup"))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", "weak@example.com"),
            ("name", "Weak"),
            ("password", "password1234"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    let html = weak.text().await.unwrap();
    assert!(html.contains("too easy to guess"), "the page says what to change");
    assert!(
        html.contains(r#"value="weak@example.com""#),
        "what was typed is kept"
    );
}

#[tokio::test]
async fn the_password_form_shows_a_wrong_current_password_and_a_weak_new_one_at_once() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let cookie = page_sign_in(&app, "ann@example.com").await;
    let csrf = csrf_from(
        &get_with_cookie(&app, "/account", &cookie)
            .await
            .text()
            .await
            .unwrap(),
    );
    let response = app
        .client
        .post(app.url("/account/password"))
        .header("cookie", cookie.clone())
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", "not-the-password-at-all"),
            ("new_password", "password1234"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("There are 2 problems with the password change"),
        "{html}"
    );
    assert!(html.contains(r#"id="current-password-error">Your current password is not right."#));
    assert!(html.contains(r#"id="new-password-error""#) && html.contains("too easy to guess"));
    // Passwords are never sent back.
    assert!(!html.contains("not-the-password-at-all") && !html.contains("password1234"));
    // The right current password and a weak new one: only the new one is named, nothing changes.
    let response = app
        .client
        .post(app.url("/account/password"))
        .header("cookie", cookie.clone())
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "password1234"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("There is a problem with the password change"));
    assert!(!html.contains(r#"id="current-password-error""#));
    assert_eq!(app.login("ann@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn re_authenticating_on_the_page_replaces_the_session_cookie() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let old = page_sign_in(&app, "ann@example.com").await;
    let csrf = csrf_from(
        &get_with_cookie(&app, "/account", &old)
            .await
            .text()
            .await
            .unwrap(),
    );
    let response = app
        .client
        .post(app.url("/account/password"))
        .header("cookie", old.clone())
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "amber quartz heron meadow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let new = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(
        get_with_cookie(&app, "/account", &old).await.status(),
        303,
        "the old token is void"
    );
    let page = get_with_cookie(&app, "/account?notice=password", &new).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Your password was changed"));
}

#[tokio::test]
async fn an_unconfirmed_address_can_ask_for_a_new_link_from_the_account_page() {
    let app = spawn_app().await;
    app.post_json(
        "/api/v1/auth/signup",
        serde_json::json!({"email": "new@example.com", "name": "New Person", "password": PASSWORD}),
    )
    .await;
    app.wait_for_mail("new@example.com", 1).await;
    let cookie = page_sign_in(&app, "new@example.com").await;
    let html = get_with_cookie(&app, "/account", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("not confirmed yet"));
    let csrf = csrf_from(&html);
    let resend = app
        .client
        .post(app.url("/account/verification"))
        .header("cookie", cookie.clone())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resend.status(), 303);
    let mails = app.wait_for_mail("new@example.com", 2).await;
    let token = mails[1].token("/verify-email");
    assert_eq!(
        app.post_json("/api/v1/auth/verify-email", serde_json::json!({"token": token}))
            .await
            .status(),
        204
    );
    let html = get_with_cookie(&app, "/account", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("not confirmed yet"));
}

/// Signs in on the page with `next` as the form's return address; the redirect it answers.
async fn sign_in_then(app: &TestApp, email: &str, next: &str) -> String {
    let response = app
        .client
        .post(app.url("/login"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", email), ("password", PASSWORD), ("next", next)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn signing_in_returns_to_the_page_that_asked_and_never_to_another_site() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    // A page that needs a session sends the browser to sign in, naming itself.
    let asked = app.get("/sites?from=mail").await;
    assert_eq!(asked.status(), 303);
    let login = asked.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(login, "/login?next=%2Fsites%3Ffrom%3Dmail");
    // The form carries it, and the sign-in goes there.
    let form = app.get(&login).await.text().await.unwrap();
    assert!(form.contains(r#"name="next" value="/sites?from=mail""#), "{form}");
    assert_eq!(
        sign_in_then(&app, "ann@example.com", "/sites?from=mail").await,
        "/sites?from=mail"
    );
    // Anything that could leave the site goes to the start page instead, encoded forms too.
    for hostile in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "https:%2F%2Fevil.example",
        "/\t/evil.example",
        "///evil.example",
        "/login",
        "",
    ] {
        let to = sign_in_then(&app, "ann@example.com", hostile).await;
        // What a browser would make of the Location header, resolved against our origin.
        let base = url::Url::parse("https://sunbridge.test/").unwrap();
        let resolved = base.join(&to).unwrap();
        assert_eq!(resolved.origin(), base.origin(), "{hostile} → {to}");
        assert!(
            to == "/start" || (to.starts_with('/') && !to.starts_with("//") && !to.contains('\n')),
            "{hostile} → {to}"
        );
        assert!(!to.contains("evil"), "{hostile} → {to}");
    }
}

/// The signed-out forms carry no CSRF token (there is no session to tie one to); a scanner
/// that looks only for tokens flags them. What stops a forged sign-in (logging a victim into
/// the attacker's account), sign-up or reset request is the same-origin check: a cross-site
/// post, or one from a foreign `Origin`, is refused before the handler runs, with a correct
/// password and all.
#[tokio::test]
async fn signed_out_forms_refuse_cross_site_posts() {
    let app = spawn_app().await;
    app.member("ann@example.com", Role::Customer).await;
    let forms: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/login",
            vec![("email", "ann@example.com"), ("password", PASSWORD)],
        ),
        (
            "/signup",
            vec![
                ("name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
            ],
        ),
        ("/forgot-password", vec![("email", "ann@example.com")]),
    ];
    for (path, fields) in &forms {
        let forged = |header: &'static str, value: &'static str| {
            app.client
                .post(app.url(path))
                .header(header, value)
                .form(fields)
                .send()
        };
        let cross_site = forged("sec-fetch-site", "cross-site").await.unwrap();
        assert_eq!(cross_site.status(), 403, "{path} from another site");
        assert!(
            cross_site.headers().get("set-cookie").is_none(),
            "{path}: no session from a forged post"
        );
        let foreign_origin = forged("origin", "https://evil.example").await.unwrap();
        assert_eq!(foreign_origin.status(), 403, "{path} from a foreign origin");
    }
    // The same sign-in from our own page works.
    page_sign_in(&app, "ann@example.com").await;
}

#[tokio::test]
async fn a_customer_turns_off_two_step_sign_in_after_a_step_that_says_what_it_means() {
    use crate::helpers::roles::code_at;
    let app = spawn_app().await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let enrolment: Value = app
        .api(
            "POST",
            "/api/v1/me/mfa/totp",
            &ann.token,
            Some(serde_json::json!({})),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let confirmed: Value = app
        .api(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            &ann.token,
            Some(serde_json::json!({"code": code_at(&secret, 0)})),
        )
        .await
        .json()
        .await
        .unwrap();
    ann.recovery_codes = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    ann.totp_secret = Some(secret);
    let page = app.page_session(&mut ann).await;
    let account = app.page_get("/account", &page.cookie).await.text().await.unwrap();
    assert!(account.contains(r#"href="/account/mfa/remove""#));

    // The step says what follows and asks for the password and a code.
    let step = app
        .page_get("/account/mfa/remove", &page.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(step.contains("Turn off two-step sign-in?") && step.contains("recovery codes stop working"));
    let wrong = app
        .page_post(
            "/account/mfa/remove",
            &page,
            &[("password", "not-it-at-all"), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains(r#"id="remove-password-error""#), "{wrong}");

    let code = ann.recovery_codes.pop().unwrap();
    let done = app
        .page_post(
            "/account/mfa/remove",
            &page,
            &[("password", PASSWORD), ("code", code.as_str())],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/account?notice=mfa-off");
    // Off: enrolling again is open (it was 409 `mfa_already_enabled` while on).
    let again = app
        .api(
            "POST",
            "/api/v1/me/mfa/totp",
            &ann.token,
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(again.status(), 200);
    app.wait_for_mail("ann@example.com", 1).await;

    // Staff keep their second factor: no button, no route.
    let mut sam = app.member("sam@example.com", Role::Support).await;
    let staff = app.page_session(&mut sam).await;
    let account = app
        .page_get("/account", &staff.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !account.contains("/account/mfa/remove") && account.contains("Staff accounts keep two-step sign-in")
    );
    let refused = app
        .page_post(
            "/account/mfa/remove",
            &staff,
            &[("password", PASSWORD), ("code", "000000")],
        )
        .await;
    assert_eq!(refused.status(), 303);
    assert_eq!(refused.headers()["location"], "/account#mfa-title");
    // Still on: a staff member's sign-in asks for the code.
    let again = app
        .api(
            "POST",
            "/api/v1/me/mfa/totp",
            &sam.token,
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(again.status(), 409);
}
