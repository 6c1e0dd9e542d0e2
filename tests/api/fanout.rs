//! A benchmark, not a test (ignored; `bench/offer_fanout.sh` runs it in a release build): one
//! server, STREAMS open offer streams of one crew, one booking; how long from the booking until
//! the last stream has the offer, and how much memory each open stream costs.

use std::time::{Duration, Instant};

use serde_json::json;
use sunbridge::access::Role;

use crate::helpers::spawn_app_with;

/// Resident memory of this process (server and clients), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bench/offer_fanout.sh"]
async fn offers_fan_out_to_many_open_streams() {
    let streams: usize = std::env::var("STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    // One crew opening a thousand streams in a burst is over any request budget: off here.
    let app = spawn_app_with(|s| s.rate_limits = false).await;
    let admin = app.member("admin@example.com", Role::Admin).await;
    let crew = app.crew(&admin, "Crew", (36.08, -79.80), 2, &[]).await;
    let ann = app.member("ann@example.com", Role::Customer).await;
    let home = json!({"label": "Home", "address": "1200 Elm Street, Greensboro NC 27401", "postal_code": "27401",
        "roof_tilt_deg": 25.0, "roof_azimuth_deg": 180.0, "max_panels": 30});
    let (_, quote) = app.quoted_home(&ann, home, 9000.0, &[]).await;
    let order = app.accept(&ann, quote["id"].as_str().unwrap()).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    app.pay_deposit(&ann, &order_id).await;
    let slot = app.first_slot(&ann, &order_id, "survey").await;

    let before = rss_kib();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let url = app.url("/api/v1/installer/offers/stream");
    let mut opened = Vec::with_capacity(streams);
    for _ in 0..streams {
        let response = client
            .get(&url)
            .bearer_auth(&crew.installer.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        opened.push(response);
    }
    // Each stream's first event (the empty list), so every stream is live before the booking.
    let mut readers = Vec::with_capacity(streams);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for mut response in opened {
        let (tx, ready_tx) = (tx.clone(), ready_tx.clone());
        readers.push(tokio::spawn(async move {
            let mut seen = String::new();
            let mut first = true;
            while let Ok(Some(chunk)) = response.chunk().await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if first && seen.contains("\n\n") {
                    first = false;
                    seen.clear();
                    let _ = ready_tx.send(());
                } else if !first && seen.contains("\"job_id\"") {
                    let _ = tx.send(Instant::now());
                    return;
                }
            }
        }));
    }
    for _ in 0..streams {
        ready_rx.recv().await.unwrap();
    }
    let open_kib = rss_kib().saturating_sub(before);

    let sent = Instant::now();
    let booked = app.as_member(&ann).orders().book(&order_id, &slot).await;
    let committed = Instant::now();
    assert!(booked.is_ok());
    let mut last = committed;
    for _ in 0..streams {
        let at = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("every stream hears of the offer")
            .unwrap();
        last = last.max(at);
    }
    println!(
        "{streams} open offer streams: the last had the offer {:.0} ms after the booking's answer \
         ({:.0} ms after it was sent); memory {:.1} KiB per open stream (server and client in one \
         process: an upper bound for the server)",
        (last - committed).as_secs_f64() * 1000.0,
        (last - sent).as_secs_f64() * 1000.0,
        open_kib as f64 / streams as f64,
    );
    for r in readers {
        r.abort();
    }
}
