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
