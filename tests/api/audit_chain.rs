//! The tamper-evident audit trail (S-IT-1): `sunbridge audit-log verify` against a trail that is
//! intact, then edited, deleted from, inserted into, cut short, or carrying a forged checkpoint;
//! and concurrent writers extending one chain on every database.

use std::process::{Command, Output};

use sea_orm::ConnectionTrait;
use serde_json::Value;
use sunbridge::access::Role;
use sunbridge::audit::{self, Action, Actor, Details};

use crate::helpers::{TestApp, spawn_app_with};

fn verify(app: &TestApp, extra: &[&str]) -> (bool, Value) {
    let data_dir = app.data_dir.path().display().to_string();
    let mut args = vec!["audit-log", "verify", "--json"];
    args.extend_from_slice(extra);
    let out: Output = Command::new(env!("CARGO_BIN_EXE_sunbridge"))
        .args(&args)
        .env_remove("SUNBRIDGE_ENV")
        .env("SUNBRIDGE_DATABASE_URL", &app.database_url)
        .env("SUNBRIDGE_DATA_DIR", &data_dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), report)
}

/// An app with a trail of several rows and a signed checkpoint of its end.
async fn app_with_trail() -> TestApp {
    let app = spawn_app_with(|s| s.audit_checkpoint_secs = 1).await;
    // Each sign-up of a staff member writes rows: creation, sign-in, enrolment.
    app.member("admin@example.com", Role::Admin).await;
    app.member("ann@example.com", Role::Customer).await;
    let rows = count(&app, "SELECT COUNT(*) AS n FROM audit_events").await;
    assert!(rows >= 5, "{rows} rows");
    // Wait for the checkpointer to sign the end of the chain.
    for _ in 0..50 {
        let signed = count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM audit_checkpoints WHERE seq = {rows}"),
        )
        .await;
        if signed == 1 {
            return app;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no checkpoint was written");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn exec(app: &TestApp, sql: &str) {
    app.db
        .execute_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap();
}

async fn id_at(app: &TestApp, seq: i64) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT id AS n FROM audit_events WHERE seq = {seq}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn problem(report: &Value) -> (String, Option<i64>, String) {
    let p = &report["problem"];
    (
        p["kind"].as_str().unwrap_or("none").to_owned(),
        p["row_id"].as_i64(),
        p["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn an_intact_trail_verifies_with_every_row_and_checkpoint_counted() {
    let app = app_with_trail().await;
    let rows = count(&app, "SELECT COUNT(*) AS n FROM audit_events").await;
    let (ok, report) = verify(&app, &[]);
    assert!(ok, "{report}");
    assert_eq!(report["checked"].as_i64(), Some(rows));
    assert!(report["checkpoints"].as_i64().unwrap() >= 1);
    assert!(report["problem"].is_null());
    // The shipped checkpoint (position and hash) is accepted too.
    let hash = report["last_hash"].as_str().unwrap().to_owned();
    let (ok, _) = verify(&app, &["--expect-seq", &rows.to_string(), "--expect-hash", &hash]);
    assert!(ok);
}

#[tokio::test]
async fn an_edited_row_is_named() {
    let app = app_with_trail().await;
    let id = id_at(&app, 3).await;
    exec(
        &app,
        &format!("UPDATE audit_events SET action = 'auth.login_succeeded' WHERE id = {id}"),
    )
    .await;
    let (ok, report) = verify(&app, &[]);
    assert!(!ok);
    let (kind, row, message) = problem(&report);
    assert_eq!((kind.as_str(), row), ("edited", Some(id)), "{message}");
    assert!(message.contains(&format!("row {id}")));
}

#[tokio::test]
async fn a_deleted_row_is_named_by_its_position() {
    let app = app_with_trail().await;
    let after = id_at(&app, 4).await;
    exec(&app, "DELETE FROM audit_events WHERE seq = 3").await;
    let (ok, report) = verify(&app, &[]);
    assert!(!ok);
    let (kind, row, message) = problem(&report);
    assert_eq!((kind.as_str(), row), ("deleted", Some(after)), "{message}");
    assert!(message.contains("position 3 was deleted"), "{message}");
}

#[tokio::test]
async fn rows_inserted_out_of_band_are_named() {
    // A row written around the chain (no position).
    let app = app_with_trail().await;
    let now = if app.db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        "'2026-11-29T00:00:00Z'"
    } else {
        "CURRENT_TIMESTAMP"
    };
    exec(
        &app,
        &format!(
            "INSERT INTO audit_events (occurred_at, origin, action, details) VALUES ({now}, 'cli', 'staff.role_changed', '{{}}')"
        ),
    )
    .await;
    let (ok, report) = verify(&app, &[]);
    assert!(!ok);
    let (kind, row, message) = problem(&report);
    assert_eq!(kind, "inserted", "{message}");
    assert!(row.is_some());

    // A row given the next position by copying the last row's fields: its predecessor hash is
    // not the chain's.
    let app = app_with_trail().await;
    let rows = count(&app, "SELECT COUNT(*) AS n FROM audit_events").await;
    exec(
        &app,
        &format!(
            "INSERT INTO audit_events (occurred_at, origin, action, details, seq, prev_hash, hash) \
             SELECT occurred_at, origin, 'staff.role_changed', details, {}, hash, hash FROM audit_events WHERE seq = 2",
            rows + 1
        ),
    )
    .await;
    let (ok, report) = verify(&app, &[]);
    assert!(!ok);
    assert_eq!(problem(&report).0, "inserted", "{report}");
}

#[tokio::test]
async fn a_cut_off_tail_is_caught_by_the_signed_checkpoint() {
    let app = app_with_trail().await;
    let rows = count(&app, "SELECT COUNT(*) AS n FROM audit_events").await;
    // Remove the newest rows and rewind the head to the new end, as an insider would.
    exec(
        &app,
        &format!("DELETE FROM audit_events WHERE seq > {}", rows - 2),
    )
    .await;
    exec(
        &app,
        &format!(
            "UPDATE audit_chain SET seq = {0}, hash = (SELECT hash FROM (SELECT hash FROM audit_events WHERE seq = {0}) AS last) WHERE id = 1",
            rows - 2
        ),
    )
    .await;
    let (ok, report) = verify(&app, &[]);
    assert!(!ok);
    let (kind, _, message) = problem(&report);
    assert_eq!(kind, "truncated", "{message}");
    assert!(message.contains("cut off"), "{message}");

    // Deleting the checkpoints too is caught by the one kept in the shipped log.
    exec(&app, "DELETE FROM audit_checkpoints").await;
    let (ok, _) = verify(&app, &[]);
    assert!(ok, "without any checkpoint the shorter chain is consistent");
    let (ok, report) = verify(&app, &["--expect-seq", &rows.to_string(), "--expect-hash", "ab"]);
    assert!(!ok);
    assert_eq!(problem(&report).0, "truncated");
}

#[tokio::test]
async fn a_checkpoint_not_signed_with_the_key_is_refused() {
    let app = app_with_trail().await;
    exec(
        &app,
        &format!("UPDATE audit_checkpoints SET mac = '{}'", "0".repeat(64)),
    )
    .await;
    let (ok, report) = verify(&app, &[]);
    assert!(!ok);
    assert_eq!(problem(&report).0, "bad_checkpoint");
}

#[tokio::test]
async fn four_concurrent_writers_keep_one_chain() {
    let app = spawn_app_with(|s| s.audit_checkpoint_secs = 0).await;
    let before = count(&app, "SELECT COUNT(*) AS n FROM audit_events").await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let db = app.db.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..40 {
                // Each in its own transaction, as a change and its audit row are.
                let tx = sunbridge::db::begin(&db).await.unwrap();
                let details = Details::new().with("writer", w as i64).with("n", i as i64);
                audit::record(&tx, &Actor::system(), Action::CatalogChanged, None, details)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let rows = count(&app, "SELECT COUNT(*) AS n FROM audit_events").await;
    assert_eq!(rows, before + 160);
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT seq) AS n FROM audit_events").await,
        rows,
        "every row has its own position"
    );
    let (ok, report) = verify(&app, &[]);
    assert!(ok, "{report}");
    assert_eq!(report["checked"].as_i64(), Some(rows));
    assert_eq!(report["last_seq"].as_i64(), Some(rows));
}

#[tokio::test]
async fn admins_and_engineers_verify_and_filter_the_trail_through_the_api() {
    let app = app_with_trail().await;
    let engineer = app.member("eve@example.com", Role::Engineer).await;
    let customer = app.member("carl@example.com", Role::Customer).await;
    let report: Value = app
        .api("GET", "/api/v1/admin/audit/verify", &engineer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(report["problem"].is_null(), "{report}");
    assert_eq!(
        app.api("GET", "/api/v1/admin/audit/verify", &customer.token, None)
            .await
            .status(),
        403
    );
    // Filter by actor and by target.
    let by_actor: Value = app
        .api(
            "GET",
            &format!("/api/v1/admin/audit?actor_id={}", customer.id),
            &engineer.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = by_actor["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|e| e["actor_id"] == customer.id.to_string()));
    let by_target: Value = app
        .api(
            "GET",
            &format!("/api/v1/admin/audit?target_kind=user&target_id={}", customer.id),
            &engineer.token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        by_target["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["target_id"] == customer.id.to_string())
    );
    // Each row shows its place in the chain.
    assert!(items[0]["seq"].as_i64().unwrap() > 0 && items[0]["hash"].as_str().unwrap().len() == 64);
    // After tampering, the API says so too.
    exec(
        &app,
        "UPDATE audit_events SET details = '{\"x\":1}' WHERE seq = 2",
    )
    .await;
    let report: Value = app
        .api("GET", "/api/v1/admin/audit/verify", &engineer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["problem"]["kind"], "edited");
}
