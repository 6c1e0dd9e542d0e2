//! The command line: `admin create-user`, `migrate`, and production refusing unsafe settings.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

use crate::helpers::spawn_app;

fn sunbridge(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sunbridge"))
        .args(args)
        .env_remove("SUNBRIDGE_ENV")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `sunbridge` against the test app's database and data directory.
pub(crate) fn sunbridge_on(app: &crate::helpers::TestApp, args: &[&str], stdin: &str) -> Output {
    let data_dir = app.data_dir.path().display().to_string();
    sunbridge(
        args,
        &[
            ("SUNBRIDGE_DATABASE_URL", app.database_url.as_str()),
            ("SUNBRIDGE_DATA_DIR", data_dir.as_str()),
        ],
        stdin,
    )
}

pub async fn password_hash_of(app: &crate::helpers::TestApp, email: &str) -> Option<String> {
    let query = Query::select()
        .column(Alias::new("password_hash"))
        .from(Alias::new("users"))
        .and_where(Expr::col(Alias::new("email")).eq(email))
        .to_owned();
    let row = app.db.query_one(&query).await.unwrap()?;
    row.try_get::<Option<String>>("", "password_hash").unwrap()
}

#[tokio::test]
async fn admin_create_user_reads_the_password_from_stdin_and_hashes_it() {
    let app = spawn_app().await;
    let out = sunbridge_on(
        &app,
        &[
            "admin",
            "create-user",
            "--email",
            "Root@Example.com",
            "--name",
            "Ada Admin",
            "--role",
            "admin",
        ],
        "violet glacier kestrel lantern\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Created admin account"), "{stdout}");
    assert!(!stdout.contains("violet glacier"), "the password is never echoed");
    let hash = password_hash_of(&app, "root@example.com")
        .await
        .expect("account stored");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}

#[tokio::test]
async fn admin_create_user_refuses_a_weak_password_with_a_reason() {
    let app = spawn_app().await;
    let out = sunbridge_on(
        &app,
        &[
            "admin",
            "create-user",
            "--email",
            "weak@example.com",
            "--name",
            "Wes Weak",
            "--role",
            "support",
        ],
        "password1234\n",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("password refused: this password is too easy to guess"),
        "{stderr}"
    );
    assert!(!stderr.contains("password1234"), "the password is never echoed");
    assert_eq!(password_hash_of(&app, "weak@example.com").await, None);

    let out = sunbridge_on(
        &app,
        &[
            "admin",
            "create-user",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "root",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
}

#[test]
fn production_refuses_every_unsafe_default_naming_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let out = sunbridge(
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("SUNBRIDGE_ENV", "production"),
            ("SUNBRIDGE_DATA_DIR", data_dir.as_str()),
            ("SUNBRIDGE_SECRET_KEY", "CANARY-short"),
            ("SUNBRIDGE_DEBUG_ROUTES", "true"),
            ("SUNBRIDGE_LOG_LEVEL", "debug"),
        ],
        "",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "no TLS",
        "secret_key is shorter",
        "embedded SQLite",
        "mail_transport",
        "debug_routes",
        "log_level",
        "public_url must use https",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("CANARY"), "the secret's value was printed");
    assert!(
        !dir.path().join("sunbridge.db").exists(),
        "nothing was created before refusing"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "create-user", "--help"],
        vec!["seed-demo", "--help"],
    ] {
        let out = sunbridge(&args, &[], "");
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn seed_demo_makes_crews_and_one_sample_order_at_every_step_once() {
    let app = spawn_app().await;
    let out = sunbridge_on(&app, &["seed-demo"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let count_by_state = || async {
        let query = Query::select()
            .column(Alias::new("state"))
            .from(Alias::new("jobs"))
            .to_owned();
        let mut states: Vec<String> = app
            .db
            .query_all(&query)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "state").unwrap())
            .collect();
        states.sort();
        states
    };
    let mut expected: Vec<String> = sunbridge::jobs::JobState::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    expected.sort();
    assert_eq!(count_by_state().await, expected);
    // A second run adds nothing.
    let again = sunbridge_on(&app, &["seed-demo"], "");
    assert!(again.status.success());
    assert_eq!(count_by_state().await, expected);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Piedmont Crew A") && stderr.contains("13 sample orders"));
    // Every job past its survey has the survey's photos (roof, meter), and past its
    // installation the installation's (array, inverter, labels), sealed in the store.
    let past = |step: sunbridge::jobs::JobState| {
        sunbridge::jobs::JobState::ALL
            .iter()
            .filter(|s| s.position() >= step.position() && **s != sunbridge::jobs::JobState::Cancelled)
            .count()
    };
    let photos =
        2 * past(sunbridge::jobs::JobState::Surveyed) + 3 * past(sunbridge::jobs::JobState::Installed);
    let files = app.stored_files().await;
    assert_eq!(
        files.len(),
        photos,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(
        files
            .iter()
            .all(|(key, bytes)| key.starts_with("photos/") && bytes.starts_with(b"SBE1"))
    );
}

#[tokio::test]
async fn healthcheck_exits_zero_only_while_the_server_answers() {
    let app = spawn_app().await;
    let listen = format!("127.0.0.1:{}", app.addr.port());
    // The server runs on this test's runtime: probe it from another thread.
    let up = tokio::task::spawn_blocking(move || {
        sunbridge(&["healthcheck"], &[("SUNBRIDGE_LISTEN", &listen)], "")
    })
    .await
    .unwrap();
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    // A port where nothing listens.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = sunbridge(
        &["healthcheck"],
        &[("SUNBRIDGE_LISTEN", &format!("127.0.0.1:{free}"))],
        "",
    );
    assert!(!down.status.success());
}
