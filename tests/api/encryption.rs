//! Encryption at rest (S-CR-3): a raw dump of the database (the SQLite file and its journal;
//! `mysqldump` or `pg_dump` of the test database) holds none of the personal values put in
//! through the front door, nor does the file store hold the photo; and a key rotation run while
//! the server is serving leaves every record readable.

use std::process::Command;

use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::Member;
use crate::helpers::{TestApp, spawn_app};

const ADDRESS: &str = "4242 Canary Lane, Greensboro NC 27401";
const PHONE: &str = "+1 919 555 0142";
const PHONE_DIGITS: &str = "9195550142";
const NOTE: &str = "Canary note: the side gate code is 8841";
const ACCESS: &str = "Canary access: keypad 5190, the dog is friendly";

/// Every byte of the database as an operator with a copy of it would have it.
fn raw_dump(app: &TestApp) -> Vec<u8> {
    if let Some(file) = app.sqlite_file() {
        let mut bytes = std::fs::read(&file).unwrap();
        for suffix in ["-wal", "-journal"] {
            if let Ok(more) = std::fs::read(format!("{}{suffix}", file.display())) {
                bytes.extend(more);
            }
        }
        return bytes;
    }
    let url = url::Url::parse(&app.database_url).unwrap();
    let name = url.path().trim_start_matches('/').to_owned();
    let out = if app.database_url.starts_with("postgres") {
        Command::new("pg_dump")
            .args(["-h", "127.0.0.1", "-U", "postgres", "--data-only", &name])
            .output()
            .unwrap()
    } else {
        Command::new("mysqldump")
            .args([
                "-h127.0.0.1",
                "-uroot",
                "--no-create-info",
                "--skip-extended-insert",
                &name,
            ])
            .output()
            .unwrap()
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A customer with a home, a phone and a job with a noted step and a photo; answers the
/// customer, the job id, the photo path, and the TOTP secret of the crew member.
async fn personal_data_through_the_front_door(app: &TestApp) -> (Member, String, String, String) {
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    assert_eq!(
        app.api("PATCH", "/api/v1/me", &ann.token, Some(json!({"phone": PHONE})))
            .await
            .status(),
        200
    );
    let home = json!({"label": "Home", "address": ADDRESS, "latitude": 36.07, "longitude": -79.79,
        "region_id": "us-nc-piedmont", "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (site, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let noted = app
        .api(
            "PUT",
            &format!("/api/v1/sites/{site}/access-notes"),
            &ann.token,
            Some(json!({"access_notes": ACCESS})),
        )
        .await;
    assert_eq!(noted.status(), 200);
    let order = app.accept(&ann, quote["id"].as_str().unwrap()).await;
    let (order_id, job) = (
        order["id"].as_str().unwrap().to_owned(),
        order["job_id"].as_str().unwrap().to_owned(),
    );
    app.pay_deposit(&ann, &order_id).await;
    app.book_first_slot(&ann, &order_id, "survey").await;
    app.accept_first_offer(&crew.installer).await;
    app.visit_done(&crew.installer, &job, "survey").await;
    let stepped = app
        .api(
            "POST",
            &format!("/api/v1/jobs/{job}/transitions"),
            &crew.installer.token,
            Some(json!({"to": "surveyed", "note": NOTE})),
        )
        .await;
    assert_eq!(stepped.status(), 200);
    // A photo whose pixels spell a recognisable run of bytes in the PNG.
    let png = {
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 64, image::Rgb([1, 2, 3])));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let form = reqwest::multipart::Form::new()
        .text("kind", "survey")
        .part("file", reqwest::multipart::Part::bytes(png).file_name("p.png"));
    let uploaded: Value = app
        .client
        .post(app.url(&format!("/api/v1/jobs/{job}/photos")))
        .bearer_auth(&crew.installer.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let photo = format!("/api/v1/jobs/{job}/photos/{}", uploaded["id"].as_str().unwrap());
    (ann, job, photo, crew.installer.totp_secret.clone().unwrap())
}

async fn everything_reads_back(app: &TestApp, ann: &Member, job: &str, photo: &str) {
    let me: Value = app
        .api("GET", "/api/v1/me", &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["phone"].as_str().map(|p| p.replace([' ', '+'], "")),
        Some(format!("1{PHONE_DIGITS}"))
    );
    let sites: Value = app
        .api("GET", "/api/v1/sites", &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sites["items"][0]["address"], ADDRESS);
    assert_eq!(sites["items"][0]["access_notes"], ACCESS);
    let detail: Value = app
        .api("GET", &format!("/api/v1/jobs/{job}"), &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["timeline"].to_string().contains(NOTE), "{detail}");
    let served = app.api("GET", photo, &ann.token, None).await;
    assert_eq!(served.status(), 200);
    assert!(image::load_from_memory(&served.bytes().await.unwrap()).is_ok());
}

#[tokio::test]
async fn a_raw_dump_of_the_database_holds_none_of_the_personal_values() {
    let app = spawn_app().await;
    let (ann, job, photo, totp_secret) = personal_data_through_the_front_door(&app).await;
    everything_reads_back(&app, &ann, &job, &photo).await;
    let dump = raw_dump(&app);
    assert!(
        contains(&dump, "ann@example.com"),
        "the dump is real: it has the (unencrypted) email"
    );
    for canary in [
        ADDRESS,
        "Canary Lane",
        PHONE,
        PHONE_DIGITS,
        NOTE,
        "gate code",
        ACCESS,
        "keypad 5190",
        totp_secret.as_str(),
    ] {
        assert!(!contains(&dump, canary), "{canary} is in the raw database");
    }
    // The stored photos (the survey's roof and meter, then one more) are ciphertext: no PNG
    // signature, no JPEG marker.
    let files = app.stored_files().await;
    assert_eq!(files.len(), 3);
    for (_, bytes) in &files {
        assert!(bytes.starts_with(b"SBE1"));
        assert!(!bytes.windows(4).any(|w| w == b"\x89PNG" || w == b"IHDR"));
    }
}

fn sunbridge(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sunbridge"))
        .args(args)
        .env_remove("SUNBRIDGE_ENV")
        .env("SUNBRIDGE_DATABASE_URL", &app.database_url)
        .env("SUNBRIDGE_DATA_DIR", app.data_dir.path())
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_key_rotation_while_the_server_runs_leaves_every_record_readable() {
    let app = spawn_app().await;
    let (ann, job, photo, _) = personal_data_through_the_front_door(&app).await;
    let listed = sunbridge(&app, &["keys", "list"]);
    let before = String::from_utf8_lossy(&listed.stdout).to_string();
    let old_key = before.split_whitespace().next().unwrap().to_owned();
    assert_eq!(before.lines().count(), 1, "{before}");

    // Rotate in another process while this server keeps writing sealed values.
    let writer = {
        let token = ann.token.clone();
        let client = app.client.clone();
        let url = app.url("/api/v1/me");
        tokio::spawn(async move {
            for i in 0..20 {
                let phone = format!("+1 919 555 {:04}", 1000 + i);
                let r = client
                    .patch(&url)
                    .bearer_auth(&token)
                    .json(&json!({"phone": phone}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    };
    let data_dir = app.data_dir.path().to_owned();
    let url = app.database_url.clone();
    let rotated = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_sunbridge"))
            .args(["keys", "rotate", "--settle-secs", "1"])
            .env_remove("SUNBRIDGE_ENV")
            .env("SUNBRIDGE_DATABASE_URL", url)
            .env("SUNBRIDGE_DATA_DIR", data_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    writer.await.unwrap();
    let said = String::from_utf8_lossy(&rotated.stdout).to_string();
    assert!(
        rotated.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(
        said.contains("sites.address: 1 re-encrypted")
            && said.contains("sites.access_notes: 1 re-encrypted")
            && said.contains("files: 3 re-encrypted"),
        "{said}"
    );
    assert!(
        said.contains(&format!("Retired (nothing uses them): {old_key}")),
        "{said}"
    );

    // The last phone written meanwhile, the home, the note, the photo: all readable.
    app.api("PATCH", "/api/v1/me", &ann.token, Some(json!({"phone": PHONE})))
        .await;
    everything_reads_back(&app, &ann, &job, &photo).await;
    let after = String::from_utf8_lossy(&sunbridge(&app, &["keys", "list"]).stdout).to_string();
    assert_eq!(after.lines().count(), 2);
    assert!(
        after
            .lines()
            .any(|l| l.starts_with(&old_key) && l.contains("retired")),
        "{after}"
    );
    // No row names the old key any more (old pages of a SQLite file may still hold ciphertext
    // under it until a VACUUM; the key stays in the ring, retired, so they remain readable).
    use sea_orm::ConnectionTrait;
    for (table, column) in [
        ("sites", "address"),
        ("users", "phone"),
        ("job_events", "note"),
        ("mfa_totp", "secret_base32"),
    ] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} LIKE 'enc:v1:{old_key}:%'");
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "{table}.{column}");
    }
}

/// Every flow that mails a link with a token: sign-up and a resent verification, a password
/// reset, a staff invitation, and an email change. Answers the addresses mailed.
async fn mail_every_link(app: &TestApp) -> Vec<&'static str> {
    let signup = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "maya@example.com", "name": "Maya", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(signup.status(), 202);
    let resend = app
        .post_json(
            "/api/v1/auth/verify-email/resend",
            json!({"email": "maya@example.com"}),
        )
        .await;
    assert!(resend.status().is_success());
    app.create_user("ann@example.com", Role::Customer).await;
    let forgot = app
        .post_json(
            "/api/v1/auth/password/forgot",
            json!({"email": "ann@example.com"}),
        )
        .await;
    assert_eq!(forgot.status(), 202);
    let admin = app.member("ada@example.com", Role::Admin).await;
    let invite = app
        .api(
            "POST",
            "/api/v1/admin/staff",
            &admin.token,
            Some(json!({"email": "sam@example.com", "name": "Sam Support", "role": "support"})),
        )
        .await;
    assert_eq!(invite.status(), 201);
    let bea = app.member("bea@example.com", Role::Customer).await;
    let changed = app
        .api(
            "PATCH",
            "/api/v1/me",
            &bea.token,
            Some(json!({"email": "bea.new@example.com"})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    vec![
        "maya@example.com",
        "ann@example.com",
        "sam@example.com",
        "bea.new@example.com",
    ]
}

/// Messages of the outbox not yet delivered.
async fn pending_mail(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let query = Query::select()
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .from(Alias::new("mail_outbox"))
        .and_where(Expr::col(Alias::new("sent_at")).is_null())
        .to_owned();
    app.db
        .query_one(&query)
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

#[tokio::test]
async fn no_emailed_token_is_readable_in_the_database_while_queued_or_after_delivery() {
    // A relay that is down: every message waits in the outbox, sealed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let queued = crate::helpers::spawn_app_with(|s| {
        s.mail_transport = sunbridge::config::MailTransport::Smtp;
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
    })
    .await;
    mail_every_link(&queued).await;
    assert!(
        pending_mail(&queued).await >= 5,
        "the messages wait for the relay"
    );
    let dump = raw_dump(&queued);
    assert!(contains(&dump, "Confirm your email address"), "the dump is real");
    for link in ["token=", "/verify-email", "/reset-password", "/welcome"] {
        assert!(!contains(&dump, link), "{link} is readable in a queued message");
    }

    // Delivered messages: the tokens reached their owners, and the database keeps none.
    let app = spawn_app().await;
    let mailed = mail_every_link(&app).await;
    let mut tokens = Vec::new();
    for to in mailed {
        for mail in app.wait_for_mail(to, 1).await {
            for word in mail.body.split_whitespace().filter(|w| w.contains("token=")) {
                let link = url::Url::parse(word).unwrap();
                let (_, token) = link.query_pairs().find(|(k, _)| k == "token").unwrap();
                tokens.push(token.into_owned());
            }
        }
    }
    assert!(tokens.len() >= 5, "every flow mailed its link: {tokens:?}");
    for _ in 0..100 {
        if pending_mail(&app).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pending_mail(&app).await, 0);
    let dump = raw_dump(&app);
    let logs = crate::helpers::logs().contents();
    for token in &tokens {
        assert!(!contains(&dump, token), "a mailed token is in the raw database");
        assert!(!logs.contains(token.as_str()), "a mailed token is in the logs");
    }
}
