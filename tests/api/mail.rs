//! Mail through the real SMTP transport (lettre) to a local SMTP sink: a failed delivery is
//! recorded and retried, and the message arrives once the relay answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{PASSWORD, spawn_app_with};

/// Just enough SMTP to accept messages: every command is answered with success, and the
/// text between DATA and the lone "." is kept.
async fn smtp_sink(listener: TcpListener, received: Arc<Mutex<Vec<String>>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let received = received.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let _ = write.write_all(b"220 sink ESMTP\r\n").await;
            while let Ok(Some(line)) = lines.next_line().await {
                let command = line.to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                    b"250 sink\r\n"
                } else if command.starts_with("DATA") {
                    let _ = write.write_all(b"354 send it\r\n").await;
                    let mut message = String::new();
                    while let Ok(Some(data)) = lines.next_line().await {
                        if data == "." {
                            break;
                        }
                        message.push_str(&data);
                        message.push('\n');
                    }
                    received.lock().unwrap().push(message);
                    b"250 queued\r\n"
                } else if command.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    b"250 ok\r\n"
                };
                let _ = write.write_all(reply).await;
            }
        });
    }
}

/// (attempts, delivered, last error recorded) of the one queued message.
async fn outbox_row(app: &crate::helpers::TestApp) -> (i32, bool, bool) {
    let query = Query::select()
        .columns([Alias::new("attempts"), Alias::new("last_error")])
        .from(Alias::new("mail_outbox"))
        .to_owned();
    let row = app
        .db
        .query_one(&query)
        .await
        .unwrap()
        .expect("one queued message");
    let attempts = row.try_get::<i32>("", "attempts").unwrap();
    let last_error = row.try_get::<Option<String>>("", "last_error").unwrap();
    let sent = Query::select()
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .from(Alias::new("mail_outbox"))
        .and_where(Expr::col(Alias::new("sent_at")).is_not_null())
        .to_owned();
    let sent = app
        .db
        .query_one(&sent)
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
        == 1;
    (attempts, sent, last_error.is_some())
}

#[tokio::test]
async fn a_message_the_relay_refused_is_retried_and_delivered_over_smtp() {
    // A port with nobody listening yet: the first delivery fails.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|s| {
        s.mail_transport = sunbridge::config::MailTransport::Smtp;
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.mail_retry_base_secs = 1;
    })
    .await;
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            json!({"email": "maya@example.com", "name": "Maya", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        response.status(),
        202,
        "the relay being down does not fail the request"
    );

    let mut failed = false;
    // Up to 20 s: the first attempt waits for the worker's pass, which a loaded machine delays.
    for _ in 0..200 {
        let (attempts, sent, _) = outbox_row(&app).await;
        if attempts >= 1 && !sent {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed, "the first delivery was attempted and failed");

    let received = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(smtp_sink(listener, received.clone()));
    for _ in 0..150 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let messages = received.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "delivered once after the retry");
    assert!(
        messages[0].contains("Subject: Confirm your email address"),
        "{}",
        messages[0]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (attempts, sent, failed_before) = outbox_row(&app).await;
    assert!(
        sent && attempts >= 2 && !failed_before,
        "attempts {attempts}, sent {sent}"
    );
}
