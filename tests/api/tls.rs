//! S-CR-2: `serve` speaks HTTPS itself when given a certificate and key, with HSTS.

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn the_server_speaks_https_with_hsts_when_given_a_certificate() {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();

    let app = spawn_app_with(|s| {
        s.tls_cert_file = Some(cert_path.clone());
        s.tls_key_file = Some(key_path.clone());
    })
    .await;
    assert!(app.address.starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .resolve("localhost", app.addr)
        .build()
        .unwrap();
    let response = client
        .get(format!("https://localhost:{}/", app.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );

    // Plain HTTP to the TLS port gets nothing useful.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/", app.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

#[tokio::test]
async fn a_missing_key_file_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(&dir).await;
    let mut settings = crate::helpers::test_settings(dir.path(), &database_url);
    settings.tls_cert_file = Some(dir.path().join("missing-cert.pem"));
    settings.tls_key_file = Some(dir.path().join("missing-key.pem"));
    let err = sunbridge::Application::build(settings)
        .await
        .err()
        .expect("refuses to start");
    assert!(format!("{err:#}").contains("missing-cert.pem"), "{err:#}");
}
