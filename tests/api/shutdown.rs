//! SIGTERM lets in-flight requests finish, then the process exits cleanly.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the real binary on a free port and returns it with its base URL.
pub async fn start_binary(envs: &[(&str, String)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sunbridge"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the sunbridge binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("running at ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the server exited before it was listening");
    })
    .await
    .expect("the server starts within a minute");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(&dir).await;
    let (mut child, url) = start_binary(&[
        ("SUNBRIDGE_DATA_DIR", dir.path().display().to_string()),
        ("SUNBRIDGE_DATABASE_URL", database_url),
        ("SUNBRIDGE_DEBUG_ROUTES", "true".into()),
    ])
    .await;
    let client = reqwest::Client::new();
    let slow = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { client.get(format!("{url}/__test/slow?ms=1500")).send().await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let response = slow
        .await
        .unwrap()
        .expect("the in-flight request was answered, not dropped");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "slept 1500 ms");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        client.get(format!("{url}/healthz")).send().await.is_err(),
        "no longer accepting"
    );
}

/// A relay that takes `pause` to accept each message, and says when a message's text has
/// arrived (the sender is then waiting for the relay's answer).
async fn slow_relay(
    listener: tokio::net::TcpListener,
    pause: Duration,
    arrived: tokio::sync::mpsc::Sender<()>,
) {
    use tokio::io::AsyncWriteExt;
    while let Ok((stream, _)) = listener.accept().await {
        let arrived = arrived.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"220 relay ESMTP\r\n").await;
            while let Ok(Some(line)) = lines.next_line().await {
                let command = line.to_ascii_uppercase();
                if command.starts_with("DATA") {
                    let _ = write.write_all(b"354 send it\r\n").await;
                    while let Ok(Some(data)) = lines.next_line().await {
                        if data == "." {
                            break;
                        }
                    }
                    let _ = arrived.send(()).await;
                    tokio::time::sleep(pause).await;
                    let _ = write.write_all(b"250 queued\r\n").await;
                } else if command.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    let _ = write.write_all(b"250 ok\r\n").await;
                }
            }
        });
    }
}

#[tokio::test]
async fn sigterm_lets_the_mail_being_sent_finish_before_the_process_exits() {
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = relay.local_addr().unwrap().port();
    let (arrived, mut sending) = tokio::sync::mpsc::channel(4);
    tokio::spawn(slow_relay(relay, Duration::from_secs(2), arrived));
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(&dir).await;
    let (mut child, url) = start_binary(&[
        ("SUNBRIDGE_DATA_DIR", dir.path().display().to_string()),
        ("SUNBRIDGE_DATABASE_URL", database_url.clone()),
        ("SUNBRIDGE_MAIL_TRANSPORT", "smtp".into()),
        ("SUNBRIDGE_SMTP_URL", format!("smtp://127.0.0.1:{port}")),
    ])
    .await;
    let signup = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/signup"))
        .json(&serde_json::json!({
            "email": "maya@example.com",
            "name": "Maya",
            "password": crate::helpers::PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 202);
    // The worker has handed the message over and waits for the relay's answer.
    tokio::time::timeout(Duration::from_secs(30), sending.recv())
        .await
        .expect("the mail worker sends the message")
        .unwrap();
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits within the grace period")
        .unwrap();
    assert!(status.success(), "{status}");

    // The send that was under way was finished and recorded, not cut off half-way (which
    // would leave the message claimed, unsent, to go out again later).
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let db = sea_orm::Database::connect(database_url.as_str()).await.unwrap();
    let sent = Query::select()
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .from(Alias::new("mail_outbox"))
        .and_where(Expr::col(Alias::new("sent_at")).is_not_null())
        .to_owned();
    let row = db.query_one(&sent).await.unwrap().unwrap();
    assert_eq!(
        row.try_get::<i64>("", "n").unwrap(),
        1,
        "the message is recorded as sent"
    );
}
