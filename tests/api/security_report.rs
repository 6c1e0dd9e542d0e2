//! `sunbridge audit`: the OWASP Top 10 report of a running install passes on what holds, and
//! fails, with exit code 1 and the control named, on a tampered audit row, personal data left
//! in plaintext, a dependency with an advisory and deployment files that run as root. Admins
//! read it as a page and as JSON; nobody else does.

use std::path::Path;
use std::process::Command;

use sea_orm::ConnectionTrait;
use serde_json::Value;
use sunbridge::access::Role;

use crate::helpers::{TestApp, spawn_app_with};

struct Audit {
    ok: bool,
    report: Value,
    markdown: String,
}

/// Runs `sunbridge audit` on `app`'s database against `app` itself, on a blocking thread (the
/// tests' runtime has one thread, which the server under test needs).
async fn audit(app: &TestApp, advisory_db: &Path, deploy: &Path) -> Audit {
    let (address, database_url, data_dir) = (
        app.address.clone(),
        app.database_url.clone(),
        app.data_dir.path().to_owned(),
    );
    let (advisory_db, deploy) = (advisory_db.to_owned(), deploy.to_owned());
    tokio::task::spawn_blocking(move || run_audit(&address, &database_url, &data_dir, &advisory_db, &deploy))
        .await
        .unwrap()
}

fn run_audit(address: &str, database_url: &str, data_dir: &Path, advisory_db: &Path, deploy: &Path) -> Audit {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sunbridge"))
        .args(["audit", "--url", address, "--out"])
        .arg(out_dir.path())
        .arg("--advisory-db")
        .arg(advisory_db)
        .arg("--deploy")
        .arg(deploy)
        .env_remove("SUNBRIDGE_ENV")
        .env("SUNBRIDGE_DATABASE_URL", database_url)
        .env("SUNBRIDGE_DATA_DIR", data_dir)
        .output()
        .unwrap();
    let read = |name: &str| {
        std::fs::read_to_string(out_dir.path().join(name)).unwrap_or_else(|_| {
            panic!(
                "no {name}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    Audit {
        ok: out.status.success(),
        report: serde_json::from_str(&read("security-report.json")).unwrap(),
        markdown: read("security-report.md"),
    }
}

/// The controls of `id`, with their status and evidence.
fn controls<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["controls"].as_array().unwrap())
        .filter(|c| c["id"] == id)
        .collect()
}

fn status_of(report: &Value, id: &str, title_part: &str) -> (String, String) {
    let control = controls(report, id)
        .into_iter()
        .find(|c| c["title"].as_str().unwrap().contains(title_part))
        .unwrap_or_else(|| panic!("no {id} control titled …{title_part}…"));
    (
        control["status"].as_str().unwrap().to_owned(),
        control["evidence"].as_str().unwrap().to_owned(),
    )
}

/// An advisory database holding one advisory, against `package` below version `patched`.
fn advisory_db(package: &str, patched: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("crates").join(package);
    std::fs::create_dir_all(&crate_dir).unwrap();
    std::fs::write(
        crate_dir.join("RUSTSEC-2099-0001.md"),
        format!(
            "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\n\n[versions]\npatched = [\">= {patched}\"]\n```\n\n# Flaw in {package}\n\nA test advisory.\n"
        ),
    )
    .unwrap();
    dir
}

fn repo_deploy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

async fn app_with_checkpoint() -> TestApp {
    let app = spawn_app_with(|s| s.audit_checkpoint_secs = 1).await;
    app.member("admin@example.com", Role::Admin).await;
    app.member("ann@example.com", Role::Customer).await;
    // Let the checkpointer sign the end of the chain, so the chain check has one to verify.
    for _ in 0..50 {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM audit_checkpoints".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app
}

#[tokio::test]
async fn a_sound_install_reports_every_category_with_live_evidence_and_exits_zero() {
    let app = app_with_checkpoint().await;
    let advisories = advisory_db("a-crate-this-build-does-not-use", "1.0.0");
    let result = audit(&app, advisories.path(), &repo_deploy()).await;
    let report = &result.report;
    assert!(result.ok, "{}", result.markdown);
    let ids: Vec<&str> = report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A10"
        ]
    );
    // Nothing is left unchecked when every input is given.
    assert_eq!(
        result.markdown.matches("| not checked |").count(),
        0,
        "{}",
        result.markdown
    );
    for (id, title) in [
        ("S-AC-1", "Deny by default"),
        ("S-MC-1", "headers"),
        ("S-MC-2", "generic"),
        ("S-IN-2", "reflected"),
        ("S-IN-3", "Oversized"),
        ("S-LG-3", "not on the public port"),
        ("S-VC-1", "advisory"),
        ("S-AU-3", "throttled"),
        ("S-AU-4", "second factor"),
        ("S-CR-1", "argon2id"),
        ("S-IT-1", "Audit trail intact"),
    ] {
        let (status, evidence) = status_of(report, id, title);
        assert_eq!(status, "pass", "{id}: {evidence}");
    }
    // Plain HTTP on a test machine is a warning, not a pass.
    let (status, evidence) = status_of(report, "S-CR-2", "(live)");
    assert_eq!(status, "warn", "{evidence}");
    let (_, evidence) = status_of(report, "S-VC-1", "advisory");
    assert!(evidence.contains("1 advisories in"), "{evidence}");
    let (_, evidence) = status_of(report, "S-AU-4", "second factor");
    assert!(evidence.contains("All 1 active staff accounts"), "{evidence}");
    assert!(
        result
            .markdown
            .starts_with("# Sunbridge security report: OWASP Top 10 (2021)")
    );
    assert!(result.markdown.contains("## A10 Server-Side Request Forgery"));
}

#[tokio::test]
async fn tampering_plaintext_an_advisory_and_a_root_image_each_fail_the_report() {
    let app = app_with_checkpoint().await;
    // An edited audit row, and a phone number written around the encryption.
    for sql in [
        "UPDATE audit_events SET action = 'quote.created' WHERE seq = 2",
        "UPDATE users SET phone = '+15550100123' WHERE email = 'ann@example.com'",
    ] {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    // A crate this build locks, with an advisory no version fixes yet.
    let advisories = advisory_db("serde_yaml_ng", "99.0.0");
    // Deployment files that run as root and commit a secret's value.
    let deploy = tempfile::tempdir().unwrap();
    std::fs::write(
        deploy.path().join("Dockerfile"),
        "FROM debian:bookworm\nCOPY sunbridge /sunbridge\nEXPOSE 8080\nCMD [\"/sunbridge\", \"serve\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(deploy.path().join("kubernetes")).unwrap();
    std::fs::write(
        deploy.path().join("kubernetes/all.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sunbridge\nstringData:\n  secret_key: hunter2hunter2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sunbridge\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: sunbridge\n          image: sunbridge:latest\n",
    )
    .unwrap();
    let result = audit(&app, advisories.path(), deploy.path()).await;
    assert!(!result.ok, "a failed control exits non-zero");
    assert_eq!(result.report["status"], "fail");
    let (status, evidence) = status_of(&result.report, "S-IT-1", "Audit trail");
    assert_eq!(status, "fail");
    assert!(
        evidence.contains("TAMPERED") && evidence.contains("edited"),
        "{evidence}"
    );
    let (status, evidence) = status_of(&result.report, "S-CR-3", "encrypted at rest");
    assert_eq!(status, "fail");
    assert!(evidence.contains("users.phone 1 plaintext"), "{evidence}");
    assert!(
        !evidence.contains("+15550100123"),
        "evidence never quotes personal data"
    );
    let (status, evidence) = status_of(&result.report, "S-VC-1", "advisory");
    assert_eq!(status, "fail");
    assert!(
        evidence.contains("serde_yaml_ng") && evidence.contains("RUSTSEC-2099-0001"),
        "{evidence}"
    );
    let (status, evidence) = status_of(&result.report, "S-MC-3", "Deployment");
    assert_eq!(status, "fail");
    for finding in [
        "runs as root",
        "no HEALTHCHECK",
        "secret values committed",
        "writable root filesystem",
        "not pinned by digest",
        "1 replica",
        "no NetworkPolicy",
    ] {
        assert!(evidence.contains(finding), "{finding}: {evidence}");
    }
    assert!(
        !evidence.contains("hunter2"),
        "a committed secret's value is never repeated"
    );
    // The Markdown shows the failures where a reader looks first.
    assert!(result.markdown.contains("**Overall: FAIL**"));
    assert!(
        result
            .markdown
            .contains("| A08 Software and Data Integrity Failures | **FAIL** |")
    );
}

#[tokio::test]
async fn admins_read_the_report_as_a_page_and_as_json_and_nobody_else_does() {
    let app = spawn_app_with(|_| {}).await;
    let mut admin = app.member("admin@example.com", Role::Admin).await;
    let engineer = app.member("eli@example.com", Role::Engineer).await;
    let json: Value = app
        .api("GET", "/api/v1/admin/security/report", &admin.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["categories"].as_array().unwrap().len(), 10);
    // The server cannot probe itself, read advisories or the deployment files: it says so.
    let (status, evidence) = status_of(&json, "S-VC-1", "advisory");
    assert_eq!(status, "not_checked");
    assert!(evidence.contains("sunbridge audit --advisory-db"), "{evidence}");
    assert_eq!(status_of(&json, "S-AC-1", "Deny").0, "pass");

    let refused = app
        .api("GET", "/api/v1/admin/security/report", &engineer.token, None)
        .await;
    assert_eq!(refused.status(), 403);

    let session = app.page_session(&mut admin).await;
    let page = app.page_get("/admin/security/report", &session.cookie).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("A07 Identification and Authentication Failures"),
        "{html}"
    );
    assert!(html.contains("S-AU-3"));
    let home = app
        .page_get("/staff", &session.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains(r#"href="/admin/security/report""#));
}
