//! The black-box harness: the real application on port 0 with a fresh database, spoken to
//! over HTTP. SQLite in a temporary directory by default; with `SUNBRIDGE_TEST_DATABASE_URL`
//! set to a MariaDB/MySQL or PostgreSQL server, a freshly created database on that server.

pub mod client;
pub mod market;
pub mod proxy;
pub mod roles;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use sunbridge::telemetry::CapturedLogs;
use sunbridge::{Application, Settings};

/// Every log line of this test process (nextest runs each test in its own process).
pub fn logs() -> &'static CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        sunbridge::telemetry::init("debug", logs.clone()).expect("the test subscriber installs once");
        logs
    })
}

pub struct TestApp {
    pub address: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub database_url: String,
    pub data_dir: tempfile::TempDir,
    /// Where `/metrics` is served, when the settings asked for it.
    pub metrics_addr: Option<SocketAddr>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// The log lines of one request, found by the id the server returned.
    pub fn log_lines_of(&self, request_id: &str) -> Vec<serde_json::Value> {
        logs()
            .contents()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|l| l["request_id"] == request_id)
            .collect()
    }

    /// The access-log line of one request.
    pub fn access_log_line(&self, request_id: &str) -> serde_json::Value {
        self.log_lines_of(request_id)
            .into_iter()
            .find(|l| l["message"] == "request finished")
            .expect("an access log line for the request")
    }

    pub fn sqlite_file(&self) -> Option<PathBuf> {
        sunbridge::db::sqlite_path(&self.database_url)
    }
}

pub fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// Settings for a test server: debug routes on, everything else at its default.
pub fn test_settings(data_dir: &std::path::Path, database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_path_buf(),
        database_url: Some(SecretString::from(database_url.to_owned())),
        debug_routes: true,
        payment_webhook_secret: Some(SecretString::from(crate::helpers::market::WEBHOOK_SECRET)),
        // Tests make many deliberate failures from one address; the defence tests turn
        // blocking on with their own thresholds.
        block_auth_failures: 0,
        block_authz_failures: 0,
        ..Settings::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(&data_dir).await;
    let mut settings = test_settings(data_dir.path(), &database_url);
    configure(&mut settings);
    spawn_with_settings(settings, data_dir, database_url).await
}

pub async fn spawn_with_settings(
    settings: Settings,
    data_dir: tempfile::TempDir,
    database_url: String,
) -> TestApp {
    logs();
    let app = Application::build(settings).await.expect("application builds");
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let address = app.url();
    let db = app.state.db.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address,
        addr,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        database_url,
        data_dir,
        metrics_addr,
    }
}

/// The network database server under test, if any.
pub fn test_server_url() -> Option<String> {
    std::env::var("SUNBRIDGE_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// SQLite in `dir`, or a new, empty database on the configured server.
pub async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    let Some(server) = test_server_url() else {
        return format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
    };
    let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin_url = url::Url::parse(&server).expect("SUNBRIDGE_TEST_DATABASE_URL is a URL");
    let postgres = admin_url.scheme().starts_with("postgres");
    admin_url.set_path(if postgres { "/postgres" } else { "/" });
    let admin = Database::connect(admin_url.as_str())
        .await
        .expect("test database server reachable");
    // The name is ours (a UUID), never input: quoting is not a concern here.
    let create = if postgres {
        format!("CREATE DATABASE \"{name}\"")
    } else {
        format!("CREATE DATABASE `{name}`")
    };
    admin
        .execute_unprepared(&create)
        .await
        .expect("test database created");
    admin.close().await.ok();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub fn backend_name() -> &'static str {
    match test_server_url() {
        Some(url) if url.starts_with("postgres") => "postgres",
        Some(_) => "mysql",
        None => "sqlite",
    }
}

/// One message the server sent, decoded.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl SentMail {
    /// The first link in the body that contains `path`.
    pub fn link_to(&self, path: &str) -> String {
        self.body
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(path))
            .unwrap_or_else(|| panic!("no link to {path} in:\n{}", self.body))
            .to_owned()
    }

    pub fn token(&self, path: &str) -> String {
        let link = url::Url::parse(&self.link_to(path)).unwrap();
        link.query_pairs()
            .find(|(k, _)| k == "token")
            .unwrap()
            .1
            .into_owned()
    }
}

impl TestApp {
    /// Every mail written by the file transport so far, oldest first.
    pub fn sent_mail(&self) -> Vec<SentMail> {
        let dir = self.data_dir.path().join("mail");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            // The file transport writes a message in place: one being written is read as
            // empty or cut short, and is left for the next look (callers poll).
            .filter_map(|path| {
                let raw = std::fs::read(path).ok()?;
                let message = mail_parser::MessageParser::default().parse(&raw)?;
                message.body_text(0)?;
                Some(SentMail {
                    to: message
                        .to()
                        .and_then(|a| a.first())
                        .and_then(|a| a.address())
                        .unwrap_or("")
                        .to_owned(),
                    subject: message.subject().unwrap_or("").to_owned(),
                    body: message.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Waits until `count` mails went to `to`, and returns them.
    pub async fn wait_for_mail(&self, to: &str, count: usize) -> Vec<SentMail> {
        // Up to 15 s: on a loaded machine (three databases' suites at once, password hashing on
        // both cores) the mail worker's pass can come late; a missing mail still fails.
        for _ in 0..300 {
            let mails: Vec<_> = self.sent_mail().into_iter().filter(|m| m.to == to).collect();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} mails to {to}: {:?}", self.sent_mail());
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }
}

pub const PASSWORD: &str = "violet glacier kestrel lantern";

impl TestApp {
    /// An account created the way an operator would, with `PASSWORD`.
    pub async fn create_user(&self, email: &str, role: sunbridge::access::Role) -> sunbridge::ids::UserId {
        use sunbridge::auth::{
            EmailAddress, NewAccount, Password, PasswordHasher, PersonName, create_account,
        };
        let email = EmailAddress::parse(email).unwrap();
        let name = PersonName::parse("Test Person").unwrap();
        let password = Password::parse(SecretString::from(PASSWORD.to_owned()), &[]).unwrap();
        let hash = PasswordHasher::new(1).unwrap().hash_blocking(&password).unwrap();
        let account = NewAccount {
            email,
            name,
            role,
            password_hash: Some(hash),
            email_verified: true,
        };
        create_account(&self.db, account, &sunbridge::audit::Actor::cli())
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// Signs in and returns the token response.
    pub async fn login_ok(&self, email: &str) -> serde_json::Value {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "sign-in of {email}");
        response.json().await.unwrap()
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}
