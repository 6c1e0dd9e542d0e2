//! Deny by default and one policy table (S-AC-1, S-AC-2): the role × route matrix, generated
//! from the application's own route table and policy, walked through the front door.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sunbridge::access::policy::allows;
use sunbridge::access::routes::Route;
use sunbridge::access::{Access, Role};

use crate::helpers::roles::{Member, PageSession, problem_code};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Every route the application serves with debug routes off (as in production).
fn route_table() -> Vec<Route> {
    let settings = sunbridge::Settings {
        debug_routes: false,
        ..sunbridge::Settings::default()
    };
    let limits = sunbridge::access::routes::BodyLimits::from_settings(&settings);
    sunbridge::startup::routes(&settings)
        .finish(limits)
        .1
        .routes()
        .to_vec()
}

fn is_api(route: &Route) -> bool {
    route.path.starts_with("/api/")
}

/// Routes that end the caller's own session run last, so the walk keeps its sessions.
fn ends_own_session(route: &Route) -> bool {
    matches!(route.path, "/api/v1/auth/logout" | "/logout")
}

/// A concrete path: `{id}` becomes the subject customer (never one of the callers, so
/// ending "their" sessions cannot end the walk's own).
fn concrete(route: &Route, subject: &str) -> String {
    route
        .path
        .replace("{id}", subject)
        .replace("{booking}", subject)
        .replace("{booking_id}", subject)
        .replace("{code}", "not_found")
        .replace("{file}", "missing.css")
}

async fn call_api(app: &TestApp, route: &Route, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = app.client.request(route.method.clone(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if route.method != reqwest::Method::GET {
        request = request.json(&json!({}));
    }
    let response = request.send().await.unwrap();
    // An event stream answers its headers and stays open: its status is the answer.
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return (response.status().as_u16(), String::new());
    }
    problem_code(response).await
}

async fn call_page(app: &TestApp, route: &Route, path: &str, session: Option<&PageSession>) -> (u16, String) {
    let mut request = app.client.request(route.method.clone(), app.url(path));
    if let Some(session) = session {
        request = request.header("cookie", &session.cookie);
    }
    if route.method != reqwest::Method::GET {
        let csrf = session.map(|s| s.csrf.clone()).unwrap_or_default();
        request = request
            .header("sec-fetch-site", "same-origin")
            .form(&[("csrf", csrf.as_str())]);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location)
}

struct Caller {
    member: Member,
    page: PageSession,
}

#[tokio::test]
async fn every_role_meets_every_route_exactly_as_the_policy_table_says() {
    // Every route, many times over with one token a role: a walk, not a flood, so the request
    // budgets (tested in rate_limits.rs) stay out of it.
    let app = spawn_app_with(|s| s.rate_limits = false).await;
    let subject = app
        .create_user("subject@example.com", Role::Customer)
        .await
        .to_string();
    let mut callers = Vec::new();
    for role in Role::ALL {
        let mut member = app.member(&format!("{role}@example.com"), role).await;
        let page = app.page_session(&mut member).await;
        callers.push(Caller { member, page });
    }
    let mut routes = route_table();
    assert!(
        routes.len() > 50,
        "the whole router is walked ({} routes)",
        routes.len()
    );
    // Pages first (the API's "end my other sessions" would end the page sessions); within
    // each, the routes that end the caller's own session last.
    routes.sort_by_key(|r| (is_api(r), ends_own_session(r), r.path, r.method.to_string()));

    let mut denied = 0;
    let mut checked = 0;
    for route in &routes {
        let path = concrete(route, &subject);
        let what = format!("{} {}", route.method, route.path);
        match route.access {
            Access::Public => {
                let (status, code) = if is_api(route) {
                    call_api(&app, route, &path, None).await
                } else {
                    call_page(&app, route, &path, None).await
                };
                // (A sign-in form may answer 401 "wrong password"; that is not a refusal.)
                assert!(
                    status != 403 && code != "unauthorized",
                    "{what} is public but answered {status} {code}"
                );
                checked += 1;
            }
            Access::Needs(permission) => {
                // Nobody signed in: 401 for the API, the sign-in page for browsers.
                if is_api(route) {
                    let (status, _) = call_api(&app, route, &path, None).await;
                    assert_eq!(status, 401, "{what} without a token");
                } else {
                    let (status, location) = call_page(&app, route, &path, None).await;
                    assert_eq!(status, 303, "{what} signed out");
                    // A page asked for by GET is returned to after signing in; a form is not
                    // replayed.
                    let expected = if route.method == "GET" && path != "/start" {
                        let sent = url::Url::parse(&app.url(&path)).unwrap();
                        format!(
                            "/login?next={}",
                            url::form_urlencoded::byte_serialize(sent.path().as_bytes()).collect::<String>()
                        )
                    } else {
                        "/login".to_owned()
                    };
                    assert_eq!(location, expected, "{what} signed out");
                }
                for caller in &callers {
                    let role = caller.member.role;
                    let allowed = allows(role, permission);
                    let (status, detail) = if is_api(route) {
                        call_api(&app, route, &path, Some(&caller.member.token)).await
                    } else {
                        call_page(&app, route, &path, Some(&caller.page)).await
                    };
                    if allowed {
                        let refused = status == 401
                            || (status == 403 && (detail == "forbidden" || !is_api(route)))
                            || detail == "/login";
                        assert!(
                            !refused,
                            "{role} may {permission} but {what} answered {status} {detail}"
                        );
                    } else {
                        assert_eq!(
                            status, 403,
                            "{role} lacks {permission} but {what} answered {status}"
                        );
                        if is_api(route) {
                            assert_eq!(detail, "forbidden", "{what} for {role}");
                        }
                        denied += 1;
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(denied > 20, "the matrix has refusals to check ({denied})");

    // Every refusal is an audited authorization failure. (The walk ended its own sessions:
    // a new admin reads the trail.)
    let auditor = app.member("auditor@example.com", Role::Admin).await;
    let mut recorded = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/admin/audit?action=access.denied&limit=100".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .api("GET", &path, &auditor.token, None)
            .await
            .json()
            .await
            .unwrap();
        recorded += page["items"].as_array().map(Vec::len).unwrap_or(0);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        recorded, denied,
        "one access.denied row per refusal ({checked} checks)"
    );
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_description_and_every_route_is_declared_once() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let routes = route_table();
    let mut seen = BTreeSet::new();
    for route in &routes {
        assert!(
            seen.insert((route.method.to_string(), route.path)),
            "{} {} declared twice",
            route.method,
            route.path
        );
        if is_api(route) {
            let method = route.method.as_str().to_lowercase();
            assert!(
                doc["paths"][route.path][&method].is_object(),
                "{} {} is not in the OpenAPI document",
                route.method,
                route.path
            );
        }
    }
}

#[tokio::test]
async fn an_undeclared_method_on_a_declared_path_is_refused_before_any_handler() {
    let app = spawn_app().await;
    let response = app.client.put(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, PATCH");
}
