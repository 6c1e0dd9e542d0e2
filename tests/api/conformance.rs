//! The conformance story: the same scenario on SQLite, MariaDB/MySQL and PostgreSQL (CI sets
//! `SUNBRIDGE_TEST_DATABASE_URL`), so migrations and queries cannot drift between backends.

use chrono::Utc;
use sunbridge::access::Role;
use sunbridge::audit::{self, Actor};
use sunbridge::auth::{AccountError, EmailAddress, NewAccount, PersonName, create_account};

use crate::helpers::{backend_name, spawn_app};

fn account(email: &str, role: Role) -> NewAccount {
    NewAccount {
        email: EmailAddress::parse(email).unwrap(),
        name: PersonName::parse("Zoë Ångström-O'Neil").unwrap(),
        role,
        password_hash: Some(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
                .into(),
        ),
        email_verified: false,
    }
}

#[tokio::test]
async fn conformance_accounts_and_their_audit_rows_round_trip() {
    let app = spawn_app().await;
    eprintln!("backend: {}", backend_name());
    let before = Utc::now();
    let id = create_account(&app.db, account("Ann@Example.com", Role::Support), &Actor::cli())
        .await
        .unwrap();

    // The unique email holds whatever the case, through the check or the index.
    let again = create_account(&app.db, account("ann@example.COM", Role::Customer), &Actor::cli()).await;
    assert!(matches!(again, Err(AccountError::EmailTaken)), "{again:?}");

    let events = audit::recent(&app.db, 10).await.unwrap();
    assert_eq!(events.len(), 1, "one account, one audit row: {events:?}");
    let event = &events[0];
    assert_eq!(event.action, "user.created");
    assert_eq!(event.target_kind.as_deref(), Some("user"));
    assert_eq!(event.target_id.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(event.origin, "cli");
    assert_eq!(event.details, serde_json::json!({"role": "support"}));
    // UTC instants survive each backend's column type with sub-second precision.
    let drift = (event.occurred_at - before).num_milliseconds();
    assert!((-1..5_000).contains(&drift), "occurred_at drifted by {drift} ms");
}

#[tokio::test]
async fn conformance_the_server_is_ready_on_a_fresh_database() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // Migrating again is a no-op.
    sunbridge::db::migrate(&app.db).await.unwrap();
}
