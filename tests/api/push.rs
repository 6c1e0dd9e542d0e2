//! Web Push through the front door, checked against a push service stand-in on loopback (the
//! test server may call loopback: `outbound_allow_local`, which production refuses). The stand-in
//! decrypts each push with the device's own keys using Mozilla's http-ece (OpenSSL), not the
//! library that encrypted it, and checks the VAPID token's ES256 signature with OpenSSL against
//! the key the server publishes: an interoperability check in both directions. Endpoints on private,
//! loopback or metadata addresses are refused when the guard is on.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sunbridge::access::Role;

use crate::helpers::roles::{Member, problem_code};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// What the push service stand-in received: headers and body of each push, by path.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>);

/// A push service on loopback: `/gone/…` answers 410 (the device unsubscribed), anything else
/// 201 (accepted).
async fn push_service() -> (String, Received) {
    let received = Received::default();
    let store = received.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
        let store = store.clone();
        async move {
            let path = uri.path().to_owned();
            let gone = path.starts_with("/gone/");
            store.0.lock().unwrap().push((path, headers, body));
            if gone {
                StatusCode::GONE
            } else {
                StatusCode::CREATED
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// A device: its ECE key pair and auth secret, as a browser makes them.
struct Device {
    keys: ece::EcKeyComponents,
    public: Vec<u8>,
    auth: [u8; 16],
}

fn device() -> Device {
    let (pair, auth) = ece::generate_keypair_and_auth_secret().unwrap();
    Device {
        keys: pair.raw_components().unwrap(),
        public: pair.pub_as_raw().unwrap(),
        auth,
    }
}

async fn subscribe(app: &TestApp, member: &Member, endpoint: &str, device: &Device) -> reqwest::Response {
    app.api(
        "POST",
        "/api/v1/push/subscriptions",
        &member.token,
        Some(json!({
            "endpoint": endpoint,
            "keys": {"p256dh": URL_SAFE_NO_PAD.encode(&device.public), "auth": URL_SAFE_NO_PAD.encode(device.auth)},
            "device": "Test phone",
        })),
    )
    .await
}

/// Waits for `count` pushes at the stand-in.
async fn pushes(received: &Received, count: usize) -> Vec<(String, HeaderMap, Bytes)> {
    for _ in 0..100 {
        let got = received.0.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{count} pushes did not arrive");
}

/// Checks the VAPID header (RFC 8292): `vapid t=<JWT>, k=<our key>`, the JWT's ES256 signature
/// verified by OpenSSL against that key, for the push service's origin, not expired, and at
/// most 24 hours ahead, with a contact.
fn check_vapid(headers: &HeaderMap, server_key: &str, audience: &str) {
    use openssl::bn::{BigNum, BigNumContext};
    use openssl::ec::{EcGroup, EcKey, EcPoint};
    use openssl::ecdsa::EcdsaSig;
    use openssl::nid::Nid;
    let value = headers["authorization"].to_str().unwrap();
    let rest = value.strip_prefix("vapid ").expect("the vapid scheme");
    let mut token = "";
    let mut key = "";
    for part in rest.split(',').map(str::trim) {
        if let Some(t) = part.strip_prefix("t=") {
            token = t;
        } else if let Some(k) = part.strip_prefix("k=") {
            key = k;
        }
    }
    assert_eq!(key, server_key, "k= is the key the server publishes");
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(signature.len(), 64, "JWS ES256: r and s, 32 bytes each");
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let mut ctx = BigNumContext::new().unwrap();
    let point = EcPoint::from_bytes(&group, &URL_SAFE_NO_PAD.decode(key).unwrap(), &mut ctx).unwrap();
    let public = EcKey::from_public_key(&group, &point).unwrap();
    let sig = EcdsaSig::from_private_components(
        BigNum::from_slice(&signature[..32]).unwrap(),
        BigNum::from_slice(&signature[32..]).unwrap(),
    )
    .unwrap();
    let digest = openssl::sha::sha256(signed.as_bytes());
    assert!(
        sig.verify(&digest, &public).unwrap(),
        "the VAPID token verifies with the published key"
    );
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["aud"], audience, "the push service's origin");
    let exp = claims["exp"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        exp > now && exp <= now + 24 * 3600,
        "valid now, at most 24 h ahead (RFC 8292)"
    );
    assert!(claims["sub"].as_str().unwrap().starts_with("http"), "{claims}");
}

#[tokio::test]
async fn a_new_offer_is_pushed_encrypted_for_the_device_and_signed_and_a_gone_device_is_dropped() {
    let (service, received) = push_service().await;
    let app = spawn_app_with(|s| s.outbound_allow_local = true).await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let phone = device();
    let old_phone = device();
    let made = subscribe(
        &app,
        &crew.installer,
        &format!("{service}/push/crew-phone"),
        &phone,
    )
    .await;
    assert_eq!(made.status(), 201);
    assert_eq!(
        subscribe(
            &app,
            &crew.installer,
            &format!("{service}/gone/old-phone"),
            &old_phone
        )
        .await
        .status(),
        201
    );
    let listed: Value = app
        .api("GET", "/api/v1/push/subscriptions", &crew.installer.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][0]["device"], "Test phone");
    assert!(
        !listed.to_string().contains("crew-phone"),
        "the endpoint is never shown"
    );
    let key: Value = app.get("/api/v1/push/key").await.json().await.unwrap();
    let server_key = key["public_key"].as_str().unwrap().to_owned();

    // A booking makes an offer to the crew: each of its devices gets a push.
    let ann = app.member("ann@example.com", Role::Customer).await;
    let home = json!({"label": "Home", "address": "1200 Elm Street, Greensboro NC 27401", "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (_, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let order = app.accept(&ann, quote["id"].as_str().unwrap()).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    app.book_first_slot(&ann, order_id, "survey").await;
    let got = pushes(&received, 2).await;
    let (_, headers, body) = got.iter().find(|(p, ..)| p == "/push/crew-phone").unwrap();
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert!(headers["ttl"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    check_vapid(headers, &server_key, &service);
    let plain = ece::decrypt(&phone.keys, &phone.auth, body).expect("decrypts with the device's keys");
    let notice: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(notice["title"], "New job offer");
    let text = notice["body"].as_str().unwrap();
    assert!(text.starts_with("Site survey · Greensboro · "), "{text}");
    assert_eq!(notice["url"], "/installer");
    // Only what a lock screen may show.
    for private in ["Elm Street", "ann@example.com", "Test", "27401"] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    // Another device's keys cannot open it.
    assert!(ece::decrypt(&old_phone.keys, &old_phone.auth, body).is_err());

    // The device the push service called gone (410) is no longer subscribed.
    let mut left = 2;
    for _ in 0..50 {
        let listed: Value = app
            .api("GET", "/api/v1/push/subscriptions", &crew.installer.token, None)
            .await
            .json()
            .await
            .unwrap();
        left = listed["items"].as_array().unwrap().len();
        if left == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 1);
}

#[tokio::test]
async fn one_device_registering_several_times_at_once_keeps_one_subscription() {
    let (service, _received) = push_service().await;
    let app = spawn_app_with(|s| s.outbound_allow_local = true).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let phone = device();
    let endpoint = format!("{service}/push/ann-phone");
    // A page and its worker (and a retry) register the same endpoint at the same moment.
    let answers =
        futures_util::future::join_all((0..6).map(|_| subscribe(&app, &ann, &endpoint, &phone))).await;
    for answer in answers {
        assert_eq!(answer.status(), 201);
    }
    let list: Value = app
        .api("GET", "/api/v1/push/subscriptions", &ann.token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn endpoints_on_private_loopback_or_metadata_addresses_are_refused() {
    // The guard as in production: no loopback.
    let app = spawn_app().await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let phone = device();
    for endpoint in [
        "http://127.0.0.1:9/push/x",
        "https://127.0.0.1/push/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/push",
        "https://[::1]/push",
        "https://192.168.1.20/push",
        "https://localhost/push",
        "ftp://push.example.com/x",
        "https://user:pass@push.example.com/x",
    ] {
        let (status, _) = problem_code(subscribe(&app, &ann, endpoint, &phone).await).await;
        assert_eq!(status, 422, "{endpoint}");
    }
    // Keys that are not a P-256 point and a 16-byte secret are refused too.
    let refused = app
        .api(
            "POST",
            "/api/v1/push/subscriptions",
            &ann.token,
            Some(
                json!({"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}),
            ),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let anonymous = app
        .client
        .post(app.url("/api/v1/push/subscriptions"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_step_is_pushed_to_the_customer_and_signing_out_ends_the_subscription() {
    let (service, received) = push_service().await;
    let app = spawn_app_with(|s| s.outbound_allow_local = true).await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let phone = device();
    assert_eq!(
        subscribe(&app, &ann, &format!("{service}/push/ann"), &phone)
            .await
            .status(),
        201
    );
    let home = json!({"label": "Home", "address": "1200 Elm Street, Greensboro NC 27401", "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (_, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let order = app.accept(&ann, quote["id"].as_str().unwrap()).await;
    let order_id = order["id"].as_str().unwrap();
    app.pay_deposit(&ann, order_id).await;
    // The order's first step and the deposit, each a push.
    let got = pushes(&received, 2).await;
    let notices: Vec<Value> = got
        .iter()
        .map(|(_, _, body)| {
            serde_json::from_slice(&ece::decrypt(&phone.keys, &phone.auth, body).unwrap()).unwrap()
        })
        .collect();
    let paid = notices
        .iter()
        .find(|n| n["body"] == "Deposit paid")
        .expect("the deposit's push");
    assert_eq!(paid["title"], "Your solar installation");
    assert_eq!(paid["url"], format!("/orders/{order_id}"));
    drop(crew);

    // Signing out ends the session and its subscription.
    let out = app
        .api("POST", "/api/v1/auth/logout", &ann.token, Some(json!({})))
        .await;
    assert!(out.status().is_success(), "{}", out.status());
    let ann_again = app.login_ok("ann@example.com").await;
    let token = ann_again["access_token"].as_str().unwrap();
    let listed: Value = app
        .api("GET", "/api/v1/push/subscriptions", token, None)
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
}

#[tokio::test]
async fn a_browser_subscription_stops_when_its_session_idles_out() {
    let (service, received) = push_service().await;
    let app = spawn_app_with(|s| {
        s.outbound_allow_local = true;
        s.session_idle_secs = 2;
    })
    .await;
    let mut ann = app.member("ann@example.com", Role::Customer).await;
    let session = app.page_session(&mut ann).await;
    let phone = device();
    let p256dh = URL_SAFE_NO_PAD.encode(&phone.public);
    let auth = URL_SAFE_NO_PAD.encode(phone.auth);
    let endpoint = format!("{service}/push/idle-phone");
    // The web app's own route: the page's CSRF token, the browser's subscription.
    let made = app
        .page_post(
            "/push/subscriptions",
            &session,
            &[
                ("endpoint", endpoint.as_str()),
                ("p256dh", p256dh.as_str()),
                ("auth", auth.as_str()),
            ],
        )
        .await;
    assert_eq!(made.status(), 201);
    // The browser session goes unused past its idle time; the API session stays.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let home = json!({"label": "Home", "address": "1200 Elm Street, Greensboro NC 27401", "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (_, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    app.accept(&ann, quote["id"].as_str().unwrap()).await;
    for _ in 0..50 {
        let listed: Value = app
            .api("GET", "/api/v1/push/subscriptions", &ann.token, None)
            .await
            .json()
            .await
            .unwrap();
        if listed["items"].as_array().unwrap().is_empty() {
            assert!(
                received.0.lock().unwrap().is_empty(),
                "nothing reached the idle phone"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the idle session's subscription was not dropped");
}
