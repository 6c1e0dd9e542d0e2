//! Spent credentials and delivered mail are deleted after their retention period; live ones
//! are never touched.

use chrono::{TimeDelta, Utc};
use serde_json::json;
use sunbridge::access::Role;
use sunbridge::auth::housekeeping::sweep;

use crate::helpers::spawn_app;

#[tokio::test]
async fn housekeeping_deletes_what_has_served_its_purpose_and_nothing_live() {
    let app = spawn_app().await;
    app.create_user("ann@example.com", Role::Customer).await;
    let ended = app.login_ok("ann@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&ended)
        .send()
        .await
        .unwrap();
    let live = app.login_ok("ann@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.login("ann@example.com", "a wrong password").await;
    app.post_json(
        "/api/v1/auth/signup",
        json!({"email": "new@example.com", "name": "New", "password": crate::helpers::PASSWORD}),
    )
    .await;
    app.wait_for_mail("new@example.com", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Today nothing is old enough.
    let now = sweep(&app.db, Utc::now()).await.unwrap();
    assert_eq!(now, Default::default());
    assert_eq!(app.get_with_token("/api/v1/me", &live).await.status(), 200);

    // Two months on: the ended session, the spent tokens, the delivered mail and the stale
    // throttle counters go; the live session (30-day lifetime) has expired by then too.
    let later = sweep(&app.db, Utc::now() + TimeDelta::days(61)).await.unwrap();
    assert_eq!(later.sessions, 2, "{later:?}");
    assert!(
        later.email_tokens >= 1 && later.mail >= 1 && later.throttle >= 1,
        "{later:?}"
    );
    assert_eq!(
        sweep(&app.db, Utc::now() + TimeDelta::days(61)).await.unwrap(),
        Default::default(),
        "idempotent"
    );
    // The audit trail keeps its record.
    assert!(!sunbridge::audit::recent(&app.db, 10).await.unwrap().is_empty());
}
