//! Migrations are frozen history: a database built at migration 10, with accounts and an audit
//! trail as the application of that time wrote them, migrates to the head, and today's
//! application finds what it expects. The old trail verifies as one chain with today's rows
//! after it (migration 11 hashed it with its own copy of the hash), and old accounts are found
//! by support's search (migration 16 indexed them with its own copy of the word folding).
//! Runs on SQLite, and on MariaDB and PostgreSQL in CI.

use std::process::{Command, Output};

use chrono::{TimeDelta, Utc};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Database};
use sea_orm_migration::MigratorTrait;
use serde_json::Value;
use sunbridge::access::Role;

use crate::helpers::{fresh_database_url, spawn_with_settings, test_settings};

/// The accounts of the old database: (id, email, name).
const ACCOUNTS: [(&str, &str, &str); 2] = [
    (
        "0192a5c4-0000-7000-8000-000000000001",
        "jose.nunez@example.com",
        "José Núñez",
    ),
    (
        "0192a5c4-0000-7000-8000-000000000002",
        "mary.oconnor@example.com",
        "Mary O'Connor",
    ),
];

/// Writes accounts and audit rows with the columns the tables had at migration 10.
async fn fill_at_migration_10(db: &sea_orm::DatabaseConnection) {
    let backend = db.get_database_backend();
    let then = Utc::now() - TimeDelta::days(30);
    for (id, email, name) in ACCOUNTS {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("users"))
            .columns(["id", "email", "name", "role", "created_at", "updated_at"].map(Alias::new))
            .values_panic([
                uuid::Uuid::parse_str(id).unwrap().into(),
                email.into(),
                name.into(),
                "customer".into(),
                then.into(),
                then.into(),
            ]);
        db.execute_raw(backend.build(&insert)).await.unwrap();
    }
    for (i, action) in ["user_created", "login_succeeded", "login_failed"]
        .iter()
        .enumerate()
    {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("audit_events"))
            .columns(
                [
                    "occurred_at",
                    "actor_id",
                    "actor_role",
                    "origin",
                    "client_ip",
                    "action",
                    "details",
                ]
                .map(Alias::new),
            )
            .values_panic([
                // Nanoseconds, as a clock gives them: the chain keeps microseconds.
                (then + TimeDelta::nanoseconds(1_000_000_123 * i as i64)).into(),
                uuid::Uuid::parse_str(ACCOUNTS[0].0).unwrap().into(),
                "customer".into(),
                "http".into(),
                "192.0.2.10".into(),
                (*action).into(),
                r#"{"reason":"test"}"#.into(),
            ]);
        db.execute_raw(backend.build(&insert)).await.unwrap();
    }
}

fn verify_trail(database_url: &str, data_dir: &std::path::Path) -> (bool, Value) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_sunbridge"))
        .args(["audit-log", "verify", "--json"])
        .env_remove("SUNBRIDGE_ENV")
        .env("SUNBRIDGE_DATABASE_URL", database_url)
        .env("SUNBRIDGE_DATA_DIR", data_dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), report)
}

#[tokio::test]
async fn a_database_built_at_migration_10_migrates_to_the_head_and_works() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(&data_dir).await;
    {
        let db = Database::connect(database_url.as_str()).await.unwrap();
        sunbridge::db::Migrator::up(&db, Some(10)).await.unwrap();
        let applied = sunbridge::db::Migrator::get_applied_migrations(&db)
            .await
            .unwrap();
        assert_eq!(applied.len(), 10, "built at migration 10");
        fill_at_migration_10(&db).await;
        // Today's migrations, from 11 to the head.
        sunbridge::db::Migrator::up(&db, None).await.unwrap();
        assert!(
            sunbridge::db::Migrator::get_pending_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );
        db.close().await.unwrap();
    }

    // Today's application on the migrated database.
    let settings = test_settings(data_dir.path(), &database_url);
    let app = spawn_with_settings(settings, data_dir, database_url).await;
    let support = app.member("sam@example.com", Role::Support).await;

    // The three old rows and today's form one chain, verified by today's verifier.
    let (ok, report) = verify_trail(&app.database_url, app.data_dir.path());
    assert!(ok, "{report}");
    let checked = report["checked"].as_i64().unwrap();
    assert!(checked > 3, "old and new rows are checked: {report}");

    // Old accounts are found by support's search, accents folded, by prefix.
    for (query, expected) in [
        ("jose", ACCOUNTS[0].0),
        ("nun", ACCOUNTS[0].0),
        ("o connor", ACCOUNTS[1].0),
        ("mary.oconnor", ACCOUNTS[1].0),
    ] {
        let response = app
            .api(
                "GET",
                &format!("/api/v1/staff/customers?query={}", query.replace(' ', "%20")),
                &support.token,
                None,
            )
            .await;
        assert_eq!(response.status(), 200, "{query}");
        let body: Value = response.json().await.unwrap();
        let ids: Vec<&str> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![expected], "{query}");
    }
}
